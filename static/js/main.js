/**
 * Wiring: the controls write the view state, the state goes to the URL and to the
 * API, the answers become a model, and every frame is drawn by the one render
 * path from (model, step, hover). Nothing is computed here.
 */

import * as api from './api.js';
import { background, flipInput, invert, KernelEditor, rescale, resizeInput, SCHEMES, setCell, shiftInput, strokeValue } from './editors.js';
import { fmt } from './format.js';
import { applyTo, loadLocale, translator } from './i18n.js';
import { bindKeys, Player, SPEEDS } from './player.js';
import { buildModel, describeFrame, Stage } from './render.js';
import { defaults, fromQuery, needsPush, toQuery } from './state.js';
import { clone, fitWeight, full, range, resize2d, shapeOf } from './tensor.js';

const $ = (id) => document.getElementById(id);

let t = translator(JSON.parse($('strings').textContent));
let presets = { kernels: {}, glyphs: {}, examples: [] };
let state = defaults();
let written = defaults(); // the state the URL holds
let results = { conv: null, act: null, pool: null, shape: '' };
let model = null;
let hover = null;
let lastChanged = null; // the control whose change the next answer is for
let lastFile = null;
let lastNote = '';
let uploadLost = false;
let urlWarnings = []; // what a malformed link held, kept at defaults and reported // the link said "upload" but the image is not in it

const stage = new Stage($('grids'), $('sum'), onGridEvent);
const player = new Player(onStep, onPlayState);
const kernelEditor = new KernelEditor($('kernel-tables'), { onWeight: editWeight, onBias: editBias });

// Frame times for benchmarks/frame_times.py (the last few thousand, in ms).
const frames = [];
window.convviz = { frames, get step() { return player.step; }, get total() { return player.total; } };

// ---------------------------------------------------------------- state <-> tensors

/** The input as numbers (a preset name resolved). */
function inputTensor() {
  if (Array.isArray(state.input)) return state.input;
  const g = presets.glyphs[state.input] || presets.glyphs.x;
  return g ? [g.input] : null;
}

/** The weight as numbers, (C_out, C_in/groups, kH, kW): preset names resolved. */
function weightTensor(channels) {
  if (Array.isArray(state.weight)) return state.weight;
  const cg = Math.max(1, Math.floor(channels / state.groups));
  const names = state.weight.split('~');
  const k = (name) => (presets.kernels[name] || presets.kernels.diagonal || { weight: [[1]] }).weight;
  return names.map((name) => full([cg], 0).map(() => clone(k(name))));
}

/** A scheme that suits some numbers: the lecture's -1/+1, 0..1, or pixels. */
function schemeOf(t3) {
  const { min, max } = range(t3);
  if (min < 0) return 'pm1';
  return max <= 1 ? 'unit' : 'byte';
}

// ---------------------------------------------------------------- URL and history

