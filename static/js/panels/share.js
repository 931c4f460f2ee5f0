/**
 * The share panel: the link to this view, the embed view's address with its
 * options, and the HTML to paste into a page or a reveal.js deck, each with a
 * copy button. The snippets are built by snippets.js (pure).
 */

import { copyText } from '../core/clip.js';
import { FONT_SCALE, THEMES, embedDefaults } from '../core/embed-options.js';
import { applyLecture } from '../core/lecture-i18n.js';
import { fmt } from '../core/format.js';
import { SPEEDS, speedText } from '../view/player.js';
import { SIZES, embedURL, iframeSnippet, revealSnippet } from '../core/snippets.js';

const HTML = `
<div class="field"><label for="sh-link" data-l="share.link"></label>
  <div class="copyrow"><input id="sh-link" type="text" readonly><button type="button" data-copy="sh-link" data-l="share.copy"></button></div></div>
<fieldset class="opts"><legend data-l="share.options"></legend>
  <div class="row">
    <div class="field check"><input id="sh-controls" type="checkbox" checked><label for="sh-controls" data-l="share.controls"></label></div>
    <div class="field check"><input id="sh-autoplay" type="checkbox"><label for="sh-autoplay" data-l="share.autoplay"></label></div>
    <div class="field check"><input id="sh-loop" type="checkbox"><label for="sh-loop" data-l="share.loop"></label></div>
  </div>
  <div class="row">
    <div class="field"><label for="sh-step" data-l="share.step"></label><input id="sh-step" type="number" min="1" step="1"></div>
    <div class="field"><label for="sh-speed" data-l="share.speed"></label><select id="sh-speed"></select></div>
    <div class="field"><label for="sh-theme" data-l="share.theme"></label><select id="sh-theme"></select></div>
    <div class="field"><label for="sh-fs" data-l="share.fontScale"></label><input id="sh-fs" type="number" min="${FONT_SCALE.min}" max="${FONT_SCALE.max}" step="0.25" value="1"></div>
    <div class="field"><label for="sh-shape" data-l="share.shape"></label><select id="sh-shape">${Object.keys(SIZES).map((k) => `<option value="${k}">${k}</option>`).join('')}</select></div>
  </div>
</fieldset>
<div class="field"><label for="sh-embed" data-l="share.embedUrl"></label>
  <div class="copyrow"><input id="sh-embed" type="text" readonly><button type="button" data-copy="sh-embed" data-l="share.copy"></button></div>
  <a id="sh-open" target="_blank" rel="noopener" data-l="share.open"></a></div>
<div class="field"><label for="sh-iframe" data-l="share.iframe"></label>
  <textarea id="sh-iframe" readonly rows="3"></textarea><button type="button" data-copy="sh-iframe" data-l="share.copy"></button></div>
<div class="field"><label for="sh-reveal" data-l="share.reveal"></label>
  <textarea id="sh-reveal" readonly rows="4"></textarea><button type="button" data-copy="sh-reveal" data-l="share.copy"></button></div>
<p class="note" data-l="share.keys"></p>
<p class="status" id="sh-status" role="status"></p>`;

/** The embed options the form holds. */
function embedOptions($) {
  const fs = Number($('sh-fs').value);
  return {
    ...embedDefaults(),
    controls: $('sh-controls').checked,
    autoplay: $('sh-autoplay').checked,
    loop: $('sh-loop').checked,
    theme: $('sh-theme').value || 'light',
    fontScale: Number.isFinite(fs) ? Math.min(FONT_SCALE.max, Math.max(FONT_SCALE.min, fs)) : 1,
  };
}

/** @param {HTMLElement} body @param {{app: object, L: Function}} ctx */
export function mount(body, { app, L }) {
  body.innerHTML = HTML;
  const $ = (id) => body.querySelector(`#${id}`);
  const touched = new Set(); // the start step and speed follow the page until edited
  let lang = null;

  function fillSelects() {
    $('sh-speed').replaceChildren(...SPEEDS.map((n) => new Option(speedText(app.t, n, fmt), String(n))));
    $('sh-theme').replaceChildren(...THEMES.map((th) => new Option(L(`theme.${th}`), th)));
  }

  function render() {
    const { state, player } = app;
    const total = Math.max(1, player.total);
    $('sh-step').max = String(total);
    if (!touched.has('step')) $('sh-step').value = String(player.step + 1);
    if (!touched.has('speed')) $('sh-speed').value = String(state.speed);
    const step = Math.min(total, Math.max(1, Math.round(Number($('sh-step').value) || 1))) - 1;
    const view = { ...state, step, speed: Number($('sh-speed').value) || state.speed };
    const url = embedURL(location.origin, view, embedOptions($));
    const [width, height] = SIZES[$('sh-shape').value] || SIZES['16:9'];
    const size = { width, height, title: app.t('app.title') };
    $('sh-link').value = location.href.replace(/#.*$/, '');
    $('sh-embed').value = url;
    $('sh-open').href = url;
    $('sh-iframe').value = iframeSnippet(url, size);
    $('sh-reveal').value = revealSnippet(url, size);
  }

  function update(newL) {
    if (newL) L = newL;
    if (lang !== app.state.lang) {
      lang = app.state.lang;
      const theme = $('sh-theme').value;
      applyLecture(body, L);
      fillSelects();
      if (theme) $('sh-theme').value = theme;
    }
    render();
  }

  for (const el of body.querySelectorAll('input:not([readonly]), select')) {
    el.addEventListener('input', () => {
      if (el.id === 'sh-step') touched.add('step');
      if (el.id === 'sh-speed') touched.add('speed');
      render();
    });
  }
  for (const btn of body.querySelectorAll('[data-copy]')) {
    btn.addEventListener('click', async () => {
      const field = $(btn.dataset.copy);
      const ok = await copyText(field.value, field);
      $('sh-status').textContent = L(ok ? 'share.copied' : 'share.copyFailed');
    });
  }
  update();
  return { update };
}
