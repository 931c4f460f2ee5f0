/**
 * The settings panel: every control reads into the view state through `bind`,
 * and `syncControls` writes the state back into the controls (after a load, a
 * back/forward, a preset). Errors are shown where the user acted; an entry out
 * of range is explained, never clamped.
 *
 * Every function takes `app` (see main.js): the state, the presets, the
 * translator and the few operations a control triggers.
 */

import * as api from '../core/api.js';
import { background, reduceFor, rescale, resizeInput, SCHEMES, schemeOf } from './editors.js';
import { clearErrors, fieldError } from './fields.js';

export { clearErrors, fieldError, schemeOf };
import { fmt } from '../core/format.js';
import { SPEEDS, speedText } from '../view/player.js';
import { refitWeight } from '../core/pipeline.js';
import { clone, fitWeight, resize2d, shapeOf } from '../core/tensor.js';
import { KERNEL_FIELD_MAX, kernelMax } from '../core/kernelfit.js';

const $ = (id) => document.getElementById(id);

/** The kernel preset list's name for the lecture's three X/O filters. */
const XO3 = 'diagonal~centre_x~anti_diagonal';

// ---------------------------------------------------------------- errors

// Where an API field's complaint belongs when no control was just changed.
const FIELD_OF = {
  conv: { input: 'input', weight: 'weight', bias: 'weight', stride: 'stride', padding: 'padding', dilation: 'dilation', groups: 'groups', padding_mode: 'padding-mode', reduce: 'reduce', output_padding: 'out-pad' },
  act: { negative_slope: 'slope', function: 'act' },
  pool: { kernel_size: 'pool-k', stride: 'pool-s', padding: 'pool-p', ceil_mode: 'pool-k', input: 'pool' },
};

/**
 * Explain a failed computation where the user acted: beside the control just
 * changed (or the field the API names), and once more above the grids, since
 * the output is gone.
 */
export function showFailure(app, { stage, e }, changed) {
  const problems = e instanceof api.ApiError ? e.problems : [{ field: null, message: app.t('status.offline', { message: e.message }) }];
  const text = problems.map((p) => api.problemText(p, app.t)).join(' ');
  const named = problems.map((p) => p.field && FIELD_OF[stage][p.field]).find(Boolean);
  const target = changed || named || 'general';
  fieldError(target, text);
  if (target !== 'general') fieldError('general', text);
}

// ---------------------------------------------------------------- binding controls

/** An integer from field `id` within [min, max], or null with the reason shown there. */
function readInt(app, id, min, max, field = id, show = true) {
  const raw = $(id).value.trim();
  const v = Number(raw);
  if (raw === '' || !Number.isInteger(v) || v < min || v > max) {
    if (show) fieldError(field, app.t('error.integer', { min, max }));
    return null;
  }
  fieldError(field, null);
  return v;
}

/**
 * A kernel side from field `id`: at most what fits the input with its padding and
 * dilation (core/kernelfit.js); a larger one is explained beside the field, and
 * nothing is asked of the API.
 */
function readKernelSide(app, id, show) {
  const v = readInt(app, id, 1, KERNEL_FIELD_MAX, id, show);
  if (v === null) return null;
  const input = app.inputTensor();
  const max = kernelMax(app.state, input[0].length, input[0][0].length);
  const axis = id === 'k-rows' ? 0 : 1;
  const most = axis ? max.cols : max.rows;
  if (v <= most) return v;
  fieldError(id, app.t('prevent.kernelMax', { max: most, size: max.padded[axis] }));
  return null;
}

/** The kernel fields' largest values follow the input, padding and dilation; their titles say why. */
function syncKernelMax(app, input) {
  const max = kernelMax(app.state, input[0].length, input[0][0].length);
  for (const [id, most, axis] of [['k-rows', max.rows, 0], ['k-cols', max.cols, 1]]) {
    $(id).max = String(most);
    $(id).title = max.padded ? app.t('prevent.kernelMax', { max: most, size: max.padded[axis] }) : '';
  }
}

