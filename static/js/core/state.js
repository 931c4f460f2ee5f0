/**
 * The whole view state, and its round trip through the URL.
 *
 * Like tensorflow/playground, the state is a declarative list of properties, each
 * with a URL key, a default and a codec. Only values that differ from the default
 * are written, so the lecture's opening view is the bare address, and a link to
 * any other view spells out exactly what differs. Small inputs and kernels travel
 * as numbers (run-length encoded: a glyph of -1 and +1 stays short); presets
 * travel by name; an uploaded image too large for a link travels as "upload" and
 * the page asks for the file again.
 */

import { flatten, reshape, shapeOf } from './tensor.js';

/** Longest tensor text written into a link (Chrome accepts 2 MB; servers and chat apps less). */
export const MAX_TENSOR_CHARS = 32768;

/** Round to 6 significant digits and drop trailing zeros: 0.111111111 -> "0.111111", 2 -> "2". */
export function numStr(v) {
  const s = String(Number(Number(v).toPrecision(6)));
  return s === '-0' ? '0' : s;
}

/**
 * Encode a nested-list tensor as `shape:values`, e.g. `1x2x3:0,1*4,2`
 * (`v*n` repeats v n times).
 * @param {any[]} t
 */
export function encodeTensor(t) {
  const parts = [];
  const flat = flatten(t).map(numStr);
  for (let i = 0; i < flat.length; ) {
    let j = i;
    while (j < flat.length && flat[j] === flat[i]) j++;
    const n = j - i;
    if (n >= 3) parts.push(`${flat[i]}*${n}`);
    else for (let k = 0; k < n; k++) parts.push(flat[i]);
    i = j;
  }
  return `${shapeOf(t).join('x')}:${parts.join(',')}`;
}

/**
 * Inverse of {@link encodeTensor}. Throws on anything malformed.
 * @param {string} s
 * @param {number} rank expected number of dimensions
 */
export function decodeTensor(s, rank) {
  const colon = s.indexOf(':');
  if (colon < 0) throw new SyntaxError('tensor needs "shape:values"');
  const shape = s.slice(0, colon).split('x').map(Number);
  if (shape.length !== rank || !shape.every((n) => Number.isInteger(n) && n >= 1 && n <= 4096)) {
    throw new RangeError(`bad shape ${s.slice(0, colon)}`);
  }
  const flat = [];
  for (const part of s.slice(colon + 1).split(',')) {
    const [v, n = '1'] = part.split('*');
    const value = Number(v);
    const count = Number(n);
    if (v === '' || !Number.isFinite(value) || !Number.isInteger(count) || count < 1) {
      throw new SyntaxError(`bad value "${part}"`);
    }
    if (flat.length + count > 1 << 20) throw new RangeError('tensor too large');
    for (let k = 0; k < count; k++) flat.push(value);
  }
  return reshape(flat, shape);
}

// Codecs: encode(value) -> string; decode(string) -> value, throwing on nonsense.

// A preset name; kernels may list one per filter: "diagonal~centre_x~anti_diagonal".
const NAME = /^[A-Za-z0-9_.-]{1,40}(~[A-Za-z0-9_.-]{1,40}){0,15}$/;

/** @param {string[]} options */
export const oneOf = (options) => ({
  encode: String,
  decode(s) {
    if (!options.includes(s)) throw new RangeError(`expected one of ${options.join(', ')}`);
    return s;
  },
});

export const int = (min, max) => ({
  encode: String,
  decode(s) {
    const n = Number(s);
    if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`expected an integer ${min}..${max}`);
    return n;
  },
});

export const num = {
  encode: numStr,
  decode(s) {
    const n = Number(s);
    if (s === '' || !Number.isFinite(n)) throw new RangeError('expected a number');
    return n;
  },
};

export const bool = {
  encode: (b) => (b ? '1' : '0'),
  decode(s) {
    if (s !== '0' && s !== '1') throw new RangeError('expected 0 or 1');
    return s === '1';
  },
};

/** A list of integers of one of `lengths`; a pair of equal numbers is written once. */
export const ints = (lengths, min, max) => ({
  encode: (v) => (v.length === 2 && v[0] === v[1] ? String(v[0]) : v.join(',')),
  decode(s) {
    let v = s.split(',').map(Number);
    if (v.length === 1) v = [v[0], v[0]];
    if (!lengths.includes(v.length) || !v.every((n) => Number.isInteger(n) && n >= min && n <= max)) {
      throw new RangeError(`expected ${lengths.join(' or ')} integers ${min}..${max}`);
    }
    return v;
  },
});

