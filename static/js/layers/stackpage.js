/**
 * The layer stack page (/stack): a picture (made here, drawn, or uploaded) through a
 * stack of layers composed in the side panel, POST /api/stack, every layer's maps as
 * thumbnails, and the step view of any map. The stack, the picture's recipe and the
 * open map are in the URL (an upload's pixels are not: a link to one asks for the
 * file again and shows the house meanwhile). Every change goes through `app.update`
 * (core/store.js): the link, Back and Forward, and one computation at a time, the
 * newest winning.
 */

import * as api from '../core/api.js';
import { applyTo, loadLocale, pageStrings, translator } from '../core/i18n.js';
import { setViewLinks, toQuery } from '../core/state.js';
import { createStore } from '../core/store.js';
import { photoCanvas } from './maps.js';
import { renderOverview } from './overview.js';
import { ACTIVATIONS, MAX_FILTERS, MAX_LAYERS, STACK_PROPS, channelsIn, makePicture, stackBody } from './stackmodel.js';
import { setupEmbed } from './embedmode.js';
import { mapActions } from './mapactions.js';
import { layerHooks, mapStepView, openMap } from './layerpage.js';
import { decodeStrokes, drawStrokes, encodeStrokes, StrokePad } from './strokes.js';

const $ = (id) => document.getElementById(id);
/** Most weights a conv layer may have to be typed in (they travel in the URL). */
const MAX_TYPED = 1200;
const PEN = 0.07;

const app = {
  state: null, // set by the store only (core/store.js)
  t: translator(pageStrings()),
  presets: null,
  learned: null,
  upload: null, // (C, H, W) of the uploaded photo, this session only
  body: null, // the last request, for the step view's weights
  layers: null, // ... its layers as the state had them (the answer's titles and kinds)
  answer: null,
  update: null, // the one way the state changes
};
const store = createStore(app, layerHooks(app, { compute: computeOnce, sync, draw, showStep, setLanguage }), STACK_PROPS);
app.update = store.update;
const parsed = store.load();

const step = mapStepView(app);

const embedShown = setupEmbed(app.state, step, () => location.pathname + toQuery({ ...app.state, embed: false }, STACK_PROPS), () => app.t);

/**
 * A change to the picture or the stack: recorded as its own entry, the controls
 * rewritten, computed again (the maps on show stay until the answer is in).
 * @param {object|((s: any) => any)} change
 */
const change = (c) => app.update(c, { history: 'push', sync: true, rebuild: false });

// ---------------------------------------------------------------- the picture

function drawnPicture(size, colour) {
  const c = document.createElement('canvas');
  c.width = c.height = size;
  const ctx = c.getContext('2d');
  drawStrokes(ctx, decodeStrokes(app.state.ink), size, PEN * size);
  const data = ctx.getImageData(0, 0, size, size).data;
  const grey = Array.from({ length: size }, (_, r) => Array.from({ length: size }, (_, col) => data[(r * size + col) * 4]));
  return colour === 'grey' ? [grey] : [grey, grey.map((row) => row.slice()), grey.map((row) => row.slice())];
}

function picture() {
  const s = app.state;
  if (s.src === 'upload' && app.upload) return app.upload;
  if (s.src === 'draw') return drawnPicture(s.size, s.colour);
  return makePicture(s.src === 'upload' ? 'house' : s.src, s.size, s.colour);
}

// ---------------------------------------------------------------- computing

/** POST /api/stack for the state (core/store.js runs one at a time, the newest wins). */
async function computeOnce() {
  if (!app.presets) return; // start() asks once they are in
  const input = picture();
  const layers = structuredClone(app.state.layers);
  let body;
  try {
    body = stackBody(input, app.state.layers, app.presets, app.learned);
  } catch (e) {
    showError(e.message);
    return;
  }
  clearErrors();
  $('status').textContent = app.t('lab.computing');
  const started = performance.now();
  try {
    const answer = await api.post('/api/stack', body);
    if (store.stale()) return;
    app.body = body;
    app.layers = layers;
    app.answer = answer;
    app.input = input;
    $('status').textContent = app.t('lab.done', { ms: Math.round(performance.now() - started), n: answer.layers.length, p: answer.parameter_count, macs: answer.macs.toLocaleString(app.state.lang) });
  } catch (e) {
    if (store.stale()) return;
    $('status').textContent = '';
    if (e instanceof api.ApiError) showProblems(e);
    else showError(app.t('status.offline', { message: e.message }));
    return;
  }
  draw();
  showStep();
}

function showError(text) {
  $('err-general').hidden = !text;
  $('err-general').textContent = text || '';
}

function clearErrors() {
  showError(null);
  for (const e of document.querySelectorAll('.layer-list .err')) {
    e.hidden = true;
    e.textContent = '';
  }
}