/**
 * Bind controls: `read(show, id)` returns the new value or null (invalid);
 * `apply(value, id)` writes it into the state. Valid edits apply as they are
 * typed; an invalid one is explained when the field is left ("change").
 */
function bind(app, ids, field, read, apply, { compute = true } = {}) {
  for (const id of [].concat(ids)) {
    const el = $(id);
    // A typed value is applied as it is typed; leaving the field ("change") only
    // explains an invalid one, and must not ask the API for the same state again.
    const kind = el.tagName === 'SELECT' || el.type === 'checkbox' ? 'change' : 'input';
    let typed = null;
    const handler = (final, left = false) => {
      const v = read(final, id);
      if (v === null) return;
      if (left && el.value === typed) return;
      if (kind === 'input') typed = el.value;
      app.update(() => apply(v, id), { changed: field, sync: compute, rebuild: compute, compute });
    };
    el.addEventListener(kind, () => handler(kind === 'change'));
    if (kind === 'input') el.addEventListener('change', () => handler(true, true));
  }
}

/** Replace the input (tools, uploads) and recompute. */
export function setInput(app, next, changed = 'input') {
  app.uploadLost = false;
  app.update({ input: next }, { changed, sync: true });
}

/** One bias per filter, when there is a bias. */
function fitBias(app) {
  const { state } = app;
  if (!state.bias) return;
  const n = app.weightTensor(app.inputTensor().length).length;
  state.bias = Array.from({ length: n }, (_, i) => state.bias[i] ?? 0);
}

/** What the kernel tables (editors.js KernelEditor) report, applied to the state. */
export function kernelHandlers(app) {
  const edited = (change) => app.update(change, { changed: 'weight', history: 'replace', sync: true });
  return {
    onWeight(o, c, r, k, v) {
      const w = clone(app.weightTensor(app.inputTensor().length));
      if (w[o][c][r][k] === v) return;
      w[o][c][r][k] = v;
      edited({ weight: w });
    },
    onBias(o, v) {
      const b = [...(app.state.bias || [])];
      b[o] = v;
      edited({ bias: b });
    },
  };
}

/** What every control binding uses: the state, readers, and the binding itself. */
function helpers(app) {
  return {
    s: () => app.state,
    sel: (id) => () => $(id).value,
    intOf: (id, min, max) => (show) => readInt(app, id, min, max, id, show),
    on: (...args) => bind(app, ...args),
    offline: (field) => (e) => fieldError(field, app.t('status.offline', { message: e.message })),
  };
}

/**
 * 'same' padding needs stride 1 (the API refuses it otherwise): the page says so
 * before asking. With 'same' chosen the stride fields are disabled; with a
 * stride above 1 the 'same' choice is; each says why.
 */
function preventSameWithStride(app) {
  const { state, t } = app;
  const same = state.padding === 'same';
  const strided = state.stride.some((v) => v !== 1);
  for (const id of ['stride', 'stride-w']) {
    $(id).disabled = same;
    $(id).title = same ? t('prevent.sameStride') : '';
    if (same) $(id).setAttribute('aria-describedby', 'prevent-note');
    else $(id).removeAttribute('aria-describedby');
  }
  const option = $('padding').querySelector('option[value="same"]');
  option.disabled = strided && !same;
  option.title = option.disabled ? t('prevent.sameStride') : '';
  const note = $('prevent-note');
  note.hidden = !same && !strided;
  note.textContent = same ? t('prevent.sameStride') : strided ? t('prevent.strideSame') : '';
}

/** Wire every control of the settings panel (once, at start). */
export function initControls(app) {
  for (const wire of [bindInput, bindGeometry, bindKernel, bindStages, bindUploads]) wire(app);
}

