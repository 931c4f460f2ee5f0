/**
 * A lecture scene on the visualizer page (templates/_scene.html): the slide's
 * explanation follows a language switched in place, the links follow the view
 * state, and the widgets compute (feature count, weight count) or drive the page
 * (the shift buttons press the input's own tools) and read its answers.
 *
 * The page itself is main.js's; this reads its state from `window.convviz.app`
 * and listens to its events ("convviz:state" when the URL is written,
 * "convviz:computed" when answers arrive).
 */

import { fmt } from '../core/format.js';
import { applyLecture, lectureT } from '../core/lecture-i18n.js';
import { featureCount, largest, positiveInt, weightCases } from '../core/scenemath.js';
import { toQuery } from '../core/state.js';

const $ = (id) => document.getElementById(id);
const root = $('scene');
const app = () => window.convviz.app;
let lang = document.documentElement.lang;
let L = (k) => k;

/** Keep `lang` in a link's query (or drop it for English). */
function withLang(href, to) {
  const url = new URL(href, location.origin);
  if (to === 'en') url.searchParams.delete('lang');
  else url.searchParams.set('lang', to);
  return url.pathname + url.search;
}

async function onState() {
  const state = app().state;
  if (state.lang !== lang) {
    lang = state.lang;
    L = await lectureT(lang);
    applyLecture(root, L);
    const no = root.querySelector('.slide-no');
    no.textContent = L(no.dataset.l, { n: no.dataset.lN });
    document.title = `${L(`scene.${root.dataset.scene}.title`)} · convviz`;
    for (const a of root.querySelectorAll('[data-lang-link]')) a.href = withLang(a.getAttribute('href'), lang);
    features();
    weights();
    readout();
  }
  $('scene-open').href = `/${toQuery({ ...state, step: 0 })}`;
}

function features() {
  if (!$('wf-n')) return;
  const [h, w, c] = ['wf-h', 'wf-w', 'wf-c'].map((id) => positiveInt($(id).value, Number($(id).max)));
  if (h && w && c) $('wf-n').textContent = L('widget.features.result', { n: featureCount(h, w, c) });
}

function weights() {
  if (!$('wp-out')) return;
  const [K, k, D] = ['wp-k', 'wp-s', 'wp-d'].map((id) => positiveInt($(id).value, Number($(id).max)));
  if (!(K && k && D)) return;
  const n = weightCases(K, k, D);
  const lines = [L('widget.params.case1', { n: n.one }), L('widget.params.case3', { n: n.rgb }), L('widget.params.caseD', { n: n.d }), L('widget.params.bias', { k: n.bias })];
  $('wp-out').replaceChildren(...lines.map((text) => Object.assign(document.createElement('li'), { textContent: text })));
}

function readout() {
  if (!$('ws-out')) return;
  const { conv, pool } = app().results;
  if (!conv) return;
  const best = largest(conv.output[0]);
  const pooled = pool ? largest(pool.output[0]).value : null;
  $('ws-out').textContent = L('widget.shift.readout', { a: fmt(best.value), r: best.r, c: best.c, b: pooled === null ? '—' : fmt(pooled) });
}

for (const id of ['wf-h', 'wf-w', 'wf-c']) if ($(id)) $(id).addEventListener('input', features);
for (const id of ['wp-k', 'wp-s', 'wp-d']) if ($(id)) $(id).addEventListener('input', weights);
for (const btn of root.querySelectorAll('[data-shift]')) {
  btn.addEventListener('click', () => document.querySelector(`.tools [data-tool="${btn.dataset.shift}"]`).click());
}

document.addEventListener('convviz:state', onState);
window.addEventListener('popstate', onState);
document.addEventListener('convviz:computed', readout);

// A scene about the numbers themselves opens with the numeric tables shown.
if (root.dataset.tables && !$('show-tables').checked) $('show-tables').click();

lectureT(lang).then((t) => {
  L = t;
  onState();
  readout();
});
