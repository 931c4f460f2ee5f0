/**
 * The export panel: the current stage's animation as a GIF (frame time, width and
 * theme adjustable), the current frame as a PNG, the tensors as JSON. The server
 * draws them (POST /api/export/...); a refusal (too many frames, too large) is
 * shown as the server words it.
 */

import { ApiError, answer, convBody, convTransposeBody, errorText, poolBody } from '../core/api.js';
import { download, fileName } from '../core/clip.js';
import { THEMES } from '../core/embed-options.js';
import { applyLecture } from '../core/lecture-i18n.js';
import { appliedWeight } from '../core/pipeline.js';

export const WIDTHS = [640, 960, 1280, 1920];

/**
 * The body of an export request (/api/export/...) for one stage of the current
 * view: "conv" (the convolution, kernel as applied), "act" (the activation, cell
 * by cell over the convolution's output; null without one) or "pool" (the pooling,
 * over the convolution's output after its activation; null without pooling or output).
 * @param {Record<string, any>} state
 * @param {{conv: object | null, act: object | null}} results the last answers
 */
export function exportBody(stage, state, input, weight, results) {
  if (stage === 'conv' && state.transposed) return { op: 'conv_transpose2d', ...convTransposeBody(state, input, appliedWeight(state, weight)) };
  if (stage === 'conv') return { op: 'conv2d', ...convBody(state, input, appliedWeight(state, weight)), trace: false };
  if (!results.conv) return null;
  if (stage === 'act') {
    if (state.activation === 'none') return null;
    const fn = { op: 'activation', function: state.activation, input: results.conv.output };
    return state.activation === 'leaky_relu' ? { ...fn, negative_slope: state.slope } : fn;
  }
  if (state.pool === 'none') return null;
  const x = results.act ? results.act.output : results.conv.output;
  return { op: state.pool === 'max' ? 'max_pool2d' : 'avg_pool2d', ...poolBody(state, x), trace: false };
}

const HTML = `
<div class="field" id="ex-stage-field"><label for="ex-stage" data-l="export.stage"></label><select id="ex-stage"></select></div>
<p class="note" id="ex-act" data-l="export.actNote" hidden></p>
<div class="row">
  <div class="field"><label for="ex-frame" data-l="export.frameMs"></label><input id="ex-frame" type="number" min="20" max="10000" step="10" value="700"></div>
  <div class="field"><label for="ex-hold" data-l="export.holdMs"></label><input id="ex-hold" type="number" min="0" max="60000" step="10" value="2000"></div>
  <div class="field"><label for="ex-width" data-l="export.width"></label><select id="ex-width">${WIDTHS.map((w) => `<option${w === 1280 ? ' selected' : ''}>${w}</option>`).join('')}</select></div>
  <div class="field"><label for="ex-theme" data-l="export.theme"></label><select id="ex-theme"></select></div>
  <div class="field"><label for="ex-per" data-l="export.per"></label><select id="ex-per"><option value="step" data-l="export.perStep"></option><option value="row" data-l="export.perRow"></option></select></div>
</div>
<div class="tools">
  <button type="button" id="ex-gif" data-l="export.gif"></button>
  <button type="button" id="ex-png"></button>
  <button type="button" id="ex-json" data-l="export.json"></button>
</div>
<p class="status" id="ex-status" role="status"></p>
<p class="err" id="ex-err" aria-live="polite" hidden></p>
<img id="ex-preview" class="preview" hidden alt="">`;

/** The query of an export: only the numbers the endpoint takes. */
export function exportQuery(kind, { frameMs, holdMs, width, theme, step, per = 'step', lang = 'en' }) {
  const q = new URLSearchParams({ width: String(width), theme });
  // The frames' words in the page's language (English is the server's default).
  if (lang !== 'en') q.set('lang', lang);
  if (kind === 'gif') {
    q.set('frame_ms', String(frameMs));
    q.set('hold_ms', String(holdMs));
    // Any size: past the frame budget the server draws every k-th step, or one frame a row.
    if (per === 'row') q.set('per', 'row');
  }
  if (kind === 'png') q.set('step', String(step));
  return q.toString();
}

/** The stages a view can export: the convolution, then its activation and pooling if any. */
export function stagesOf(state) {
  const stages = ['conv'];
  if (state.activation !== 'none') stages.push('act');
  if (state.pool !== 'none') stages.push('pool');
  return stages;
}

const STAGE_WORDS = { conv: 'export.stageConv', act: 'export.stageAct', pool: 'export.stagePool' };