/** The input: glyph, value scheme, size, and the tools. */
function bindInput(app) {
  const { s, sel, on, offline } = helpers(app);
  // The input.
  on('glyph', 'input', sel('glyph'), (v) => {
    if (!v) return;
    s().input = v;
    s().scheme = schemeOf([app.presets.glyphs[v].input]);
    $('paint').value = String(SCHEMES[s().scheme].hi);
    refitWeight(app.state, app.inputTensor().length);
  });
  on('scheme', 'input', sel('scheme'), (v) => {
    s().input = rescale(app.inputTensor(), s().scheme, v);
    s().scheme = v;
    $('paint').value = String(SCHEMES[v].hi);
  });
  on(['in-rows', 'in-cols'], 'input', (show, id) => readInt(app, id, 3, 64, id, show), () => {
    const rows = readInt(app, 'in-rows', 3, 64, 'in-rows', false);
    const cols = readInt(app, 'in-cols', 3, 64, 'in-cols', false);
    if (rows && cols) s().input = resizeInput(app.inputTensor(), rows, cols, background(s().scheme));
  });
  // The tools (tools.js) load with the first click.
  for (const btn of document.querySelectorAll('[data-tool]')) {
    btn.addEventListener('click', () => import('./tools.js').then((m) => {
      setInput(app, m.TOOLS[btn.dataset.tool](app.inputTensor(), s().scheme));
    }, offline('input')));
  }
}

/** Stride, dilation, padding, groups, reduction, flip and transposition. */
function bindGeometry(app) {
  const { s, sel, intOf, on } = helpers(app);
  // Stride and dilation: rows and columns; while they are equal, the first moves both.
  for (const [a, b, max] of [['stride', 'stride-w', 64], ['dilation', 'dilation-w', 32]]) {
    on([a, b], a, (show, id) => readInt(app, id, 1, max, a, show), (v, id) => {
      const [h, w] = s()[a];
      s()[a] = id === a ? [v, h === w ? v : w] : [h, v];
    });
  }
  on(['padding', 'pad-h', 'pad-w', 'pad-l', 'pad-r', 'pad-t', 'pad-b'], 'padding', (show) => {
    const kind = $('padding').value;
    if (kind === 'same' || kind === 'valid') return kind;
    const ids = kind === 'number' ? ['pad-h', 'pad-w'] : ['pad-l', 'pad-r', 'pad-t', 'pad-b'];
    for (const id of ids) if ($(id).value.trim() === '') $(id).value = '0';
    const v = ids.map((id) => readInt(app, id, 0, 64, 'padding', show));
    return v.includes(null) ? null : v;
  }, (v) => {
    s().padding = v;
  });
  on('padding-mode', 'padding-mode', sel('padding-mode'), (v) => {
    s().paddingMode = v;
  });
  on('groups', 'groups', intOf('groups', 1, 64), (v) => {
    s().groups = v;
    refitWeight(app.state, app.inputTensor().length);
  });
  on('reduce', 'reduce', sel('reduce'), (v) => {
    s().reduce = v;
  });
  on('flip', 'flip', () => $('flip').checked, (v) => {
    s().flip = v;
  });
  on('transposed', 'transposed', () => $('transposed').checked, (v) => {
    s().transposed = v;
  });
  on(['out-pad', 'out-pad-w'], 'out-pad', (show, id) => readInt(app, id, 0, 16, 'out-pad', show), (v, id) => {
    const [h, w] = s().outputPadding;
    s().outputPadding = id === 'out-pad' ? [v, h === w ? v : w] : [h, v];
  });
}