/** A 422 names "layers.<i>.<field>": the message (in the page's words, core/api.js) goes under that layer too. */
function showProblems(e) {
  showError(api.errorText(e, app.t));
  for (const p of e.problems) {
    const m = /^layers\.(\d+)/.exec(p.field || '');
    if (!m) continue;
    const err = document.querySelector(`#layer-${m[1]} .err`);
    if (err) {
      err.hidden = false;
      err.textContent = api.problemText(p, app.t);
    }
  }
}

// ---------------------------------------------------------------- drawing the answer

function layerTitle(l, i) {
  const t = app.t;
  if (l.t === 'conv') return t('lab.layer.conv', { i: i + 1, n: l.n, k: l.k });
  if (l.t === 'act') return t('lab.layer.act', { i: i + 1, f: t(`lab.act.${l.f}`) });
  return t(`lab.layer.${l.t}`, { i: i + 1, k: l.k, s: l.s });
}

function draw() {
  const a = app.answer;
  if (!a) return;
  const t = app.t;
  const inputCard = {
    layer: -1,
    title: t('lab.input', { shape: a.input_shape.join(' × ') }),
    facts: [],
    picture: photoCanvas(app.input),
    maps: app.input.length === 3 ? app.input : null,
    range: [0, 255],
    openable: false,
    mapName: (q) => t(`lab.channel.${q}`),
  };
  const cards = a.layers.map((out, i) => {
    const l = app.layers[i];
    const facts = [t('lab.shape', { shape: out.output_shape.join(' × ') }), t('lab.params', { n: out.parameter_count })];
    if (out.formula) facts.push(`${out.formula.height}; ${out.formula.width}`);
    return {
      layer: i,
      title: layerTitle(l, i),
      facts,
      maps: out.output,
      range: out.range,
      openable: true,
      selected: app.state.open && app.state.open.layer === i ? app.state.open.map : undefined,
      mapName: (q) => t('lab.mapName', { i: i + 1, q: q + 1 }),
    };
  });
  renderOverview($('overview'), [inputCard, ...cards], (l, m) => openMap(app, l, m), t);
}

function showStep() {
  openStep();
  embedShown();
}

/** The open map's step view, or none. */
function openStep() {
  const o = app.state.open;
  const a = app.answer;
  if (!o || !a || o.layer >= a.layers.length || o.map >= a.layers[o.layer].output.length) {
    step.hide();
    return;
  }
  const out = a.layers[o.layer];
  const l = app.layers[o.layer];
  const input = o.layer === 0 ? app.input : a.layers[o.layer - 1].output;
  const sent = app.body.layers[o.layer];
  const kind = l.t === 'conv' ? 'conv' : l.t === 'act' ? 'act' : 'pool';
  const title = app.t('lab.step.title', { map: app.t('lab.mapName', { i: o.layer + 1, q: o.map + 1 }), layer: layerTitle(l, o.layer) });
  const spec = { kind, title, geometry: out.geometry, input, output: out.output, q: o.map, weight: sent.weight, bias: null, indices: out.indices, fn: app.t(`lab.act.${l.f}`) };
  spec.extras = (n) => mapActions(spec, n, app.state.lang, app.t);
  if (kind === 'conv' && sent.weight.flat(3).length <= MAX_TYPED) spec.onEdit = (m, i, j, v) => editWeight(o.layer, o.map, m, i, j, v);
  step.show(spec, o.step);
}

/** A typed kernel number: the layer's weights become its own, kept in the URL. */
function editWeight(layer, q, m, i, j, v) {
  const w = structuredClone(app.body.layers[layer].weight);
  w[q][m][i][j] = v;
  change((s) => {
    s.layers[layer] = { ...s.layers[layer], src: 'w', w };
  });
}

// ---------------------------------------------------------------- the layer list

const opt = (value, text) => {
  const o = document.createElement('option');
  o.value = String(value);
  o.textContent = text;
  return o;
};

function control(label, input, id) {
  const wrap = document.createElement('div');
  wrap.className = 'field';
  const lab = document.createElement('label');
  lab.textContent = label;
  lab.htmlFor = id;
  input.id = id;
  wrap.append(lab, input);
  return wrap;
}

function select(values, value, names = (v) => String(v)) {
  const s = document.createElement('select');
  s.append(...values.map((v) => opt(v, names(v))));
  s.value = String(value);
  return s;
}

function setLayer(i, patch) {
  change((s) => {
    s.layers[i] = { ...s.layers[i], ...patch };
    if (s.open && s.open.layer >= i) s.open = null;
  });
}

/** A small button with a spoken name (the arrows and the cross say little alone). */
function smallButton(text, label, fn, disabled) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.setAttribute('aria-label', label);
  b.title = label;
  b.disabled = disabled;
  b.addEventListener('click', fn);
  return b;
}

