/**
 * The X/O network page (/network): a glyph through the lecture's network
 * (three 3x3 filters, ReLU, 2x2 max pooling, a vote) via /api/xo/forward, every
 * stage drawn by the same Stage as the visualizer's grids; training streamed from
 * /api/xo/train with live curves; shifting the glyph shows translation
 * invariance (slide 4). The state lives in the URL (xo.js NET_PROPS).
 */

import * as api from '../core/api.js';
import { Curve, follow } from '../view/curve.js';
import { setCell, strokeValue } from '../panels/editors.js';
import { fmt } from '../core/format.js';
import { drawVote as drawBarsAndTable } from '../view/vote.js';
import { applyTo, loadLocale, pageStrings, translator } from '../core/i18n.js';
import { derive } from '../model/correlate.js';
import '../model/pool.js';
import { describeFrame, flat2d, scaleOf, Stage, windowStage } from '../view/render.js';
import { postStream } from '../core/sse.js';
import { createStore } from '../core/store.js';
import { full, map } from '../core/tensor.js';
import { totalSteps } from '../core/trace.js';
import { setViewLinks } from '../core/state.js';
import { MAX_EPOCHS, NET_PROPS, percent, pooledChanges, prob, trainBody, voteText } from '../core/xo.js';

const $ = (id) => document.getElementById(id);
const LECTURE_FILTERS = ['diagonal', 'centre_x', 'anti_diagonal'];
const SAMPLES = 12;

const app = {
  state: null, // set by the store only (core/store.js)
  t: translator(pageStrings()),
  presets: { kernels: {}, glyphs: {} },
  answer: null, // /api/xo/forward for the glyph as shifted
  base: null, // ... and where it was drawn (when shifted)
  trained: null, // the parameters training gave
  learned: null, // the filters as training goes
  samples: null,
};
// The one way the state changes: the URL records it, the glyph is computed again.
const store = createStore(app, {
  compute: computeOnce,
  sync: () => sync(),
  rebuild: () => draw(),
  restore: (previous) => {
    if (app.state.lang !== previous.lang) setLanguage(app.state.lang, false);
  },
}, NET_PROPS);
app.update = store.update;
store.load();
let hover = null;
let shownModel = null; // the maps on show, with their window stages (for hover)
let training = null; // the AbortController of the run in hand
let stroke = null;

const nowhere = () => document.createElement('div');
const maps = new Stage($('grids'), nowhere(), onGridEvent);
const filterStage = new Stage($('filters'), nowhere(), () => {});
const sampleStage = new Stage($('samples'), nowhere(), () => {});
const lossCurve = new Curve($('curve-loss'), { name: '', x: '', series: ['', ''] });
const accCurve = new Curve($('curve-acc'), { name: '', x: '', series: ['', ''], fixed: [0, 1], digits: percent });

// ---------------------------------------------------------------- state

/** The glyph as numbers, (9, 9). */
function glyph() {
  const g = app.state.glyph;
  if (Array.isArray(g)) return g[0];
  const p = app.presets.glyphs[g] || app.presets.glyphs.x;
  return p ? p.input : null;
}

function params() {
  if (app.state.params !== 'trained' || !app.trained) return {};
  const { conv_weight, conv_bias, fc_weight, fc_bias } = app.trained;
  return { conv_weight, conv_bias, fc_weight, fc_bias };
}

// ---------------------------------------------------------------- computing

/** Ask the API for the glyph's forward pass (core/store.js runs one at a time, newest wins). */
async function computeOnce() {
  const input = glyph();
  if (!input) return;
  const body = { input, shift: app.state.shift, ...params() };
  const shifted = app.state.shift.some((v) => v !== 0);
  try {
    const answer = await api.post('/api/xo/forward', body);
    const base = shifted ? await api.post('/api/xo/forward', { ...body, shift: [0, 0] }) : null;
    if (store.stale()) return;
    app.answer = answer;
    app.base = base;
    showError(null);
  } catch (e) {
    showError(api.errorText(e, app.t));
  }
  draw();
}

function showError(text) {
  $('err-general').hidden = !text;
  $('err-general').textContent = text || '';
}

// ---------------------------------------------------------------- drawing

const mapGrid = (id, t3, extra = {}) => {
  const channels = t3.map(flat2d);
  return { id, title: `net.grid.${id}`, channels, scale: scaleOf(channels), ...extra };
};

function filterNames(a) {
  return a.filter_names.map((n, k) => (app.state.params === 'trained' && app.trained ? app.t('grid.filter', { n: k + 1 }) : app.t(`kernel.name.${n}`)));
}