/** The kernel's preset, shape, filters and bias. */
function bindKernel(app) {
  const { s, sel, intOf, on } = helpers(app);
  // The kernel's shape and presets.
  on('kpreset', 'weight', sel('kpreset'), (v) => {
    if (!v) return;
    s().weight = v === 'xo3' ? XO3 : v;
    // Sum for an image kernel, mean for the lecture's X/O filters; the user may change it after.
    s().reduce = reduceFor(s().weight);
    fitBias(app);
  });
  on(['k-rows', 'k-cols'], 'weight', (show, id) => readKernelSide(app, id, show), () => {
    const rows = readKernelSide(app, 'k-rows', false);
    const cols = readKernelSide(app, 'k-cols', false);
    if (!rows || !cols) return;
    s().weight = app.weightTensor(app.inputTensor().length).map((f) => f.map((k) => resize2d(k, rows, cols, 0)));
  });
  on('k-filters', 'weight', intOf('k-filters', 1, 8), (n) => {
    if (typeof s().weight === 'string') {
      const names = s().weight.split('~');
      s().weight = Array.from({ length: n }, (_, i) => names[i] || names[0]).join('~');
    } else {
      const [, cg, kh, kw] = shapeOf(s().weight);
      s().weight = fitWeight(s().weight, [n, cg, kh, kw]);
    }
    fitBias(app);
  });
  on('k-bias', 'weight', () => $('k-bias').checked, (checked) => {
    s().bias = checked ? [] : null;
    fitBias(app);
  });
}

/** The stages after the convolution: activation and pooling. */
function bindStages(app) {
  const { s, sel, intOf, on } = helpers(app);
  // After the convolution.
  on('act', 'act', sel('act'), (v) => {
    s().activation = v;
  });
  on('slope', 'slope', (show) => {
    const v = Number($('slope').value);
    if ($('slope').value.trim() === '' || !Number.isFinite(v)) {
      if (show) fieldError('slope', app.t('error.number'));
      return null;
    }
    return v;
  }, (v) => {
    s().slope = v;
  });
  on('pool', 'pool', sel('pool'), (v) => {
    s().pool = v;
  });
  on('pool-k', 'pool-k', intOf('pool-k', 1, 16), (v) => {
    s().poolKernel = [v, v];
  });
  on('pool-s', 'pool-s', (show) => ($('pool-s').value.trim() === '' ? 0 : readInt(app, 'pool-s', 1, 16, 'pool-s', show)), (v) => {
    s().poolStride = v ? [v, v] : null;
  });
  on('pool-p', 'pool-p', intOf('pool-p', 0, 8), (v) => {
    s().poolPadding = [v, v];
  });
  on('pool-ceil', 'pool-k', () => $('pool-ceil').checked, (v) => {
    s().ceil = v;
  });
  on('pool-incl', 'pool-k', () => $('pool-incl').checked, (v) => {
    s().countIncludePad = v;
  });
}

/** Uploads, the lecture's examples, and the tables switch. */
function bindUploads(app) {
  const { s, sel, intOf, on, offline } = helpers(app);
  // Uploads: settings apply to the next upload, and redo the last one. The
  // upload itself (upload.js) loads with the first file.
  let lastFile = null;
  const upload = (file) => {
    lastFile = file;
    import('./upload.js').then((m) => m.upload(app, file), offline('file'));
  };
  on('upload-mode', 'file', sel('upload-mode'), (v) => {
    s().uploadMode = v;
    if (lastFile) upload(lastFile);
  }, { compute: false });
  on('max-side', 'max-side', intOf('max-side', 3, 1024), (v) => {
    s().maxSide = v;
  }, { compute: false });
  $('max-side').addEventListener('change', () => {
    if (lastFile && readInt(app, 'max-side', 3, 1024, 'max-side', false)) upload(lastFile);
  });
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

  $('example').addEventListener('change', () => {
    const ex = app.presets.examples.find((x) => x.id === $('example').value);
    if (ex) import('./examples.js').then((m) => m.applyExample(app, ex), offline('example'));
  });
  $('show-tables').addEventListener('change', () => {
    $('stage').classList.toggle('show-tables', $('show-tables').checked);
  });
}

// ---------------------------------------------------------------- state -> controls