/** Write the state into the URL: a new history entry for real changes, else replace. */
function commit(mode = 'auto') {
  const q = toQuery(state);
  const push = mode === 'push' || (mode === 'auto' && needsPush(written, state));
  written = structuredClone(state);
  const url = location.pathname + q;
  if (url === location.pathname + location.search) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

window.addEventListener('popstate', async () => {
  const before = state.lang;
  state = fromQuery(location.search).state;
  written = structuredClone(state);
  if (state.lang !== before) await setLanguage(state.lang, false);
  syncControls();
  rebuild();
  await recompute();
  player.set(state.step);
});

// ---------------------------------------------------------------- computing

let busy = false;
let again = false;

/** Ask the API for the current state; one request chain at a time, the newest wins. */
async function recompute() {
  if (busy) {
    again = true;
    return;
  }
  busy = true;
  try {
    do {
      again = false;
      await computeOnce();
    } while (again);
  } finally {
    busy = false;
  }
}

async function computeOnce() {
  const input = inputTensor();
  if (!input) return;
  const weight = weightTensor(input.length);
  const changed = lastChanged;
  const shape = JSON.stringify(shapeOf(input));
  let conv = null;
  let act = null;
  let pool = null;
  let failure = null;
  try {
    conv = await api.conv2d(api.convBody(state, input, weight));
    let x = conv.output;
    if (state.activation !== 'none') {
      act = await api.activation(api.activationBody(state, x));
      x = act.output;
    }
    if (state.pool !== 'none') {
      try {
        const call = state.pool === 'max' ? api.maxPool2d : api.avgPool2d;
        pool = await call(api.poolBody(state, x));
      } catch (e) {
        failure = { stage: 'pool', e };
      }
    }
  } catch (e) {
    failure = { stage: act || !conv ? 'conv' : 'act', e };
  }
  if (again) return; // the state moved on while we waited: its answer is what counts
  clearErrors();
  if (failure) showFailure(failure, changed);
  else lastChanged = null;
  results = { conv, act, pool, shape };
  showFacts(input, weight);
  rebuild();
}

/** Rebuild the model from the state and the last answers, and redraw. */
function rebuild({ deferTables = false } = {}) {
  const input = inputTensor();
  if (!input) return;
  const weight = weightTensor(input.length);
  // Answers for another input shape would draw nonsense: wait for the new ones.
  const fresh = results.shape === JSON.stringify(shapeOf(input));
  model = buildModel({
    input,
    weight,
    conv: fresh ? results.conv : null,
    act: fresh ? results.act : null,
    pool: fresh ? results.pool : null,
    activation: state.activation,
    poolKind: state.pool,
  });
  stage.setModel(model, t, { deferTables });
  player.setTotal(model.total);
  $('scrub').max = String(Math.max(0, model.total - 1));
  for (const id of ['btn-start', 'btn-back', 'btn-play', 'btn-forward', 'btn-end', 'scrub']) {
    $(id).disabled = model.total < 2;
  }
  kernelEditor.render(weight, state.bias ? weight.map((_, o) => state.bias[o] ?? 0) : null, t);
  syncShapeFields(input, weight);
  renderFrame();
}

// ---------------------------------------------------------------- drawing a frame

function renderFrame() {
  if (!model) return;
  const t0 = performance.now();
  const desc = describeFrame(model, player.step, hover, t);
  stage.draw(desc);
  showStatus();
  const dt = performance.now() - t0;
  frames.push(dt);
  if (frames.length > 20000) frames.splice(0, 10000);
}

function showStatus() {
  const total = model ? model.total : 0;
  const loc = model && total ? describeStage(player.step) : '';
  $('step-status').textContent = total ? t('player.status', { n: player.step + 1, total, stage: loc }) : t('player.none');
  $('scrub').value = String(player.step);
  $('scrub').setAttribute('aria-valuetext', $('step-status').textContent);
}

function describeStage(step) {
  let s = step;
  for (const x of model.stages) {
    if (s < x.count) return t(`player.stage.${x.stage}`);
    s -= x.count;
  }
  return '';
}

function onStep(step) {
  state.step = step;
  renderFrame();
  if (!player.playing) commit('replace');
}

function onPlayState() {
  const playing = player.playing;
  $('play-icon').textContent = playing ? '⏸' : '▶';
  $('play-text').dataset.i18n = playing ? 'player.pause' : 'player.play';
  $('play-text').textContent = t($('play-text').dataset.i18n);
  $('btn-play').setAttribute('aria-pressed', String(playing));
  // A screen reader cannot follow 60 sums a second: announce only when paused.
  $('sum').setAttribute('aria-live', playing ? 'off' : 'polite');
  if (!playing) commit('replace');
}

function onGridEvent(ev) {
  if (ev.type === 'hover') {
    hover = { grid: ev.grid, ch: ev.ch, r: ev.r, c: ev.c };
    renderFrame();
  } else if (ev.type === 'leave') {
    hover = null;
    renderFrame();
  } else if (ev.grid === 'input') paintEvent(ev);
}

// ---------------------------------------------------------------- painting the input

let stroke = null;

/** View cell (padded grid) -> input cell, or null on padding. */
function toInputCell(ev) {
  const view = ev.view;
  const i = view.inner || { r0: 0, c0: 0, rows: view.rows, cols: view.cols };
  const r = ev.r - i.r0;
  const c = ev.c - i.c0;
  return r >= 0 && c >= 0 && r < i.rows && c < i.cols ? [r, c] : null;
}

function paintValue() {
  const v = Number($('paint').value);
  return $('paint').value.trim() !== '' && Number.isFinite(v) ? v : SCHEMES[state.scheme].hi;
}

function paintEvent(ev) {
  if (ev.type === 'paintend') {
    stroke = null;
    stage.renderTables();
    return;
  }
  const rc = ev.r >= 0 ? toInputCell(ev) : null;
  if (!rc) return;
  const input = inputTensor();
  const current = input[ev.ch][rc[0]][rc[1]];
  let value;
  if (ev.type === 'paintstart' || ev.type === 'toggle') {
    value = strokeValue(current, paintValue(), state.scheme);
    if (ev.type === 'paintstart') stroke = { value };
  } else if (ev.type === 'paint' && stroke) value = stroke.value;
  else return;
  if (current === value) return;
  state.input = setCell(input, ev.ch, rc[0], rc[1], value);
  lastChanged = 'input';
  commit(ev.type === 'paint' ? 'replace' : 'push');
  rebuild({ deferTables: ev.type !== 'toggle' });
  recompute();
}

/** Replace the input (tools, resizing, uploads, presets). */
function setInput(next, changed = 'input') {
  state.input = next;
  uploadLost = false;
  lastChanged = changed;
  commit();
  syncControls();
  rebuild();
  recompute();
}

const TOOLS = {
  clear: (x) => x.map((g) => g.map((row) => row.map(() => background(state.scheme)))),
  invert: (x) => invert(x, state.scheme),
  fliph: (x) => flipInput(x, true),
  flipv: (x) => flipInput(x, false),
  up: (x) => shiftInput(x, -1, 0, background(state.scheme)),
  down: (x) => shiftInput(x, 1, 0, background(state.scheme)),
  left: (x) => shiftInput(x, 0, -1, background(state.scheme)),
  right: (x) => shiftInput(x, 0, 1, background(state.scheme)),
};

for (const btn of document.querySelectorAll('[data-tool]')) {
  btn.addEventListener('click', () => setInput(TOOLS[btn.dataset.tool](inputTensor())));
}

// ---------------------------------------------------------------- the kernel

function editWeight(o, c, r, k, v) {
  const w = clone(weightTensor(inputTensor().length));
  if (w[o][c][r][k] === v) return;
  w[o][c][r][k] = v;
  state.weight = w;
  lastChanged = 'weight';
  commit('replace');
  syncControls();
  rebuild();
  recompute();
}

function editBias(o, v) {
  const b = [...(state.bias || [])];
  b[o] = v;
  state.bias = b;
  lastChanged = 'weight';
  commit('replace');
  recompute();
}

/** Keep an explicit weight's input channels equal to C_in/groups when that divides. */
function refitWeight() {
  const c = inputTensor().length;
  if (!Array.isArray(state.weight) || c % state.groups !== 0) return;
  const [o, , kh, kw] = shapeOf(state.weight);
  state.weight = fitWeight(state.weight, [o, c / state.groups, kh, kw]);
}

// ---------------------------------------------------------------- controls

/** Show or clear a message beside the field `name`. */
function fieldError(name, message) {
  const el = $(`err-${name}`) || $('err-general');
  el.textContent = message || '';
  el.hidden = !message;
  const field = document.querySelector(`.field[data-field="${name}"]`);
  if (field) for (const inp of field.querySelectorAll('input, select')) inp.setAttribute('aria-invalid', message ? 'true' : 'false');
}

function clearErrors() {
  for (const el of document.querySelectorAll('.err')) {
    el.hidden = true;
    el.textContent = '';
  }
  for (const el of document.querySelectorAll('[aria-invalid="true"]')) el.setAttribute('aria-invalid', 'false');
}

// Where an API field's complaint belongs when no control was just changed.
const FIELD_OF = {
  conv: { input: 'input', weight: 'weight', bias: 'weight', stride: 'stride', padding: 'padding', dilation: 'dilation', groups: 'groups', padding_mode: 'padding-mode', reduce: 'reduce' },
  act: { negative_slope: 'slope', function: 'act' },
  pool: { kernel_size: 'pool-k', stride: 'pool-s', padding: 'pool-p', ceil_mode: 'pool-k', input: 'pool' },
};

/**
 * Explain a failed computation where the user acted: beside the control just
 * changed (or the field the API names), and once more above the grids, since
 * the output is gone.
 */
function showFailure({ stage: where, e }, changed) {
  const problems = e instanceof api.ApiError ? e.problems : [{ field: null, message: t('status.offline', { message: e.message }) }];
  const text = problems.map((p) => p.message).join(' ');
  const named = problems.map((p) => p.field && FIELD_OF[where][p.field]).find(Boolean);
  const target = changed || named || 'general';
  fieldError(target, text);
  if (target !== 'general') fieldError('general', text);
}

/** An integer from field `id` within [min, max], or null with the reason shown there. */
function readInt(id, min, max, field = id, show = true) {
  const raw = $(id).value.trim();
  const v = Number(raw);
  if (raw === '' || !Number.isInteger(v) || v < min || v > max) {
    if (show) fieldError(field, t('error.integer', { min, max }));
    return null;
  }
  fieldError(field, null);
  return v;
}

/**
 * Bind a control: `read(show)` returns the new value or null (invalid), `apply(v)`
 * writes it into the state. Valid edits apply as they are typed; an invalid one is
 * explained when the field is left ("change"), never clamped.
 */
function bind(ids, field, read, apply, { compute = true } = {}) {
  for (const id of [].concat(ids)) {
    const handler = (final) => {
      const v = read(final, id);
      if (v === null) return;
      apply(v, id);
      lastChanged = field;
      commit();
      if (compute) {
        syncControls();
        rebuild();
        recompute();
      }
    };
    const el = $(id);
    const kind = el.tagName === 'SELECT' || el.type === 'checkbox' ? 'change' : 'input';
    el.addEventListener(kind, () => handler(kind === 'change'));
    if (kind === 'input') el.addEventListener('change', () => handler(true));
  }
}

const sel = (id) => () => $(id).value;
const intOf = (id, min, max, field) => (show) => readInt(id, min, max, field, show);

bind('glyph', 'input', sel('glyph'), (v) => {
  if (!v) return;
  state.input = v;
  state.scheme = schemeOf([presets.glyphs[v].input]);
  $('paint').value = String(SCHEMES[state.scheme].hi);
  refitWeight();
});
bind('scheme', 'input', sel('scheme'), (v) => {
  state.input = rescale(inputTensor(), state.scheme, v);
  state.scheme = v;
  $('paint').value = String(SCHEMES[v].hi);
});
bind(['in-rows', 'in-cols'], 'input', (show, id) => readInt(id, 3, 64, id, show), () => {
  const rows = readInt('in-rows', 3, 64, 'in-rows', false);
  const cols = readInt('in-cols', 3, 64, 'in-cols', false);
  if (rows && cols) state.input = resizeInput(inputTensor(), rows, cols, background(state.scheme));
});

// Stride and dilation: rows and columns; while they are equal, the first moves both.
for (const [a, b, prop, max] of [['stride', 'stride-w', 'stride', 64], ['dilation', 'dilation-w', 'dilation', 32]]) {
  bind([a, b], a, (show, id) => readInt(id, 1, max, a, show), (v, id) => {
    const [h, w] = state[prop];
    state[prop] = id === a ? [v, h === w ? v : w] : [h, v];
  });
}

bind(['padding', 'pad-h', 'pad-w', 'pad-l', 'pad-r', 'pad-t', 'pad-b'], 'padding', (show) => {
  const kind = $('padding').value;
  if (kind === 'same' || kind === 'valid') return kind;
  const ids = kind === 'number' ? ['pad-h', 'pad-w'] : ['pad-l', 'pad-r', 'pad-t', 'pad-b'];
  for (const id of ids) if ($(id).value.trim() === '') $(id).value = '0';
  const v = ids.map((id) => readInt(id, 0, 64, 'padding', show));
  return v.includes(null) ? null : v;
}, (v) => {
  state.padding = v;
});
bind('padding-mode', 'padding-mode', sel('padding-mode'), (v) => {
  state.paddingMode = v;
});
bind('groups', 'groups', intOf('groups', 1, 64, 'groups'), (v) => {
  state.groups = v;
  refitWeight();
});
bind('reduce', 'reduce', sel('reduce'), (v) => {
  state.reduce = v;
});

// The kernel's shape.
bind('kpreset', 'weight', sel('kpreset'), (v) => {
  if (!v) return;
  state.weight = v === 'xo3' ? 'diagonal~centre_x~anti_diagonal' : v;
  fitBias();
});
bind(['k-rows', 'k-cols'], 'weight', (show, id) => readInt(id, 1, 15, id, show), () => {
  const rows = readInt('k-rows', 1, 15, 'k-rows', false);
  const cols = readInt('k-cols', 1, 15, 'k-cols', false);
  if (!rows || !cols) return;
  state.weight = weightTensor(inputTensor().length).map((f) => f.map((k) => resize2d(k, rows, cols, 0)));
});
bind('k-filters', 'weight', intOf('k-filters', 1, 8, 'k-filters'), (n) => {
  if (typeof state.weight === 'string') {
    const names = state.weight.split('~');
    state.weight = Array.from({ length: n }, (_, i) => names[i] || names[0]).join('~');
  } else {
    const [, cg, kh, kw] = shapeOf(state.weight);
    state.weight = fitWeight(state.weight, [n, cg, kh, kw]);
  }
  fitBias();
});
bind('k-bias', 'weight', () => $('k-bias').checked, (on) => {
  state.bias = on ? [] : null;
  fitBias();
});

function fitBias() {
  if (!state.bias) return;
  const n = weightTensor(inputTensor().length).length;
  state.bias = Array.from({ length: n }, (_, i) => state.bias[i] ?? 0);
}

// After the convolution.
bind('act', 'act', sel('act'), (v) => {
  state.activation = v;
});
bind('slope', 'slope', (show) => {
  const v = Number($('slope').value);
  if ($('slope').value.trim() === '' || !Number.isFinite(v)) {
    if (show) fieldError('slope', t('error.number'));
    return null;
  }
  return v;
}, (v) => {
  state.slope = v;
});
bind('pool', 'pool', sel('pool'), (v) => {
  state.pool = v;
});
bind('pool-k', 'pool-k', intOf('pool-k', 1, 16, 'pool-k'), (v) => {
  state.poolKernel = [v, v];
});
bind('pool-s', 'pool-s', (show) => ($('pool-s').value.trim() === '' ? 0 : readInt('pool-s', 1, 16, 'pool-s', show)), (v) => {
  state.poolStride = v ? [v, v] : null;
});
bind('pool-p', 'pool-p', intOf('pool-p', 0, 8, 'pool-p'), (v) => {
  state.poolPadding = [v, v];
});
bind('pool-ceil', 'pool-k', () => $('pool-ceil').checked, (v) => {
  state.ceil = v;
});
bind('pool-incl', 'pool-k', () => $('pool-incl').checked, (v) => {
  state.countIncludePad = v;
});

// Upload settings apply to the next upload (and redo the last one).
bind('upload-mode', 'file', sel('upload-mode'), (v) => {
  state.uploadMode = v;
  if (lastFile) upload(lastFile);
}, { compute: false });
bind('max-side', 'max-side', intOf('max-side', 3, 256, 'max-side'), (v) => {
  state.maxSide = v;
}, { compute: false });
$('max-side').addEventListener('change', () => {
  if (lastFile && readInt('max-side', 3, 256, 'max-side', false)) upload(lastFile);
});

$('example').addEventListener('change', () => {
  const ex = presets.examples.find((x) => x.id === $('example').value);
  if (ex) applyExample(ex);
});

$('lang').addEventListener('change', () => setLanguage($('lang').value, true));
$('show-tables').addEventListener('change', () => {
  $('stage').classList.toggle('show-tables', $('show-tables').checked);
});

// The player's controls.
$('btn-start').addEventListener('click', () => player.start());
$('btn-back').addEventListener('click', () => player.back());
$('btn-play').addEventListener('click', () => player.toggle());
$('btn-forward').addEventListener('click', () => player.forward());
$('btn-end').addEventListener('click', () => player.end());
$('scrub').addEventListener('input', () => {
  player.pause();
  player.set(Number($('scrub').value));
});
$('speed').addEventListener('change', () => {
  player.speed = Number($('speed').value);
  state.speed = player.speed;
  commit('replace');
});
bindKeys(player);

// ---------------------------------------------------------------- uploads

async function upload(file) {
  lastFile = file;
  const status = $('upload-status');
  status.textContent = t('upload.busy');
  fieldError('file', null);
  try {
    const r = await api.uploadImage(file, state.uploadMode, state.maxSide);
    status.textContent = t('upload.done', { name: file.name || 'image', h: r.height, w: r.width, c: r.channels });
    state.scheme = 'byte';
    $('paint').value = '255';
    state.input = r.input;
    refitWeight();
    $('notice').hidden = true;
    setInput(state.input, 'file');
  } catch (e) {
    status.textContent = '';
    fieldError('file', e instanceof api.ApiError ? e.message : t('status.offline', { message: e.message }));
  }
}

$('file').addEventListener('change', () => {
  if ($('file').files[0]) upload($('file').files[0]);
});
const drop = $('drop');
drop.addEventListener('dragover', (ev) => {
  ev.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  drop.classList.remove('over');
  const file = ev.dataTransfer && ev.dataTransfer.files[0];
  if (file) upload(file);
});

// ---------------------------------------------------------------- examples

const pairOf = (v) => (Array.isArray(v) ? v : [v, v]);

/** Load a lecture example: its input, kernel and parameters, presets kept by name. */
function applyExample(ex) {
  const s = defaults();
  s.lang = state.lang;
  s.speed = state.speed;
  const conv = ex.steps.find((x) => x.operation === 'conv2d');
  const pool = ex.steps.find((x) => x.operation === 'max_pool2d');
  const req = conv.request;
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const glyph = Object.keys(presets.glyphs).find((k) => same(presets.glyphs[k].input, req.input));
  const kernel = Object.keys(presets.kernels).find((k) => same(presets.kernels[k].weight, req.weight));
  s.input = glyph || [req.input];
  s.weight = kernel || [[req.weight]];
  s.scheme = schemeOf([req.input]);
  s.stride = pairOf(req.stride ?? 1);
  s.padding = typeof req.padding === 'string' ? req.padding : pairOf(req.padding ?? 0);
  s.dilation = pairOf(req.dilation ?? 1);
  s.reduce = req.reduce ?? 'sum';
  s.bias = typeof req.bias === 'number' ? [req.bias] : null;
  if (pool) {
    s.pool = 'max';
    s.poolKernel = pairOf(pool.request.kernel_size);
    s.poolStride = pool.request.stride ? pairOf(pool.request.stride) : null;
    s.poolPadding = pairOf(pool.request.padding ?? 0);
    s.ceil = !!pool.request.ceil_mode;
  }
  state = s;
  lastNote = ex.id;
  lastChanged = 'example';
  commit('push');
  syncControls();
  rebuild();
  recompute();
}

// ---------------------------------------------------------------- showing the state

/** Put every control in agreement with the state (after load, back/forward, presets). */
function syncControls() {
  const input = inputTensor();
  if (!input) return;
  const weight = weightTensor(input.length);
  $('lang').value = state.lang;
  $('glyph').value = typeof state.input === 'string' ? state.input : '';
  $('scheme').value = state.scheme;
  $('kpreset').value = typeof state.weight === 'string'
    ? (state.weight === 'diagonal~centre_x~anti_diagonal' ? 'xo3' : state.weight.split('~').every((n) => n === state.weight.split('~')[0]) ? state.weight.split('~')[0] : '')
    : '';
  const desc = presets.kernels[$('kpreset').value];
  $('kpreset-note').textContent = desc ? desc[`description_${state.lang}`] : '';
  const g = presets.glyphs[$('glyph').value];
  $('example-note').textContent = noteOf(lastNote);
  $('glyph').title = g ? g[`description_${state.lang}`] : '';
  $('k-bias').checked = !!state.bias;
  const [sh, sw] = state.stride;
  $('stride').value = sh;
  $('stride-w').value = sw;
  $('dilation').value = state.dilation[0];
  $('dilation-w').value = state.dilation[1];
  const p = state.padding;
  const kind = typeof p === 'string' ? p : p.length === 4 ? 'sides' : 'number';
  $('padding').value = kind;
  $('pads-number').hidden = kind !== 'number';
  $('pads-sides').hidden = kind !== 'sides';
  if (kind === 'number') [$('pad-h').value, $('pad-w').value] = p;
  if (kind === 'sides') [$('pad-l').value, $('pad-r').value, $('pad-t').value, $('pad-b').value] = p;
  $('padding-mode').value = state.paddingMode;
  $('groups').value = state.groups;
  $('reduce').value = state.reduce;
  $('act').value = state.activation;
  $('slope').value = state.slope;
  document.querySelector('[data-field="slope"]').hidden = state.activation !== 'leaky_relu';
  $('pool').value = state.pool;
  $('pool-params').hidden = state.pool === 'none';
  $('pool-k').value = state.poolKernel[0];
  $('pool-s').value = state.poolStride ? state.poolStride[0] : '';
  $('pool-p').value = state.poolPadding[0];
  $('pool-ceil').checked = state.ceil;
  $('pool-incl').checked = state.countIncludePad;
  document.querySelector('[data-field="pool-incl"]').hidden = state.pool !== 'avg';
  $('upload-mode').value = state.uploadMode;
  $('max-side').value = state.maxSide;
  $('speed').value = String(state.speed);
  player.speed = state.speed;
  syncShapeFields(input, weight);
}

/** Size fields follow the tensors (not while the user is typing in them). */
function syncShapeFields(input, weight) {
  const set = (id, v) => {
    if (document.activeElement !== $(id)) $(id).value = String(v);
  };
  set('in-rows', input[0].length);
  set('in-cols', input[0][0].length);
  set('k-rows', weight[0][0].length);
  set('k-cols', weight[0][0][0].length);
  set('k-filters', weight.length);
}

function noteOf(id) {
  const ex = presets.examples.find((x) => x.id === id);
  return ex ? ex[`note_${state.lang}`] : '';
}

/** Output-size formulas, feature count and parameter count, from the API's answer. */
function showFacts(input, weight) {
  const { conv, pool } = results;
  const lines = conv ? [conv.formula.height, conv.formula.width] : ['—'];
  if (conv && pool) lines.push(`${t('grid.pool')}: ${pool.formula.height}`, `${t('grid.pool')}: ${pool.formula.width}`);
  $('formula-h').parentElement.replaceChildren(...lines.flatMap((l, i) => {
    const code = document.createElement('code');
    code.textContent = l;
    if (i === 0) code.id = 'formula-h';
    if (i === 1) code.id = 'formula-w';
    return i ? [document.createElement('br'), code] : [code];
  }));
  const [c, h, w] = shapeOf(input);
  $('features').textContent = t('facts.featuresValue', { h, w, c, n: conv ? conv.feature_count : h * w * c });
  const [o, cg, kh, kw] = shapeOf(weight);
  $('params').textContent = conv
    ? t('facts.paramsValue', { o, c: cg, kh, kw, bias: state.bias ? ` + ${o}` : '', n: conv.parameter_count })
    : '—';
  const notice = $('notice');
  const noTrace = conv && !conv.trace && conv.trace_note;
  const text = [
    uploadLost ? t('upload.missing') : '',
    noTrace ? t('facts.noTrace', { note: conv.trace_note }) : '',
    ...urlWarnings.map((w) => t('url.warning', w)),
  ].filter(Boolean).join(' ');
  notice.hidden = !text;
  notice.textContent = text;
}

// ---------------------------------------------------------------- language

/** Fill the option lists that depend on presets and language. */
function fillOptions() {
  const opt = (value, text, title = '') => {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    if (title) o.title = title;
    return o;
  };
  const lang = state.lang;
  $('glyph').replaceChildren(
    opt('', t('input.drawn')),
    ...Object.entries(presets.glyphs).map(([k, g]) => opt(k, t(`glyph.name.${k}`), g[`description_${lang}`])),
  );
  $('kpreset').replaceChildren(
    opt('', t('kernel.edited')),
    ...Object.entries(presets.kernels).map(([k, g]) => opt(k, t(`kernel.name.${k}`), g[`description_${lang}`])),
    opt('xo3', t('kernel.xo3')),
  );
  $('example').replaceChildren(
    opt('', t('examples.none')),
    ...presets.examples.map((ex) => opt(ex.id, `${ex.slide}. ${ex[`title_${lang}`]}`)),
  );
  $('speed').replaceChildren(...SPEEDS.map((n) => opt(String(n), t('speed.value', { n: fmt(n) }))));
}

async function setLanguage(lang, record) {
  if (record) {
    state.lang = lang;
    commit('push');
  }
  try {
    t = translator(await loadLocale(lang));
  } catch (e) {
    fieldError('general', t('status.offline', { message: e.message }));
    return;
  }
  document.documentElement.lang = lang;
  applyTo(document, t);
  fillOptions();
  syncControls();
  onPlayState();
  if (model) {
    stage.setModel(model, t);
    kernelEditor.shape = '';
    rebuild();
  }
  const input = inputTensor();
  if (input) showFacts(input, weightTensor(input.length));
}

// ---------------------------------------------------------------- start

async function start() {
  const parsed = fromQuery(location.search);
  state = parsed.state;
  written = structuredClone(state);
  urlWarnings = parsed.warnings;
  try {
    presets = await api.presets();
  } catch (e) {
    fieldError('general', t('status.offline', { message: e.message }));
  }
  if (state.input === null) {
    // An upload too large for the link: say so, and show the default glyph meanwhile.
    state.input = 'x';
    uploadLost = true;
  }
  if (typeof state.input === 'string' && !presets.glyphs[state.input]) state.input = 'x';
  fillOptions();
  syncControls();
  rebuild();
  const step = state.step;
  await recompute();
  player.set(step);
  renderFrame();
  new ResizeObserver(() => {
    stage.layout();
    renderFrame();
  }).observe($('grids'));
}

start();