const numList = {
  encode: (v) => v.map(numStr).join(','),
  decode(s) {
    const v = s.split(',').map(Number);
    if (s === '' || v.length > 64 || !v.every(Number.isFinite)) throw new RangeError('expected numbers');
    return v;
  },
};

/** Padding: "same", "valid", one or two integers, or four (left, right, top, bottom). */
const padding = {
  encode: (v) => (typeof v === 'string' ? v : ints([2, 4], 0, 64).encode(v)),
  decode: (s) => (s === 'same' || s === 'valid' ? s : ints([2, 4], 0, 64).decode(s)),
};

/**
 * Whether `name` is one a plain object inherits (`__proto__`, `constructor`,
 * `toString`, ...): looked up in the presets, it would find Object.prototype's
 * member instead of nothing, and the page would draw from a function.
 */
export const inherited = (name) => name in Object.prototype;

// Tensors in the state are replaced, never changed in place (editors.js setCell),
// so each is encoded once: a 256x256 photo took 40 ms a step to write into the URL.
const encoded = new WeakMap();

/** A preset name, an explicit tensor of `rank` dimensions, or (inputs only) a lost upload. */
export const tensorOrName = (rank) => ({
  encode(v) {
    if (v === null) return 'upload';
    if (typeof v === 'string') return v;
    if (!encoded.has(v)) {
      const s = encodeTensor(v);
      encoded.set(v, s.length <= MAX_TENSOR_CHARS ? s : 'upload');
    }
    return encoded.get(v);
  },
  decode(s) {
    if (s === 'upload') return null;
    if (s.includes(':')) return decodeTensor(s, rank);
    if (!NAME.test(s)) throw new SyntaxError('bad preset name');
    if (s.split('~').some(inherited)) throw new RangeError('no preset of that name');
    return s;
  },
});

/**
 * The state, declared once. `key` is the URL parameter; `def` the default;
 * `push`: whether changing it adds a history entry (false: it replaces the
 * current one, for things that change continuously, like the step).
 */
export const PROPS = [
  { name: 'lang', key: 'lang', def: 'en', codec: oneOf(['en', 'ru']), push: true },
  // The forward pass, or the backward pass of the same layer (backview.js).
  { name: 'view', key: 'view', def: 'forward', codec: oneOf(['forward', 'backward']), push: true },
  // Input: a glyph preset by name, numbers, or null (an upload too big for the link).
  { name: 'input', key: 'in', def: 'x', codec: tensorOrName(3), push: true },
  { name: 'scheme', key: 'sch', def: 'pm1', codec: oneOf(['pm1', 'unit', 'byte']), push: true },
  // Kernel: a preset by name (one filter, repeated over input channels) or numbers.
  { name: 'weight', key: 'k', def: 'diagonal', codec: tensorOrName(4), push: true },
  { name: 'bias', key: 'b', def: null, codec: numList, push: true },
  { name: 'stride', key: 's', def: [1, 1], codec: ints([2], 1, 64), push: true },
  { name: 'padding', key: 'p', def: [0, 0], codec: padding, push: true },
  { name: 'dilation', key: 'd', def: [1, 1], codec: ints([2], 1, 64), push: true },
  { name: 'groups', key: 'g', def: 1, codec: int(1, 64), push: true },
  {
    name: 'paddingMode', key: 'pm', def: 'zeros',
    codec: oneOf(['zeros', 'reflect', 'replicate', 'circular']), push: true,
  },
  // The lecture divides each window's sum by its size, so the page opens on "mean".
  { name: 'reduce', key: 'r', def: 'mean', codec: oneOf(['sum', 'mean']), push: true },
  // True convolution: the kernel turned 180 degrees before the (cross-correlation) API.
  { name: 'flip', key: 'flip', def: false, codec: bool, push: true },
  // Transposed convolution (ConvTranspose2d): each filter makes one output channel.
  { name: 'transposed', key: 'tc', def: false, codec: bool, push: true },
  { name: 'outputPadding', key: 'op', def: [0, 0], codec: ints([2], 0, 16), push: true },
  {
    name: 'activation', key: 'act', def: 'none',
    codec: oneOf(['none', 'relu', 'leaky_relu', 'sigmoid', 'tanh']), push: true,
  },
  { name: 'slope', key: 'ns', def: 0.01, codec: num, push: true },
  { name: 'pool', key: 'pool', def: 'none', codec: oneOf(['none', 'max', 'avg']), push: true },
  { name: 'poolKernel', key: 'pk', def: [2, 2], codec: ints([2], 1, 16), push: true },
  // null: the pooling stride follows its kernel, as in PyTorch.
  { name: 'poolStride', key: 'ps', def: null, codec: ints([2], 1, 16), push: true },
  { name: 'poolPadding', key: 'pp', def: [0, 0], codec: ints([2], 0, 8), push: true },
  { name: 'ceil', key: 'pc', def: false, codec: bool, push: true },
  { name: 'countIncludePad', key: 'pi', def: true, codec: bool, push: true },
  { name: 'uploadMode', key: 'um', def: 'grey', codec: oneOf(['grey', 'rgb']), push: true },
  { name: 'maxSide', key: 'ms', def: 64, codec: int(3, 1024), push: true }, // the API's MAX_SIDE
  { name: 'speed', key: 'sp', def: 4, codec: num, push: false },
  { name: 'step', key: 'step', def: 0, codec: int(0, 1e7), push: false },
  // The backward view: the loss; MSE's target (a teacher kernel preset, or a drawn
  // map); a hand-set dE/dO (null: ones); gradient descent's settings.
  { name: 'loss', key: 'loss', def: 'mse', codec: oneOf(['mse', 'sum', 'grad']), push: true },
  { name: 'target', key: 'tg', def: 'anti_diagonal', codec: tensorOrName(3), push: true },
  { name: 'gout', key: 'go', def: null, codec: tensorOrName(3), push: true },
  { name: 'lr', key: 'lr', def: 5, codec: num, push: true },
  { name: 'momentum', key: 'mo', def: 0.5, codec: num, push: true },
  { name: 'gdMax', key: 'it', def: 200, codec: int(1, 1000), push: true },
  { name: 'gdData', key: 'gd', def: 'one', codec: oneOf(['one', 'xo']), push: true },
];

