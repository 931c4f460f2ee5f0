/**
 * Wiring: the controls write the view state, the state goes to the URL and to the
 * API, the answers become a model, and every frame is drawn by the one render
 * path from (model, step, hover). Nothing is computed here.
 *
 * `app` is the one object the modules share: the state, the last answers and the
 * few operations the controls (controls.js) need. It is passed, not imported, so
 * each module says what it uses.
 */

import * as api from '../core/api.js';
import { clearErrors, fieldError, fillOptions, initControls, kernelHandlers, showFacts, showFailure, syncControls, syncShapeFields } from '../panels/controls.js';
import { KernelEditor } from '../panels/editors.js';
import { pageStrings, translator } from '../core/i18n.js';
import { bindKeys, Player } from '../view/player.js';
import { jumpStep } from '../core/trace.js';
import { LOOK } from '../view/colormap.js';
import { VEIL } from '../view/gridview.js';
import { buildModel, describeFrame, Stage } from '../view/render.js';
import { appliedWeight, compute, resolveInput, resolveWeight } from '../core/pipeline.js';
import { kernelMisfit } from '../core/kernelfit.js';
import { defaults, setViewLinks, toQuery } from '../core/state.js';
import { createStore } from '../core/store.js';
import { shapeOf } from '../core/tensor.js';

const $ = (id) => document.getElementById(id);

const app = {
  state: defaults(),
  t: translator(pageStrings()),
  presets: { kernels: {}, glyphs: {}, examples: [] },
  results: { conv: null, act: null, pool: null, shape: '' },
  lastChanged: null, // the control whose change the next answer is for
  example: '', // the lecture example last loaded, for its note
  uploadLost: false, // the link said "upload": the image is not in it
  urlWarnings: [], // what a malformed link held, kept at defaults and reported
  inputTensor,
  weightTensor,
  rebuild,
  setLanguage,
  update: null, // the one way the state changes (core/store.js)
};
// Back and Forward (and a room's follower moved on) come through the store too.
const store = createStore(app, {
  compute: computeOnce,
  rebuild,
  sync: () => syncControls(app),
  restore: (previous) => (app.state.lang !== previous.lang ? setLanguage(app.state.lang, false) : undefined),
  restored: () => player.set(app.state.step),
});
app.update = store.update;

let model = null;
let hover = null;
// The backward view (backview.js): loaded only on that page, it computes the
// backward pass and builds its model; everything else is this page's wiring.
let mode = null;

const stage = new Stage($('grids'), $('sum'), onGridEvent);
const player = new Player(onStep, onPlayState);
app.player = player;
const kernelEditor = new KernelEditor($('kernel-tables'), kernelHandlers(app));

// Frame times for benchmarks/frame_times.py (the last few thousand, in ms); `app`
// for the panels loaded on demand (extras.js), told of every URL write by the
// "convviz:state" event.
const frames = [];
// `builtAt`: when the last model was drawn (the first frame after an answer).
window.convviz = { frames, app, builtAt: 0, get step() { return player.step; }, get total() { return player.total; } };

// ---------------------------------------------------------------- state -> tensors

/** The input as numbers (a preset name resolved). */
function inputTensor() {
  return resolveInput(app.state, app.presets);
}

/** The weight as numbers, (C_out, C_in/groups, kH, kW): preset names resolved. */
function weightTensor(channels) {
  return resolveWeight(app.state, app.presets, channels);
}

/** What an answer must have been computed for to be drawn with the current tensors. */
function shapesOf(input, weight) {
  return JSON.stringify([shapeOf(input), shapeOf(weight)]);
}

// ---------------------------------------------------------------- computing

async function computeOnce() {
  const { state } = app;
  const input = inputTensor();
  if (!input) return;
  const weight = weightTensor(input.length);
  const changed = app.lastChanged;
  const shape = shapesOf(input, weight);
  // A kernel larger than the padded input is refused here, beside the field, not asked for.
  const misfit = kernelMisfit(state, input[0].length, input[0][0].length, weight[0][0].length, weight[0][0][0].length);
  const { conv, act, pool, failure, bp = null } = misfit
    ? { conv: null, act: null, pool: null, failure: { stage: 'conv', e: new api.ApiError(422, [{ field: 'weight', message: 'kernel larger than input', type: 'kernel_larger_than_input', ctx: misfit }]) } }
    : await (mode ? mode.compute(input, weight) : compute(state, input, weight));
  if (store.stale()) return; // the state moved on while we waited: its answer is what counts
  clearErrors();
  if (failure) showFailure(app, failure, changed);
  else app.lastChanged = null;
  app.results = { conv, act, pool, shape, bp };
  showFacts(app, input, weight);
  rebuild();
  document.dispatchEvent(new Event('convviz:computed'));
}

