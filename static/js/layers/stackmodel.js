/**
 * The /stack page's pure parts: the stack as data and in the URL, each conv layer's
 * weights (from the presets, seeded random, the digit network's learned filters, or
 * typed in), the request body, and the pictures the project makes itself.
 * Tested in Node (tests/js/layers-stack.test.mjs).
 */

import { bool, decodeTensor, encodeTensor, int, oneOf } from '../core/state.js';

/** Most layers and filters the page offers (the API allows a little more). */
export const MAX_LAYERS = 12;
export const MAX_FILTERS = 32;
export const ACTIVATIONS = ['relu', 'leaky', 'sigmoid', 'tanh'];
const API_ACTIVATION = { relu: 'relu', leaky: 'leaky_relu', sigmoid: 'sigmoid', tanh: 'tanh' };

/** The preset kernels a 'p' conv layer cycles through, filter by filter (all 3x3). */
export const PRESET_ORDER = ['sobel_x', 'sobel_y', 'laplacian', 'diagonal', 'anti_diagonal', 'sharpen', 'emboss', 'box_blur', 'prewitt_x', 'prewitt_y', 'centre_x', 'gaussian_blur'];

export const DEFAULT_LAYERS = [
  { t: 'conv', n: 8, k: 3, s: 1, p: 1, d: 1, src: 'p' },
  { t: 'act', f: 'relu' },
  { t: 'max', k: 2, s: 2 },
  { t: 'conv', n: 16, k: 3, s: 1, p: 1, d: 1, src: 'r1' },
  { t: 'act', f: 'relu' },
  { t: 'max', k: 2, s: 2 },
];

const range = (v, lo, hi, what) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new RangeError(`${what}: expected ${lo}..${hi}`);
  return n;
};

/** One layer as text: "c_8_3_1_1_1_p", "a_relu", "m_2_2", "v_2_2". */
export function encodeLayer(l) {
  if (l.t === 'conv') {
    const src = l.src === 'w' ? `w${encodeTensor(l.w)}` : l.src;
    return `c_${l.n}_${l.k}_${l.s}_${l.p}_${l.d}_${src}`;
  }
  if (l.t === 'act') return `a_${l.f}`;
  return `${l.t === 'max' ? 'm' : 'v'}_${l.k}_${l.s}`;
}

export function decodeLayer(s) {
  const [kind, ...f] = s.split('_');
  if (kind === 'c') {
    if (f.length !== 6) throw new SyntaxError('a conv layer has six fields');
    const l = { t: 'conv', n: range(f[0], 1, MAX_FILTERS, 'filters'), k: range(f[1], 1, 7, 'kernel'), s: range(f[2], 1, 4, 'stride'), p: range(f[3], 0, 3, 'padding'), d: range(f[4], 1, 3, 'dilation') };
    const src = f[5];
    if (src === 'p' || src === 'l') l.src = src;
    else if (/^r\d{1,9}$/.test(src)) l.src = src;
    else if (src.startsWith('w')) {
      l.src = 'w';
      l.w = decodeTensor(src.slice(1), 4);
      if (l.w.length !== l.n || l.w[0][0].length !== l.k) throw new RangeError('weight does not fit the layer');
    } else throw new SyntaxError(`unknown weights "${src}"`);
    return l;
  }
  if (kind === 'a') {
    if (!ACTIVATIONS.includes(f[0]) || f.length !== 1) throw new RangeError('unknown activation');
    return { t: 'act', f: f[0] };
  }
  if (kind === 'm' || kind === 'v') {
    if (f.length !== 2) throw new SyntaxError('a pooling has two fields');
    return { t: kind === 'm' ? 'max' : 'avg', k: range(f[0], 1, 4, 'kernel'), s: range(f[1], 1, 4, 'stride') };
  }
  throw new SyntaxError(`unknown layer "${kind}"`);
}

export const layersCodec = {
  encode: (ls) => ls.map(encodeLayer).join('~'),
  decode(s) {
    const ls = s === '' ? [] : s.split('~').map(decodeLayer);
    if (ls.length > MAX_LAYERS) throw new RangeError(`at most ${MAX_LAYERS} layers`);
    return ls;
  },
};

/** "layer.map.step" of the open step view, or null. */
export const openCodec = {
  encode: (o) => `${o.layer}.${o.map}.${o.step}`,
  decode(s) {
    const v = s.split('.').map(Number);
    if (v.length !== 3 || !v.every((n) => Number.isInteger(n) && n >= 0)) throw new RangeError('expected layer.map.step');
    return { layer: v[0], map: v[1], step: v[2] };
  },
};

export const PICTURES = ['house', 'rings', 'checker'];

export const STACK_PROPS = [
  { name: 'lang', key: 'lang', def: 'en', codec: oneOf(['en', 'ru']), push: true },
  // 'house' | 'rings' | 'checker' (made here), 'draw' (strokes in `ink`), 'upload' (not in the URL).
  { name: 'src', key: 'src', def: 'house', codec: oneOf([...PICTURES, 'draw', 'upload']), push: true },
  { name: 'colour', key: 'col', def: 'rgb', codec: oneOf(['rgb', 'grey']), push: true },
  { name: 'size', key: 'sz', def: 96, codec: int(16, 128), push: true },
  { name: 'ink', key: 'ink', def: '', codec: { encode: String, decode: (s) => s }, push: true },
  { name: 'layers', key: 'L', def: DEFAULT_LAYERS, codec: layersCodec, push: true },
  { name: 'open', key: 'at', def: null, codec: openCodec, push: false },
  // In a frame (?embed=1): no controls, the overview or the open map's step view only.
  { name: 'embed', key: 'embed', def: false, codec: bool, push: true },
];