/** Every stage's maps, the vote, what a shift changed. */
function draw() {
  const a = app.answer;
  if (!a) return;
  // A stroke in progress shows at once (a painted glyph is never shifted).
  const shown = app.state.shift.some((v) => v !== 0) ? a.input : glyph();
  const names = filterNames(a);
  const model = {
    grids: [
      mapGrid('input', [shown], { editable: true }),
      mapGrid('conv', a.conv, { names }),
      mapGrid('relu', a.relu, { names }),
      mapGrid('pooled', a.pooled, { names }),
    ],
    stages: windowStages(a),
  };
  model.total = totalSteps(model.stages);
  shownModel = model;
  maps.setModel(model, app.t);
  const change = app.base ? pooledChanges(a.pooled, app.base.pooled) : null;
  marks();
  drawVote(a, change);
  drawFilters();
  $('shift-status').textContent = app.t('net.shiftValue', { dy: app.state.shift[0], dx: app.state.shift[1] });
}

/**
 * The convolution and the pooling as window stages, each step derived from the
 * answer's geometry (model/): hovering a map's cell outlines the window it came
 * from, hovering a cell that is read outlines what it feeds.
 */
function windowStages(a) {
  const g = a.geometry;
  if (!g) return [];
  const { conv_weight: weight, conv_bias: bias } = a.params;
  return [
    windowStage({ stage: 'conv', steps: derive('conv2d', g.conv, { input: [a.input], weight, bias }), src: 'input', outs: ['conv', 'relu'] }),
    windowStage({ stage: 'pool', steps: derive('max_pool2d', g.pool, { input: a.relu, indices: a.pool_indices }), src: 'relu', outs: ['pooled'], lines: () => [] }),
  ];
}

/**
 * The marks of a frame: the cursor, the hovered cell's window (or what it
 * feeds), and the pooled features a shift changed (outlined).
 */
function marks() {
  const a = app.answer;
  if (!a) return;
  // Nothing is animated here: the frame is that of the last step (no veil), and only hover marks.
  const views = hover && shownModel ? describeFrame(shownModel, shownModel.total - 1, hover, app.t).views : {};
  if (hover) (views[`${hover.grid}:${hover.ch}`] ??= {}).cursor = [hover.r, hover.c];
  const change = app.base ? pooledChanges(a.pooled, app.base.pooled) : null;
  if (change) for (const [k, r, c] of change.changed) ((views[`pooled:${k}`] ??= {}).fed ??= []).push([r, c]);
  maps.draw({ views, products: null, sum: [], focus: null, progress: null });
}

function drawVote(a, change) {
  const i = a.classes.indexOf(a.prediction);
  $('says').textContent = app.t('net.says', { c: a.prediction, p: prob(a.probabilities[i]) });
  const heads = [app.t('net.class'), app.t('net.logit'), app.t('net.probability')];
  drawBarsAndTable($('bars'), $('vote-table'), a, heads, { rowClass: (c, k) => `bar${k}`, logit: fmt });
  // What holds, what does not, and why: 2x2 max pooling absorbs a one-cell shift
  // whose maxima stay in their windows; two cells move features across windows,
  // and the hand-set vote (weights for the lecture's positions) sees other cells.
  const far = Math.max(...app.state.shift.map(Math.abs));
  const why = !change ? '' : change.same === change.n ? app.t('net.why.held') : app.t(far <= 1 ? 'net.why.one' : 'net.why.two');
  $('compare').textContent = change
    ? `${app.t('net.compare.value', { same: change.same, n: change.n, before: voteText(app.base), after: voteText(a) })} ${why}`
    : app.t('net.compare.none');
}

function drawFilters() {
  const lecture = LECTURE_FILTERS.map((n) => app.presets.kernels[n]).filter(Boolean).map((k) => k.weight);
  if (!lecture.length) return;
  const grids = [mapGrid('lect', lecture, { title: 'net.lectureFilters', small: true, box: 90, names: LECTURE_FILTERS.map((n) => app.t(`kernel.name.${n}`)) })];
  if (app.learned) {
    const learned = app.learned.map((f) => f[0]);
    grids.push(mapGrid('learn', learned, { title: 'net.learnedFilters', small: true, box: 90, names: learned.map((_, k) => app.t('grid.filter', { n: k + 1 })) }));
  }
  $('learned-none').hidden = !!app.learned;
  const model = { grids, stages: [], total: 0 };
  filterStage.setModel(model, app.t);
  filterStage.draw({ views: {}, products: null, sum: [], focus: null, progress: null });
}