/** Rebuild the model from the state and the last answers, and redraw. */
function rebuild({ deferTables = false } = {}) {
  const { state, results } = app;
  const input = inputTensor();
  if (!input) return;
  const weight = weightTensor(input.length);
  // Answers for another input or kernel shape would draw nonsense (a 3x3 window's
  // products on a 3x5 kernel): wait for the new ones.
  const fresh = results.shape === shapesOf(input, weight);
  model = mode ? mode.buildModel(input, appliedWeight(state, weight), fresh) : buildModel({
    input,
    weight: appliedWeight(state, weight), // what slides: turned for true convolution
    bias: api.biasOf(state, weight),
    conv: fresh ? results.conv : null,
    act: fresh ? results.act : null,
    pool: fresh ? results.pool : null,
    activation: state.activation,
    poolKind: state.pool,
    scheme: state.scheme,
    slope: state.slope,
  });
  if (state.flip && !mode) model.grids.find((g) => g.id === 'kernel').title = 'grid.kernelFlipped';
  // A model waiting for its answers (a new input's shape) is replaced as soon as
  // they come: its tables wait, so that writing them does not delay the answer.
  stage.setModel(model, app.t, { deferTables: deferTables || !fresh });
  player.setTotal(model.total);
  $('scrub').max = String(Math.max(0, model.total - 1));
  for (const id of ['btn-start', 'btn-back', 'btn-play', 'btn-forward', 'btn-end', 'scrub']) {
    $(id).disabled = model.total < 2;
  }
  // Jumps by output row and channel, where stepping one by one would take long.
  const many = (i) => model.stages.some((s) => s.count >= JUMP_FROM && s.shape && s.shape[i] > 1);
  $('jumps').hidden = !many(1) && !many(0);
  $('btn-row-back').hidden = $('btn-row-next').hidden = !many(1);
  $('btn-chan-back').hidden = $('btn-chan-next').hidden = !many(0);
  kernelEditor.render(weight, api.biasOf(state, weight), app.t);
  syncShapeFields(input, weight);
  renderFrame();
  window.convviz.builtAt = performance.now();
}

// ---------------------------------------------------------------- drawing a frame

function renderFrame() {
  if (!model) return;
  const t0 = performance.now();
  const desc = describeFrame(model, player.step, hover, app.t);
  stage.draw(desc);
  if (mode) mode.frame(desc);
  showStatus();
  frames.push(performance.now() - t0);
  if (frames.length > 20000) frames.splice(0, 10000);
}

function showStatus() {
  const total = model ? model.total : 0;
  let text = app.t('player.none');
  if (total) {
    let s = player.step;
    const at = model.stages.find((x) => (s -= x.count) < 0);
    text = app.t('player.status', { n: player.step + 1, total, stage: at ? app.t(at.label || `player.stage.${at.stage}`) : '' });
  }
  $('step-status').textContent = text;
  $('scrub').value = String(player.step);
  $('scrub').setAttribute('aria-valuetext', text);
}

function onStep(step) {
  // The step is drawn here; the URL records it when the player rests. While it
  // plays, a live room (room/lead.js) hears of each step and publishes a few a second.
  app.update({ step }, { history: player.playing ? false : 'replace', rebuild: false, compute: false });
  renderFrame();
  if (player.playing) document.dispatchEvent(new CustomEvent('convviz:step', { detail: { step } }));
}

function onPlayState() {
  const playing = player.playing;
  $('play-icon').textContent = playing ? '⏸' : '▶';
  $('play-text').dataset.i18n = playing ? 'player.pause' : 'player.play';
  $('play-text').textContent = app.t($('play-text').dataset.i18n);
  $('btn-play').setAttribute('aria-pressed', String(playing));
  // A screen reader cannot follow 60 sums a second: announce only when paused.
  $('sum').setAttribute('aria-live', playing ? 'off' : 'polite');
  if (!playing) store.commit('replace');
}

function onGridEvent(ev) {
  if (ev.type === 'hover') {
    hover = { grid: ev.grid, ch: ev.ch, r: ev.r, c: ev.c };
    renderFrame();
  } else if (ev.type === 'leave') {
    hover = null;
    renderFrame();
  } else if (ev.grid === 'input') paintEvent(ev);
  else if (mode) mode.gridEvent(ev);
}

