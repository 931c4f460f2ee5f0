/**
 * The digit page (/digits): draw a digit with mouse, pen or finger; at each stroke's
 * end the strokes go to POST /api/digits/forward, which redraws them as the training
 * data was made (8x8 counts 0..16) and runs the trained network. Every layer's maps,
 * the class probabilities as bars, the step view of any map, and the first layer's
 * learned filters beside the lecture's hand-made X/O filters. The drawing and the
 * open map are in the URL; every change goes through `app.update` (core/store.js), so
 * Back and Forward bring back the previous drawing and its answer.
 */

import * as api from '../core/api.js';
import { scaleFor } from '../view/colormap.js';
import { applyTo, loadLocale, pageStrings, translator } from '../core/i18n.js';
import { setViewLinks, toQuery } from '../core/state.js';
import { createStore } from '../core/store.js';
import { DIGIT_PROPS, EXAMPLES, vote } from './digitmodel.js';
import { filterCanvas, greyCanvas, zoomed } from './maps.js';
import { renderOverview } from './overview.js';
import { setupEmbed } from './embedmode.js';
import { mapActions } from './mapactions.js';
import { layerHooks, mapStepView, openMap } from './layerpage.js';
import { drawVote as drawBarsAndTable } from '../view/vote.js';
import { decodeStrokes, encodeStrokes, StrokePad } from './strokes.js';

const $ = (id) => document.getElementById(id);
const LECTURE = ['diagonal', 'centre_x', 'anti_diagonal'];
const PEN = 0.08;

const app = {
  state: null, // set by the store only (core/store.js)
  t: translator(pageStrings()),
  model: null,
  presets: null,
  answer: null,
  update: null, // the one way the state changes
};
const store = createStore(app, layerHooks(app, { compute: computeOnce, sync, draw, showStep, setLanguage }), DIGIT_PROPS);
app.update = store.update;
const parsed = store.load();

const step = mapStepView(app);

const embedShown = setupEmbed(app.state, step, () => location.pathname + toQuery({ ...app.state, embed: false }, DIGIT_PROPS), () => app.t);

/** A new drawing: its own history entry, computed again (the answer on show stays until then). */
const drawn = (strokes) => app.update({ ink: encodeStrokes(strokes) }, { history: 'push', rebuild: false });

// ---------------------------------------------------------------- computing

/** POST /api/digits/forward for the drawing (core/store.js runs one at a time, the newest wins). */
async function computeOnce() {
  const strokes = decodeStrokes(app.state.ink);
  if (!strokes.length) {
    app.answer = null;
    $('says').textContent = app.t('lab.drawFirst');
    $('says').dataset.answer = '';
    draw();
    showStep();
    return;
  }
  try {
    // Pad units (0..1) times 200: the server normalises size and position anyway.
    const body = { strokes: strokes.map((s) => s.map(([x, y]) => [x * 200, y * 200])) };
    const answer = await api.post('/api/digits/forward', body);
    if (store.stale()) return;
    app.answer = answer;
    showError(null);
  } catch (e) {
    if (store.stale()) return;
    showError(api.errorText(e, app.t));
    return;
  }
  draw();
  showStep();
}

function showError(text) {
  $('err-general').hidden = !text;
  $('err-general').textContent = text || '';
}

// ---------------------------------------------------------------- drawing the answer

function stageTitle(s, i) {
  return app.t('lab.stage', { i: i + 1, name: app.t(`lab.stage.${s.name}`), shape: s.output_shape.join(' × ') });
}

function draw() {
  const a = app.answer;
  const t = app.t;
  drawVote(a);
  const seen = (id, canvas, label) => {
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', label);
    $(id).replaceChildren(canvas);
  };
  if (!a) {
    $('seen-input').replaceChildren();
    $('seen-bitmap').replaceChildren();
    $('overview').replaceChildren();
    return;
  }
  seen('seen-input', zoomed(greyCanvas(a.input, 0, 16), 96), t('lab.seen'));
  if (a.bitmap) seen('seen-bitmap', zoomed(greyCanvas(a.bitmap, 0, 1), 96), t('lab.bitmap'));
  const cards = a.stages.map((s, i) => {
    const spatial = s.output_shape.length === 3;
    const flat = spatial ? null : s.output;
    const range = spatial ? rangeOf3(s.output) : [Math.min(...flat), Math.max(...flat)];
    const facts = [t('lab.params', { n: s.parameter_count })];
    if (s.formula) facts.push(`${s.formula.height}; ${s.formula.width}`);
    return {
      layer: i,
      title: stageTitle(s, i),
      facts,
      maps: spatial ? s.output : null,
      vector: spatial ? null : flat,
      range,
      openable: spatial,
      selected: app.state.open && app.state.open.layer === i ? app.state.open.map : undefined,
      mapName: (q) => (spatial ? t('lab.mapName', { i: i + 1, q: q + 1 }) : t('lab.vector', { i: i + 1, n: flat.length })),
    };
  });
  renderOverview($('overview'), cards, (l, m) => openMap(app, l, m), t);
}

function rangeOf3(t3) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of t3) for (const r of m) for (const v of r) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [lo, hi];
}