function drawSamples() {
  const s = app.samples;
  if (!s) return;
  const names = s.labels.map((label, i) => app.t('net.sample', { n: i + 1, label }));
  const model = { grids: [mapGrid('samples', s.glyphs, { title: 'net.samplesGrid', small: true, box: 72, names })], stages: [], total: 0 };
  sampleStage.setModel(model, app.t);
  sampleStage.draw({ views: {}, products: null, sum: [], focus: null, progress: null });
}

// ---------------------------------------------------------------- the glyph

function onGridEvent(ev) {
  if (ev.type === 'hover') {
    hover = { grid: ev.grid, ch: ev.ch, r: ev.r, c: ev.c };
    marks();
    return;
  }
  if (ev.type === 'leave') {
    hover = null;
    marks();
    return;
  }
  if (ev.grid !== 'input') return;
  if (ev.type === 'paintend') {
    stroke = null;
    maps.renderTables();
    return;
  }
  if (ev.r < 0 || !app.answer) return;
  // Painting on a shifted glyph paints what is seen: the shift becomes the drawing.
  let g = app.state.shift.some((v) => v !== 0) ? app.answer.input : glyph();
  const current = g[ev.r][ev.c];
  let value;
  if (ev.type === 'paintstart' || ev.type === 'toggle') {
    value = strokeValue(current, 1, 'pm1');
    if (ev.type === 'paintstart') stroke = value;
  } else if (ev.type === 'paint' && stroke !== null) value = stroke;
  else return;
  if (current === value) return;
  g = setCell([g], 0, ev.r, ev.c, value);
  setGlyph(g, ev.type === 'paint' ? 'replace' : 'push');
}

function setGlyph(g, mode = 'push') {
  app.update({ glyph: g, shift: [0, 0] }, { history: mode, sync: true });
}

const MOVES = { up: [-1, 0], down: [1, 0], left: [0, -1], right: [0, 1] };
for (const btn of document.querySelectorAll('[data-shift]')) {
  btn.addEventListener('click', () => {
    const [dy, dx] = MOVES[btn.dataset.shift];
    const [y, x] = app.state.shift;
    app.update({ shift: [Math.max(-8, Math.min(8, y + dy)), Math.max(-8, Math.min(8, x + dx))] }, { history: 'push', rebuild: false });
  });
}
$('shift-reset').addEventListener('click', () => {
  app.update({ shift: [0, 0] }, { history: 'push', rebuild: false });
});
for (const btn of document.querySelectorAll('[data-tool]')) {
  btn.addEventListener('click', () => {
    const g = glyph();
    setGlyph(btn.dataset.tool === 'clear' ? [full([9, 9], -1)] : [map(g, (v) => -v)]);
  });
}
$('glyph').addEventListener('change', () => {
  if (!$('glyph').value) return;
  app.update({ glyph: $('glyph').value, shift: [0, 0] }, { history: 'push', rebuild: false });
});

// ---------------------------------------------------------------- training

async function train() {
  if (training) return;
  training = new AbortController();
  buttons();
  lossCurve.reset();
  accCurve.reset();
  $('progress').value = 0;
  const view = follow($('curves'));
  const status = (text) => {
    $('train-status').textContent = text;
  };
  try {
    await postStream('/api/xo/train', trainBody(app.state), (event, d) => {
      if (event === 'epoch') {
        lossCurve.push(d.epoch, [d.loss, d.validation_loss]);
        accCurve.push(d.epoch, [d.accuracy, d.validation_accuracy]);
        $('progress').value = d.epoch / d.epochs;
        $('progress').textContent = percent(d.epoch / d.epochs);
        status(app.t('net.status.epoch', { e: d.epoch, n: d.epochs, loss: fmt(d.loss), acc: percent(d.accuracy), vacc: percent(d.validation_accuracy) }));
        app.learned = d.conv_weight;
        drawFilters();
        view.grow();
      } else if (event === 'done') {
        app.trained = d.params;
        app.learned = d.params.conv_weight;
        app.update({ params: 'trained' }, { history: 'replace', rebuild: false, compute: false });
        status(app.t('net.status.done', { s: fmt(d.seconds), vacc: percent(d.validation_accuracy) }));
      }
    }, training.signal);
    store.commit('replace');
  } catch (e) {
    if (e.name === 'AbortError') status(app.t('net.status.stopped'));
    else status(api.errorText(e, app.t));
  } finally {
    view.stop();
    training = null;
    buttons();
    app.update({}, { history: false, sync: true, rebuild: false });
  }
}