$('btn-start').addEventListener('click', () => player.start());
$('btn-back').addEventListener('click', () => player.back());
$('btn-play').addEventListener('click', () => player.toggle());
$('btn-forward').addEventListener('click', () => player.forward());
$('btn-end').addEventListener('click', () => player.end());

/** Stages of this many steps or more offer jumps by row and channel. */
const JUMP_FROM = 100;

function jump(unit, dir) {
  if (!model) return;
  player.pause();
  player.set(jumpStep(model.stages, player.step, unit, dir));
}
for (const [id, unit, dir] of [['row-back', 'row', -1], ['row-next', 'row', 1], ['chan-back', 'channel', -1], ['chan-next', 'channel', 1]]) {
  $(`btn-${id}`).addEventListener('click', () => jump(unit, dir));
}
// Outputs not computed yet are covered until this switch shows them (view/gridview.js VEIL).
$('show-ahead').addEventListener('change', () => {
  VEIL.ahead = $('show-ahead').checked;
  renderFrame();
});
// Pictures in grey until this switch draws them on the heat map's palette (view/colormap.js LOOK).
$('show-heat').addEventListener('change', () => {
  LOOK.heat = $('show-heat').checked;
  rebuild();
});
$('scrub').addEventListener('input', () => {
  player.pause();
  player.set(Number($('scrub').value));
});
$('speed').addEventListener('change', () => {
  player.speed = Number($('speed').value);
  app.update({ speed: player.speed }, { history: 'replace', rebuild: false, compute: false });
});
bindKeys(player, document, jump);

// ---------------------------------------------------------------- painting the input

// Painting (paint.js) loads with the first stroke; the events before it has loaded
// wait for it, in order.
let painter = null;
const pending = [];

function paintEvent(ev) {
  if (painter) return painter.paintEvent(app, stage, ev);
  pending.push(ev);
  if (pending.length > 1) return;
  import('../panels/paint.js').then((m) => {
    painter = m;
    for (const e of pending.splice(0)) m.paintEvent(app, stage, e);
  }, (e) => {
    pending.length = 0;
    fieldError('general', app.t('status.offline', { message: e.message }));
  });
}

// ---------------------------------------------------------------- language

/** Switch the language in place (the server rendered the first one): language.js. */
async function setLanguage(lang, record) {
  if (record) app.update({ lang }, { history: 'push', rebuild: false, compute: false });
  let m;
  try {
    m = await import('../panels/language.js');
  } catch (e) {
    fieldError('general', app.t('status.offline', { message: e.message }));
    return;
  }
  await m.setLanguage(app, lang, { kernelEditor, onPlayState });
}

$('lang').addEventListener('change', () => setLanguage($('lang').value, true));

/** The links to the other views carry this view's state (the network only the language). */
function viewLinks() {
  // The other pages keep only the language.
  setViewLinks(app.state.lang, (view) => (view === 'forward' || view === 'backward' ? location.pathname + toQuery({ ...app.state, view, step: 0 }) : null));
}
document.addEventListener('convviz:state', viewLinks);

// ---------------------------------------------------------------- start

async function start() {
  const parsed = store.load();
  app.urlWarnings = parsed.warnings;
  initControls(app);
  try {
    app.presets = await api.presets();
  } catch (e) {
    fieldError('general', app.t('status.offline', { message: e.message }));
  }
  // An upload too large for the link: say so, and show the default glyph meanwhile.
  app.uploadLost = app.state.input === null;
  const known = typeof app.state.input !== 'string' || app.presets.glyphs[app.state.input];
  const input = app.uploadLost || !known ? 'x' : app.state.input;
  let opening = null;
  if (app.state.view === 'backward') {
    const backview = await import('../panels/backview.js');
    mode = backview.init(app, stage);
    // A bare /?view=backward opens on slide 12's small example, not on the forward
    // view's 9x9 glyph (12 grids and 139 steps); the URL then says so.
    const bare = [...new URLSearchParams(location.search).keys()].every((k) => k === 'view' || k === 'lang');
    if (bare) opening = backview.slide12State(app.state);
  }
  fillOptions(app);
  viewLinks();
  const step = app.state.step;
  await app.update(opening ? () => opening : { input }, { history: opening ? 'replace' : false, sync: true });
  player.set(step);
  renderFrame();
  new ResizeObserver(() => {
    stage.layout();
    renderFrame();
  }).observe($('grids'));
}

start();
