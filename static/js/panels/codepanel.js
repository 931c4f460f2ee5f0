/**
 * The code panel: the current stage as a PyTorch program and as a curl call to
 * this API, both written by the server (POST /api/export/code) from the request
 * the page sends, so they give the page's numbers. With true convolution on, the
 * weight in them is the turned kernel, and the panel says so.
 */

import { ApiError } from '../core/api.js';
import * as api from '../core/api.js';
import { copyText } from '../core/clip.js';
import { applyLecture } from '../core/lecture-i18n.js';
import { exportBody, fillStages } from './exporter.js';
import { localCurl } from '../core/snippets.js';

const HTML = `
<div class="field" id="cp-stage-field"><label for="cp-stage" data-l="export.stage"></label><select id="cp-stage"></select></div>
<p class="note" id="cp-flip" data-l="code.flipNote" hidden></p>
<p class="note" id="cp-act" data-l="export.actNote" hidden></p>
<p class="note" id="cp-zero" data-l="code.zeroBased"></p>
<div class="codehead"><h3 data-l="code.pytorch"></h3><button type="button" data-copy="cp-py" data-l="share.copy"></button></div>
<pre class="code" tabindex="0"><code id="cp-py"></code></pre>
<div class="codehead"><h3 data-l="code.curl"></h3><button type="button" data-copy="cp-curl" data-l="share.copy"></button></div>
<pre class="code" tabindex="0"><code id="cp-curl"></code></pre>
<p class="status" id="cp-status" role="status"></p>
<p class="err" id="cp-err" aria-live="polite" hidden></p>`;

/** @param {HTMLElement} body @param {{app: object, L: Function}} ctx */
export function mount(body, { app, L }) {
  body.innerHTML = HTML;
  const $ = (id) => body.querySelector(`#${id}`);
  let lang = null;
  let asked = '';
  let seq = 0;

  async function load() {
    const input = app.inputTensor();
    if (!input) return;
    const stage = $('cp-stage').value;
    const req = exportBody(stage, app.state, input, app.weightTensor(input.length), app.results);
    if (!req) return;
    const key = JSON.stringify([req, lang]);
    if (key === asked) return;
    asked = key;
    const mine = ++seq;
    $('cp-status').textContent = L('code.busy');
    try {
      const code = await api.post('/api/export/code', req);
      if (mine !== seq) return;
      const flipped = stage === 'conv' && app.state.flip;
      $('cp-py').textContent = (flipped ? `${L('code.flipComment')}\n` : '') + code.pytorch;
      $('cp-curl').textContent = localCurl(code.curl, location.origin);
      $('cp-flip').hidden = !flipped;
      $('cp-err').hidden = true;
      $('cp-status').textContent = '';
    } catch (e) {
      if (mine !== seq) return;
      asked = '';
      $('cp-err').textContent = e instanceof ApiError ? api.errorText(e, app.t) : L('export.offline', { message: e.message });
      $('cp-err').hidden = false;
      $('cp-status').textContent = '';
    }
  }

  function update(newL) {
    if (newL) L = newL;
    if (lang !== app.state.lang) {
      lang = app.state.lang;
      applyLecture(body, L);
    }
    fillStages($('cp-stage'), $('cp-stage-field'), app, L);
    $('cp-act').hidden = app.state.activation === 'none';
    load();
  }

  $('cp-stage').addEventListener('change', () => load());
  for (const btn of body.querySelectorAll('[data-copy]')) {
    btn.addEventListener('click', async () => {
      const ok = await copyText($(btn.dataset.copy).textContent);
      $('cp-status').textContent = L(ok ? 'share.copied' : 'share.copyFailed');
    });
  }
  update();
  return { update };
}