/** A fresh default state (of `props`: another page may declare its own). */
export function defaults(props = PROPS) {
  const s = {};
  for (const p of props) s[p.name] = structuredClone(p.def);
  return s;
}

function same(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b)) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Characters left as they are in a query value: the codecs only produce these,
 * plus `:` and `,`, which are legal in a query and keep links readable.
 */
function escape(s) {
  return s.replace(/[^A-Za-z0-9,.:*_~-]/g, encodeURIComponent);
}

/**
 * The query string for `state` (with a leading "?", or "" for the default view).
 * @param {Record<string, any>} state
 */
export function toQuery(state, props = PROPS) {
  const parts = [];
  for (const p of props) {
    const v = state[p.name];
    if (v === undefined || same(v, p.def)) continue;
    if (v === null && p.name !== 'input') continue;
    parts.push(`${p.key}=${escape(p.codec.encode(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/**
 * The value of `key` in `params`: the last one when the link gives it more than once,
 * as the server reads it (Starlette's query parameters), so both agree.
 * @param {URLSearchParams} params @param {string} key
 */
export function lastParam(params, key) {
  const all = params.getAll(key);
  return all.length ? all[all.length - 1] : null;
}

/**
 * Parse a query string. A malformed value keeps its default and is reported in
 * `warnings` (the page shows them), so a broken link still opens. A key given
 * twice counts with its last value.
 * @param {string} search
 * @returns {{state: Record<string, any>, warnings: {key: string, message: string}[]}}
 */
export function fromQuery(search, props = PROPS) {
  const params = new URLSearchParams(search);
  const state = defaults(props);
  const warnings = [];
  for (const p of props) {
    const raw = lastParam(params, p.key);
    if (raw === null) continue;
    try {
      state[p.name] = p.codec.decode(raw);
    } catch (e) {
      warnings.push({ key: p.key, message: e.message });
    }
  }
  return { state, warnings };
}

/**
 * Whether going from `before` to `after` deserves its own history entry.
 * Continuous things (the step, the speed) replace the current entry instead.
 */
export function needsPush(before, after, props = PROPS) {
  return props.some((p) => p.push && !same(before[p.name], after[p.name]));
}

/**
 * Point the header's view links (`data-view-link`, templates/_views.html) at each
 * view in `lang`; `own(view)` may give a view's link its own address (the main
 * page keeps its state across forward and backward), null for the plain one.
 * @param {string} lang @param {(view: string) => string | null} [own]
 */
export function setViewLinks(lang, own = () => null) {
  const ru = lang === 'ru';
  const plain = (view) => (view === 'backward' ? `/?view=backward${ru ? '&lang=ru' : ''}`
    : `/${view === 'forward' ? '' : view}${ru ? '?lang=ru' : ''}`);
  for (const a of document.querySelectorAll('[data-view-link]')) a.href = own(a.dataset.viewLink) ?? plain(a.dataset.viewLink);
}