/**
 * Fill a stage select (stagesOf) and show its field only when there is a choice.
 * Keeps the choice; with none yet, `initial`.
 */
export function fillStages(select, field, app, L, initial = 'conv') {
  const stages = stagesOf(app.state);
  const keep = select.value || initial;
  select.replaceChildren(...stages.map((s) => new Option(L(STAGE_WORDS[s]), s)));
  select.value = stages.includes(keep) ? keep : 'conv';
  field.hidden = stages.length < 2;
}

/** POST `body` to an export endpoint; the answer as a Blob, or an ApiError. */
async function fetchFile(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) await answer(res); // throws the ApiError the JSON API would
  return { blob: await res.blob(), name: fileName(res.headers.get('content-disposition'), path.split('/').pop()) };
}

/** @param {HTMLElement} body @param {{app: object, L: Function}} ctx */
export function mount(body, { app, L }) {
  body.innerHTML = HTML;
  const panel = new ExportPanel(body, app, L);
  return { update: (newL) => panel.update(newL) };
}

/** The export panel's state: the language its words are in, and the last preview. */
class ExportPanel {
  constructor(body, app, L) {
    Object.assign(this, { body, app, L, lang: null, preview: '' });
    this.$ = (id) => body.querySelector(`#${id}`);
    const { $ } = this;
    for (const kind of ['gif', 'png', 'json']) $(`ex-${kind}`).addEventListener('click', () => this.run(kind, $(`ex-${kind}`)));
    $('ex-stage').addEventListener('change', () => this.update());
    this.update();
  }

  /** Steps of the convolution (the later stages' follow them in the player). */
  convSteps() {
    const g = this.app.results.conv && this.app.results.conv.geometry;
    return g ? g.steps : 0;
  }

  /** The step of the chosen stage the player shows (0-based). */
  stageStep() {
    const n = this.convSteps();
    const { app, $ } = this;
    return $('ex-stage').value === 'pool' ? Math.max(0, app.player.step - n) : Math.min(app.player.step, Math.max(0, n - 1));
  }

  update(newL) {
    const { app, body, $ } = this;
    if (newL) this.L = newL;
    const { L } = this;
    if (this.lang !== app.state.lang) {
      this.lang = app.state.lang;
      applyLecture(body, L);
      const theme = $('ex-theme').value;
      $('ex-theme').replaceChildren(...THEMES.map((th) => new Option(L(`theme.${th}`), th)));
      if (theme) $('ex-theme').value = theme;
    }
    // The stage the player is in, until one is chosen.
    fillStages($('ex-stage'), $('ex-stage-field'), app, L, app.player.step >= this.convSteps() ? 'pool' : 'conv');
    $('ex-act').hidden = app.state.activation === 'none';
    $('ex-png').textContent = L('export.png', { n: this.stageStep() + 1 });
  }

  showError(e) {
    const { $, L } = this;
    const text = e instanceof ApiError ? errorText(e, this.app.t) : L('export.offline', { message: e.message });
    $('ex-err').textContent = text;
    $('ex-err').hidden = false;
    $('ex-status').textContent = '';
  }

  async run(kind, button) {
    const { app, $, L } = this;
    const input = app.inputTensor();
    if (!input) return;
    const req = exportBody($('ex-stage').value, app.state, input, app.weightTensor(input.length), app.results);
    if (!req) return;
    const params = {
      frameMs: Number($('ex-frame').value),
      holdMs: Number($('ex-hold').value),
      width: Number($('ex-width').value),
      theme: $('ex-theme').value,
      step: this.stageStep(),
      per: $('ex-per').value,
      lang: app.state.lang,
    };
    const path = `/api/export/${kind}${kind === 'json' ? '' : `?${exportQuery(kind, params)}`}`;
    $('ex-err').hidden = true;
    $('ex-status').textContent = L('export.busy');
    button.disabled = true;
    try {
      const { blob, name } = await fetchFile(path, req);
      download(blob, name);
      $('ex-status').textContent = L('export.saved', { name, kb: Math.max(1, Math.round(blob.size / 1024)) });
      if (kind !== 'json') this.showPreview(blob, name);
    } catch (e) {
      this.showError(e);
    } finally {
      button.disabled = false;
    }
  }

  showPreview(blob, name) {
    const { $ } = this;
    if (this.preview) URL.revokeObjectURL(this.preview);
    this.preview = URL.createObjectURL(blob);
    $('ex-preview').src = this.preview;
    $('ex-preview').alt = this.L('export.preview', { name });
    $('ex-preview').hidden = false;
  }
}