function buttons() {
  // While a run goes, Train, Stop and the progress are a bar pinned on a phone
  // (network.css); their slot keeps its height meanwhile, so nothing below jumps.
  const slot = $('run-slot');
  slot.style.minHeight = training ? `${slot.offsetHeight}px` : '';
  document.body.classList.toggle('training', !!training);
  $('train').disabled = !!training;
  $('stop').disabled = !training;
  $('params').querySelector('option[value="trained"]').disabled = !app.trained && !training;
}

$('train').addEventListener('click', train);
$('stop').addEventListener('click', () => training && training.abort());
$('params').addEventListener('change', () => {
  app.update({ params: $('params').value }, { history: 'push', rebuild: false });
});
const bindInt = (id, name, min, max) => {
  $(id).addEventListener('input', () => {
    const v = Number($(id).value);
    const ok = $(id).value.trim() !== '' && Number.isInteger(v) && v >= min && v <= max;
    $(`err-${id}`).hidden = ok;
    $(`err-${id}`).textContent = ok ? '' : app.t('error.integer', { min, max });
    $(id).setAttribute('aria-invalid', String(!ok));
    if (!ok) return;
    app.update({ [name]: v }, { history: 'replace', rebuild: false, compute: false });
  });
};
bindInt('epochs', 'epochs', 1, MAX_EPOCHS);
bindInt('pace', 'pace', 0, 1000);
bindInt('seed', 'seed', 0, 2 ** 32 - 1);
$('init').addEventListener('change', () => {
  app.update({ init: $('init').value }, { history: 'push', rebuild: false, compute: false });
});
$('train-filters').addEventListener('change', () => {
  app.update({ trainFilters: $('train-filters').checked }, { history: 'push', rebuild: false, compute: false });
});
$('show-tables').addEventListener('change', () => {
  for (const id of ['stage', 'net-more']) $(id).classList.toggle('show-tables', $('show-tables').checked);
});

// ---------------------------------------------------------------- controls and language

function sync() {
  const s = app.state;
  const opt = (value, text) => {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    return o;
  };
  const nine = Object.entries(app.presets.glyphs).filter(([, g]) => g.input.length === 9 && g.input[0].length === 9);
  $('glyph').replaceChildren(opt('', app.t('input.drawn')), ...nine.map(([k]) => opt(k, app.t(`glyph.name.${k}`))));
  $('glyph').value = typeof s.glyph === 'string' ? s.glyph : '';
  $('params').value = s.params;
  $('epochs').value = s.epochs;
  $('pace').value = s.pace;
  $('seed').value = s.seed;
  $('init').value = s.init;
  $('train-filters').checked = s.trainFilters;
  $('lang').value = s.lang;
  setViewLinks(s.lang);
  buttons();
}

function labelCurves() {
  const t = app.t;
  lossCurve.label({ name: t('net.curves.loss'), x: t('net.epoch'), series: [t('net.train.loss'), t('net.val.loss')] });
  accCurve.label({ name: t('net.curves.acc'), x: t('net.epoch'), series: [t('net.train.acc'), t('net.val.acc')] });
}

async function setLanguage(lang, record) {
  if (record) app.update({ lang }, { history: 'push', rebuild: false, compute: false });
  try {
    app.t = translator(await loadLocale(lang));
  } catch (e) {
    showError(app.t('status.offline', { message: e.message }));
    return;
  }
  document.documentElement.lang = lang;
  applyTo(document, app.t);
  labelCurves();
  sync();
  draw();
  drawSamples();
}
$('lang').addEventListener('change', () => setLanguage($('lang').value, true));

// ---------------------------------------------------------------- start

async function start() {
  labelCurves();
  try {
    app.presets = await api.answer(await fetch('/api/presets'));
  } catch (e) {
    showError(app.t('status.offline', { message: e.message }));
    return;
  }
  sync();
  new ResizeObserver(() => {
    maps.layout();
    marks();
  }).observe($('grids'));
  if (app.state.params === 'trained') train();
  else app.update({}, { history: false, rebuild: false });
  try {
    app.samples = await api.answer(await fetch(`/api/xo/samples?count=${SAMPLES}&seed=${app.state.seed}`));
    drawSamples();
  } catch {
    // The samples only illustrate; the page works without them.
  }
}

start();