/** Seeded uniform numbers in [0, 1) (mulberry32): the same seed, the same filters. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round4 = (v) => Math.round(v * 1e4) / 1e4;

/**
 * A conv layer's weight (n, cIn, k, k).
 * - 'p': preset kernels in PRESET_ORDER, one per filter, the same on every input map
 *   and divided by their number (3x3 only; other sizes fall back to random);
 * - 'rSEED': uniform in +-1/sqrt(cIn*k*k), PyTorch's default bound;
 * - 'l': the digit network's learned first-layer filters (3x3), one per filter;
 * - 'w': the numbers typed in.
 * @param {object} l the layer @param {number} cIn @param {Record<string, {weight: number[][]}>} presets
 * @param {number[][][][] | null} learned (16, 1, 3, 3)
 */
export function layerWeight(l, cIn, presets, learned) {
  if (l.src === 'w') return l.w;
  const k = l.k;
  const fromBank = (bank) => Array.from({ length: l.n }, (_, o) => Array.from({ length: cIn }, () => bank[o % bank.length].map((row) => row.map((v) => round4(v / cIn)))));
  if (k === 3 && l.src === 'p' && presets) {
    const bank = PRESET_ORDER.filter((n) => presets[n]).map((n) => presets[n].weight);
    if (bank.length) return fromBank(bank);
  }
  if (k === 3 && l.src === 'l' && learned) return fromBank(learned.map((f) => f[0]));
  const seed = l.src.startsWith('r') ? Number(l.src.slice(1)) : 0;
  const next = rng(seed);
  const bound = 1 / Math.sqrt(cIn * k * k);
  return Array.from({ length: l.n }, () => Array.from({ length: cIn }, () => Array.from({ length: k }, () => Array.from({ length: k }, () => round4((next() * 2 - 1) * bound)))));
}

/**
 * Channels each layer reads and gives, for the weights (channels only: the server
 * checks the sizes and says which layer does not fit).
 */
export function channelsIn(layers, c0) {
  const out = [];
  let c = c0;
  for (const l of layers) {
    out.push(c);
    if (l.t === 'conv') c = l.n;
  }
  return out;
}

/** The POST /api/stack body. */
export function stackBody(input, layers, presets, learned) {
  const cins = channelsIn(layers, input.length);
  return {
    input,
    layers: layers.map((l, i) => {
      if (l.t === 'conv') return { type: 'conv2d', weight: layerWeight(l, cins[i], presets, learned), stride: l.s, padding: l.p, dilation: l.d };
      if (l.t === 'act') return { type: 'activation', function: API_ACTIVATION[l.f] };
      return { type: l.t === 'max' ? 'max_pool2d' : 'avg_pool2d', kernel_size: l.k, stride: l.s };
    }),
  };
}

// ------------------------------------------------------------------ pictures made here

const clamp255 = (v) => Math.max(0, Math.min(255, Math.round(v)));

/** RGB of picture `name` at (x, y) in [0, 1). */
function pixel(name, x, y) {
  if (name === 'rings') {
    const r = Math.hypot(x - 0.5, y - 0.5);
    const a = Math.cos(r * 40 * r * 2.2);
    return [128 + 120 * a, 128 + 120 * Math.cos(r * 30), 200 - 150 * r];
  }
  if (name === 'checker') {
    // Squares, rotated 20 degrees, with a bright disc in the middle.
    const c = Math.cos(0.35);
    const s = Math.sin(0.35);
    const u = (x - 0.5) * c - (y - 0.5) * s;
    const v = (x - 0.5) * s + (y - 0.5) * c;
    const on = (Math.floor(u * 6 + 10) + Math.floor(v * 6 + 10)) % 2 === 0;
    if (Math.hypot(x - 0.5, y - 0.5) < 0.16) return [250, 210, 40];
    return on ? [230, 230, 230] : [30, 60, 120];
  }
  // A house under the sun: a sky gradient, grass, walls, a roof, a window, a door.
  let rgb = y < 0.7 ? [90 + 100 * y, 150 + 80 * y, 235] : [60, 150 - 60 * (y - 0.7), 50];
  if (Math.hypot(x - 0.8, y - 0.18) < 0.1) rgb = [250, 220, 60];
  const inWall = x > 0.22 && x < 0.62 && y > 0.45 && y < 0.8;
  const roof = y > 0.25 && y <= 0.45 && Math.abs(x - 0.42) < (y - 0.25) * 1.25;
  if (roof) rgb = [140, 40, 30];
  if (inWall) rgb = [210, 180, 140];
  if (inWall && x > 0.28 && x < 0.38 && y > 0.52 && y < 0.62) rgb = [60, 90, 140];
  if (inWall && x > 0.46 && x < 0.55 && y > 0.6) rgb = [90, 60, 30];
  return rgb;
}

/**
 * Picture `name` as (C, size, size) of 0..255: 3 channels, or 1 (grey: ITU-R 601 luma).
 * @param {string} name @param {number} size @param {'rgb' | 'grey'} colour
 */
export function makePicture(name, size, colour) {
  const chans = colour === 'grey' ? 1 : 3;
  const out = Array.from({ length: chans }, () => Array.from({ length: size }, () => new Array(size)));
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const [R, G, B] = pixel(name, (c + 0.5) / size, (r + 0.5) / size).map(clamp255);
      if (chans === 1) out[0][r][c] = Math.round(0.299 * R + 0.587 * G + 0.114 * B);
      else [out[0][r][c], out[1][r][c], out[2][r][c]] = [R, G, B];
    }
  }
  return out;
}