/** Put every control in agreement with the state. */
export function syncControls(app) {
  const { state, presets } = app;
  const input = app.inputTensor();
  if (!input) return;
  const weight = app.weightTensor(input.length);
  const lang = state.lang;
  $('lang').value = lang;
  // A folded section opens when the view uses it (a link with ReLU or pooling).
  if (state.activation !== 'none' || state.pool !== 'none') $('sec-after').open = true;
  $('glyph').value = typeof state.input === 'string' ? state.input : '';
  const glyph = presets.glyphs[$('glyph').value];
  $('glyph').title = glyph ? glyph[`description_${lang}`] : '';
  $('scheme').value = state.scheme;
  const names = typeof state.weight === 'string' ? state.weight.split('~') : [];
  const preset = state.weight === XO3 ? 'xo3' : names.length && names.every((n) => n === names[0]) ? names[0] : '';
  $('kpreset').value = preset;
  const desc = presets.kernels[preset];
  $('kpreset-note').textContent = desc ? desc[`description_${lang}`] : '';
  const ex = presets.examples.find((x) => x.id === app.example);
  $('example-note').textContent = ex ? ex[`note_${lang}`] : '';
  $('k-bias').checked = !!state.bias;
  [$('stride').value, $('stride-w').value] = state.stride;
  [$('dilation').value, $('dilation-w').value] = state.dilation;
  const p = state.padding;
  const kind = typeof p === 'string' ? p : p.length === 4 ? 'sides' : 'number';
  $('padding').value = kind;
  preventSameWithStride(app);
  $('pads-number').hidden = kind !== 'number';
  $('pads-sides').hidden = kind !== 'sides';
  if (kind === 'number') [$('pad-h').value, $('pad-w').value] = p;
  if (kind === 'sides') [$('pad-l').value, $('pad-r').value, $('pad-t').value, $('pad-b').value] = p;
  $('padding-mode').value = state.paddingMode;
  $('groups').value = state.groups;
  $('reduce').value = state.reduce;
  $('flip').checked = state.flip;
  $('transposed').checked = state.transposed;
  [$('out-pad').value, $('out-pad-w').value] = state.outputPadding;
  document.querySelector('[data-field="out-pad"]').hidden = !state.transposed;
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
  app.player.speed = state.speed;
  syncShapeFields(input, weight);
  syncKernelMax(app, input);
}

/** Size fields follow the tensors (not while the user is typing in them). */
export function syncShapeFields(input, weight) {
  const set = (id, v) => {
    if (document.activeElement !== $(id)) $(id).value = String(v);
  };
  set('in-rows', input[0].length);
  set('in-cols', input[0][0].length);
  set('k-rows', weight[0][0].length);
  set('k-cols', weight[0][0][0].length);
  set('k-filters', weight.length);
}

/** Output-size formulas, feature count and parameter count, from the API's answer. */
export function showFacts(app, input, weight) {
  const { conv, pool } = app.results;
  const t = app.t;
  const lines = conv ? [conv.formula.height, conv.formula.width] : ['—'];
  if (conv && pool) lines.push(`${t('grid.pool')}: ${pool.formula.height}`, `${t('grid.pool')}: ${pool.formula.width}`);
  $('formula').replaceChildren(...lines.flatMap((l, i) => {
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
    ? t('facts.paramsValue', { o, c: cg, kh, kw, bias: app.state.bias ? ` + ${o}` : '', n: conv.parameter_count })
    : '—';
  const text = [
    app.uploadLost ? t('upload.missing') : '',
    ...app.urlWarnings.map((x) => t('url.warning', x)),
  ].filter(Boolean).join(' ');
  $('notice').hidden = !text;
  $('notice').textContent = text;
}

/** Fill the option lists that depend on the presets and the language. */
export function fillOptions(app) {
  const { presets, t } = app;
  const lang = app.state.lang;
  const opt = (value, text, title = '') => {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    if (title) o.title = title;
    return o;
  };
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
  $('speed').replaceChildren(...SPEEDS.map((n) => opt(String(n), speedText(t, n, fmt))));
}