function drawVote(a) {
  const t = app.t;
  const table = $('vote-table');
  table.replaceChildren();
  if (!a) {
    $('bars').replaceChildren();
    $('says-near').textContent = '';
    return;
  }
  const v = vote(a);
  $('says').textContent = t('lab.says', v);
  $('says-near').textContent = t('lab.says', v); // beside the pad on a phone
  $('says').dataset.answer = v.digit;
  // Counts the answers shown, so a test can wait for the next one.
  $('says').dataset.seq = String(Number($('says').dataset.seq || 0) + 1);
  drawBarsAndTable($('bars'), table, a, [t('lab.class'), t('lab.logit'), t('lab.probability')], {
    rowClass: (c) => (c === a.prediction ? 'best' : ''),
  });
}

function showStep() {
  openStep();
  embedShown();
}

/** The open map's step view, or none. */
function openStep() {
  const o = app.state.open;
  const a = app.answer;
  if (!o || !a || !app.model || o.layer >= a.stages.length || a.stages[o.layer].output_shape.length !== 3) {
    step.hide();
    return;
  }
  const s = a.stages[o.layer];
  if (o.map >= s.output.length) {
    step.hide();
    return;
  }
  const input = o.layer === 0 ? a.scaled : a.stages[o.layer - 1].output;
  const kind = s.type === 'conv2d' ? 'conv' : s.type === 'activation' ? 'act' : 'pool';
  const p = app.model.params;
  const spec = {
    kind,
    title: app.t('lab.step.title', { map: app.t('lab.mapName', { i: o.layer + 1, q: o.map + 1 }), layer: stageTitle(s, o.layer) }),
    geometry: s.geometry,
    input,
    output: s.output,
    q: o.map,
    weight: kind === 'conv' ? p[`${s.name}.weight`] : null,
    bias: kind === 'conv' ? p[`${s.name}.bias`] : null,
    indices: s.indices,
    fn: 'ReLU',
  };
  spec.extras = (n) => mapActions(spec, n, app.state.lang, app.t);
  step.show(spec, o.step);
}

function drawFilters() {
  const t = app.t;
  const row = (id, kernels, names) => {
    const all = kernels.flat(2);
    const scale = scaleFor(all.concat(all.map((v) => -v)));
    $(id).replaceChildren(...kernels.map((k, i) => {
      const f = document.createElement('figure');
      const c = zoomed(filterCanvas(k, scale), 60);
      c.setAttribute('role', 'img');
      c.setAttribute('aria-label', names[i]);
      const cap = document.createElement('figcaption');
      cap.textContent = names[i];
      f.append(c, cap);
      return f;
    }));
  };
  if (app.model) {
    const learned = app.model.params['conv1.weight'].map((f) => f[0]);
    row('filters-learned', learned, learned.map((_, i) => t('lab.filterN', { n: i + 1 })));
    const tr = app.model.training;
    $('model-facts').textContent = t('lab.modelFacts', {
      p: app.model.parameter_count,
      acc: (tr.held_out_accuracy * 100).toFixed(1),
      n: tr.held_out_samples,
      epochs: tr.epochs,
      seed: tr.seed,
      data: app.model.data,
    });
  }
  if (app.presets) {
    const lect = LECTURE.map((n) => app.presets[n].weight);
    row('filters-lecture', lect, LECTURE.map((n) => t(`kernel.name.${n}`)));
  }
}

// ---------------------------------------------------------------- controls

const pad = new StrokePad($('pad'), (strokes, done) => {
  if (!done) return;
  $('example').value = '';
  drawn(strokes);
}, { pen: PEN, onPen: (x, y, down) => {
  $('pad-pen').textContent = app.t('lab.padPen', { x: Math.round(x * 100), y: Math.round(y * 100), state: app.t(down ? 'lab.padPen.down' : 'lab.padPen.up') });
} });

$('clear').addEventListener('click', () => {
  pad.set([]);
  drawn([]);
});
$('undo').addEventListener('click', () => {
  const strokes = decodeStrokes(app.state.ink);
  strokes.pop();
  pad.set(strokes);
  drawn(strokes);
});
$('example').addEventListener('change', () => {
  const d = $('example').value;
  if (d === '') return;
  const strokes = EXAMPLES[d];
  pad.set(strokes);
  drawn(strokes);
});

function sync() {
  const s = app.state;
  $('lang').value = s.lang;
  pad.set(decodeStrokes(s.ink));
  setViewLinks(s.lang);
}

/** Load `lang`'s words and redraw in them (the state already says `lang`). */
async function setLanguage(lang) {
  try {
    const [common, page] = await Promise.all([loadLocale(lang), loadLocale(lang, 'layers')]);
    app.t = translator({ ...common, ...page });
  } catch (e) {
    showError(app.t('status.offline', { message: e.message }));
    return;
  }
  document.documentElement.lang = lang;
  applyTo(document, app.t);
  sync();
  draw();
  drawFilters();
  showStep();
}
$('lang').addEventListener('change', () => {
  app.update({ lang: $('lang').value }, { history: 'push', rebuild: false, compute: false });
  setLanguage(app.state.lang);
});

async function start() {
  if (parsed.warnings.length) showError(parsed.warnings.map((w) => `${w.key}: ${w.message}`).join('; '));
  sync();
  try {
    const [model, presets] = await Promise.all([api.answer(await fetch('/api/digits/model')), api.presets()]);
    app.model = model;
    app.presets = presets.kernels;
  } catch (e) {
    showError(app.t('status.offline', { message: e.message }));
  }
  drawFilters();
  await app.update({}, { history: false, rebuild: false });
}

start();