/** A layer's title with its move and remove buttons. */
function layerHead(l, i, n) {
  const t = app.t;
  const head = document.createElement('div');
  head.className = 'layer-head';
  const name = document.createElement('strong');
  name.textContent = layerTitle(l, i);
  const move = (d) => () => change((s) => {
    const ls = s.layers;
    [ls[i], ls[i + d]] = [ls[i + d], ls[i]];
    if (ls[i].src === 'w' || ls[i + d].src === 'w') resetTyped(s);
    s.open = null;
  });
  head.append(
    name,
    smallButton('↑', t('lab.up', { i: i + 1 }), move(-1), i === 0),
    smallButton('↓', t('lab.down', { i: i + 1 }), move(1), i === n - 1),
    smallButton('✕', t('lab.remove', { i: i + 1 }), () => change((s) => {
      s.layers.splice(i, 1);
      s.open = null;
    }), n === 1),
  );
  return head;
}

/** A conv layer's fields: filters, kernel, stride, padding, dilation, weights (and a seed). */
function convFields(l, i, id) {
  const t = app.t;
  const out = [];
  const filters = document.createElement('input');
  filters.type = 'number';
  filters.min = '1';
  filters.max = String(MAX_FILTERS);
  filters.value = String(l.n);
  filters.addEventListener('change', () => {
    const v = Number(filters.value);
    const ok = Number.isInteger(v) && v >= 1 && v <= MAX_FILTERS;
    filters.setAttribute('aria-invalid', String(!ok));
    if (ok) setLayer(i, { n: v, ...(l.src === 'w' ? { src: 'r1', w: undefined } : {}) });
  });
  out.push(control(t('lab.filters'), filters, id('n')));
  const pairs = [['k', 'lab.kernel', [1, 3, 5, 7]], ['s', 'lab.stride', [1, 2, 3, 4]], ['p', 'lab.padding', [0, 1, 2, 3]], ['d', 'lab.dilation', [1, 2, 3]]];
  for (const [key, label, values] of pairs) {
    const s = select(values, l[key]);
    s.addEventListener('change', () => setLayer(i, { [key]: Number(s.value), ...(key === 'k' && l.src === 'w' ? { src: 'r1', w: undefined } : {}) }));
    out.push(control(t(label), s, id(key)));
  }
  const src = l.src.startsWith('r') ? 'r' : l.src;
  const kinds = ['p', 'r', 'l', ...(l.src === 'w' ? ['w'] : [])];
  const w = select(kinds, src, (v) => t(`lab.weights.${v}`));
  w.addEventListener('change', () => setLayer(i, { src: w.value === 'r' ? 'r1' : w.value, w: undefined }));
  out.push(control(t('lab.weights'), w, id('w')));
  if (src === 'r') {
    const seed = document.createElement('input');
    seed.type = 'number';
    seed.min = '0';
    seed.value = l.src.slice(1);
    seed.addEventListener('change', () => {
      const v = Number(seed.value);
      if (Number.isInteger(v) && v >= 0 && v < 1e9) setLayer(i, { src: `r${v}` });
    });
    out.push(control(t('lab.seed'), seed, id('seed')));
  }
  return out;
}

/** An activation's function, or a pooling's kernel and stride. */
function otherFields(l, i, id) {
  const t = app.t;
  if (l.t === 'act') {
    const f = select(ACTIVATIONS, l.f, (v) => t(`lab.act.${v}`));
    f.addEventListener('change', () => setLayer(i, { f: f.value }));
    return [control(t('lab.function'), f, id('f'))];
  }
  return [['k', 'lab.kernel'], ['s', 'lab.stride']].map(([key, label]) => {
    const s = select([1, 2, 3, 4], l[key]);
    s.addEventListener('change', () => setLayer(i, { [key]: Number(s.value) }));
    return control(t(label), s, id(key));
  });
}

function layerRow(l, i, n) {
  const li = document.createElement('li');
  li.id = `layer-${i}`;
  li.className = `layer-row ${l.t}`;
  const fields = document.createElement('div');
  fields.className = 'row';
  const id = (f) => `l${i}-${f}`;
  fields.append(...(l.t === 'conv' ? convFields(l, i, id) : otherFields(l, i, id)));
  const err = document.createElement('p');
  err.className = 'err';
  err.hidden = true;
  err.setAttribute('aria-live', 'polite');
  li.append(layerHead(l, i, n), fields, err);
  return li;
}

/** Typed weights fit only the channels they were typed for: after a move they are random. */
function resetTyped(s) {
  const cins = channelsIn(s.layers, picture().length);
  s.layers = s.layers.map((l, i) => (l.src === 'w' && l.w[0].length !== cins[i] ? { ...l, src: 'r1', w: undefined } : l));
}

const NEW = { conv: { t: 'conv', n: 8, k: 3, s: 1, p: 1, d: 1, src: 'r1' }, act: { t: 'act', f: 'relu' }, max: { t: 'max', k: 2, s: 2 }, avg: { t: 'avg', k: 2, s: 2 } };
for (const b of document.querySelectorAll('[data-add]')) {
  b.addEventListener('click', () => {
    if (app.state.layers.length >= MAX_LAYERS) {
      showError(app.t('lab.tooMany', { n: MAX_LAYERS }));
      return;
    }
    change((s) => {
      s.layers.push(structuredClone(NEW[b.dataset.add]));
    });
    document.querySelector(`#layer-${app.state.layers.length - 1} select, #layer-${app.state.layers.length - 1} input`)?.focus();
  });
}

// ---------------------------------------------------------------- controls

const pad = new StrokePad($('pad'), (strokes, done) => {
  if (done) app.update({ ink: encodeStrokes(strokes) }, { history: 'push', rebuild: false });
}, { pen: PEN, onPen: (x, y, down) => {
  $('pad-pen').textContent = app.t('lab.padPen', { x: Math.round(x * 100), y: Math.round(y * 100), state: app.t(down ? 'lab.padPen.down' : 'lab.padPen.up') });
} });

function sync() {
  const s = app.state;
  $('src').value = s.src;
  $('colour').value = s.colour;
  $('size').value = String(s.size);
  $('lang').value = s.lang;
  $('upload-field').hidden = s.src !== 'upload';
  $('pad-field').hidden = s.src !== 'draw';
  if (s.src === 'draw') pad.set(decodeStrokes(s.ink));
  const n = s.layers.length;
  $('layer-list').replaceChildren(...s.layers.map((l, i) => layerRow(l, i, n)));
  for (const b of document.querySelectorAll('[data-add]')) b.disabled = n >= MAX_LAYERS;
  setViewLinks(s.lang);
}

function onPicture(changes) {
  change((s) => {
    Object.assign(s, changes, { open: null });
    resetTyped(s);
  });
  if (app.state.src === 'upload' && !app.upload) {
    $('status').textContent = app.t('lab.uploadAsk');
    $('file').focus();
  }
}

$('src').addEventListener('change', () => onPicture({ src: $('src').value }));
$('colour').addEventListener('change', () => {
  app.upload = null; // decoded for the other colour mode: ask again
  onPicture({ colour: $('colour').value });
});
$('size').addEventListener('change', () => {
  app.upload = null;
  onPicture({ size: Number($('size').value) });
});
$('file').addEventListener('change', async () => {
  const file = $('file').files[0];
  if (!file) return;
  try {
    const got = await api.uploadImage(file, app.state.colour === 'grey' ? 'grey' : 'rgb', app.state.size);
    app.upload = got.input;
    onPicture({ src: 'upload' });
  } catch (e) {
    showError(e.message);
  }
});
$('pad-clear').addEventListener('click', () => {
  pad.set([]);
  app.update({ ink: '' }, { history: 'push', rebuild: false });
});

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    $('share-status').textContent = app.t('lab.copied');
  } catch {
    $('share-status').textContent = text;
  }
}
$('copy-link').addEventListener('click', () => copy(location.href));
$('copy-embed').addEventListener('click', () => copy(`<iframe src="${location.origin}${location.pathname}${toQuery({ ...app.state, embed: true }, STACK_PROPS)}" width="960" height="600" title="convviz"></iframe>`));
$('download').addEventListener('click', () => {
  if (!app.answer) return;
  const blob = new Blob([JSON.stringify(app.answer)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = 'convviz-stack.json';
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
});

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
  showStep();
  if (app.answer) $('status').textContent = '';
}
$('lang').addEventListener('change', () => {
  app.update({ lang: $('lang').value }, { history: 'push', rebuild: false, compute: false });
  setLanguage(app.state.lang);
});

async function start() {
  if (parsed.warnings.length) showError(parsed.warnings.map((w) => `${w.key}: ${w.message}`).join('; '));
  sync();
  try {
    const [presets, model] = await Promise.all([api.presets(), api.answer(await fetch('/api/digits/model'))]);
    app.presets = presets.kernels;
    app.learned = model.params['conv1.weight'];
  } catch (e) {
    showError(app.t('status.offline', { message: e.message }));
    return;
  }
  await app.update({}, { history: false, rebuild: false });
  // A link to an upload carries no pixels: the house stands in until the file is chosen.
  if (app.state.src === 'upload' && !app.upload) $('status').textContent = app.t('lab.uploadAsk');
}

start();
