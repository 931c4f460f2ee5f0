/**
 * Colour maps, precomputed once as 256-entry RGBA tables (tensorflow/playground's
 * trick: a heatmap then costs one table lookup per cell).
 *
 * - Diverging, for signed values, centred on 0: ColorBrewer PuOr (purple for
 *   negative, orange for positive), which ColorBrewer lists as colour-blind safe;
 *   tests/js/colormap.test.mjs checks it under a simulated deuteranopia.
 * - Sequential, for non-negative values: matplotlib's viridis, whose lightness
 *   rises monotonically, so order survives greyscale projectors and colour blindness.
 */

/** @param {string} hex */
function rgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Linear interpolation of evenly spaced stops into a 256-entry RGBA table. */
function table(stops) {
  const out = new Uint8ClampedArray(256 * 4);
  const cols = stops.map(rgb);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (cols.length - 1);
    const k = Math.min(Math.floor(x), cols.length - 2);
    const f = x - k;
    for (let j = 0; j < 3; j++) out[i * 4 + j] = Math.round(cols[k][j] * (1 - f) + cols[k + 1][j] * f);
    out[i * 4 + 3] = 255;
  }
  return out;
}

// PuOr, 11 classes, reversed so that index 0 (most negative) is purple.
export const DIVERGING = table([
  '#2d004b', '#542788', '#8073ac', '#b2abd2', '#d8daeb', '#f7f7f7',
  '#fee0b6', '#fdb863', '#e08214', '#b35806', '#7f3b08',
]);

// viridis sampled at 0, 0.1, ..., 1.
export const SEQUENTIAL = table([
  '#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c',
  '#22a884', '#44bf70', '#7ad151', '#bddf26', '#fde725',
]);

// A picture's own grey, black (0) to white (the maximum): a photo looks like a photo.
export const GREY = table(['#000000', '#ffffff']);

/**
 * How pictures are drawn: as the grey or colour pictures they are, or (`heat`,
 * the page's "show images as heat maps" switch) on the palettes of any map
 * (view/render.js reads it when it builds a model).
 */
export const LOOK = { heat: false };

/**
 * @typedef {{kind: 'diverging' | 'sequential' | 'grey' | 'rgb', min: number, max: number}} Scale
 */

/**
 * Choose a scale for some values: diverging and symmetric about 0 when any is
 * negative (so 0 is always white and equal magnitudes get equal strength),
 * sequential from 0 to the maximum otherwise.
 * @param {Iterable<number>} values
 * @returns {Scale}
 */
export function scaleFor(values, kind = null) {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) return { kind: kind === 'diverging' ? 'diverging' : 'sequential', min: kind === 'diverging' ? -1 : 0, max: 1 };
  // A grid whose values may be signed keeps the diverging palette whatever their
  // sign today, so its colours do not change meaning as the kernel changes; one
  // that cannot be negative keeps the sequential one (see gridKind).
  if (kind === 'diverging' || (kind !== 'sequential' && min < 0)) {
    const m = Math.max(-min, max) || 1;
    return { kind: 'diverging', min: -m, max: m };
  }
  return { kind: 'sequential', min: 0, max: max > 0 ? max : 1 };
}

/** The palette of a scale ('rgb' pictures are their own colours; their legend is grey). @param {Scale} scale */
export function paletteOf(scale) {
  if (scale.kind === 'grey' || scale.kind === 'rgb') return GREY;
  return scale.kind === 'diverging' ? DIVERGING : SEQUENTIAL;
}

/**
 * Where each activation's values can lie, [lowest, highest] (app/engine/activations.py;
 * softplus, relu6, elu and hardsigmoid listed for when the page offers them).
 */
export const ACTIVATION_RANGE = {
  none: [-Infinity, Infinity],
  relu: [0, Infinity],
  leaky_relu: [-Infinity, Infinity],
  sigmoid: [0, 1],
  tanh: [-1, 1],
  softplus: [0, Infinity],
  relu6: [0, 6],
  hardsigmoid: [0, 1],
  elu: [-1, Infinity],
};

/** The range of activation `name` (LeakyReLU with slope 0 is ReLU); unknown ones may be anything. */
export function activationRange(name, slope = 0.01) {
  if (name === 'leaky_relu' && slope === 0) return [0, Infinity];
  return ACTIVATION_RANGE[name] || [-Infinity, Infinity];
}

/** Sequential when the function can never be negative, diverging when it can. */
export function activationKind(name, slope = 0.01) {
  return activationRange(name, slope)[0] >= 0 ? 'sequential' : 'diverging';
}

// The backward view's gradients (view/backward.js): signed, so diverging.
const GRADIENTS = new Set(['go', 'ga', 'gz', 'gzk', 'gw', 'gb', 'gzp', 'gx', 'pw']);

/**
 * The palette kind of a grid, fixed by what the grid holds and never by the sign
 * of today's values (so a colour keeps its meaning as the kernel changes):
 * inputs by their value scheme (pm1 signed, unit non-negative, byte a picture:
 * 'grey'), kernels, products, the convolution's output and every gradient
 * diverging, an activation's map by the function's range, a pooling's map (and
 * the network's output, and its MSE target) by the map it pools. null: no rule
 * (the values decide).
 * @param {string} id the grid's id (view/render.js, view/backward.js)
 * @param {{activation?: string, slope?: number, scheme?: string}} [o]
 * @returns {'diverging' | 'sequential' | 'grey' | null}
 */
export function gridKind(id, { activation = 'none', slope = 0.01, scheme } = {}) {
  const after = activation && activation !== 'none' ? activationKind(activation, slope) : 'diverging';
  switch (id) {
    case 'input':
    case 'tin':
      return scheme === 'pm1' ? 'diverging' : scheme === 'unit' ? 'sequential' : scheme === 'byte' ? 'grey' : null;
    case 'kernel':
    case 'wr':
    case 'products':
    case 'output':
    case 'z':
      return 'diverging';
    case 'act':
    case 'pool':
    case 'pa':
    case 'o':
    case 't':
      return after;
    case 'gate':
      // f'(Z): never negative, but for a LeakyReLU given a negative slope.
      return activation === 'leaky_relu' && slope < 0 ? 'diverging' : 'sequential';
    default:
      return GRADIENTS.has(id) ? 'diverging' : null;
  }
}

/**
 * The range a grid is drawn on when the input is a picture (setosa's Image
 * Kernels): the convolution's output, like a photo, from black at 0 to white at
 * 255 (clamped: an edge filter's negative side is black); a bounded activation
 * over its own range (sigmoid 0..1, tanh -1..1); a pooling as the map it pools.
 * null: a grid not drawn as a picture.
 */
export function pictureRange(id, activation = 'none', slope = 0.01) {
  if (id === 'output') return [0, 255];
  if (id !== 'act' && id !== 'pool') return null;
  if (id === 'pool' && (!activation || activation === 'none')) return [0, 255];
  const [lo, hi] = activationRange(activation, slope);
  return Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : [0, 255];
}

/**
 * Palette index 0..255 of `v` on `scale` (clamped; NaN maps to the middle).
 * @param {number} v @param {Scale} scale
 */
export function colourIndex(v, scale) {
  const span = scale.max - scale.min;
  let x = span > 0 ? (v - scale.min) / span : 0.5;
  if (!(x >= 0)) x = x < 0 ? 0 : 0.5;
  if (x > 1) x = 1;
  return Math.round(x * 255);
}

/** CSS colour of `v` on `scale`. */
export function cssColour(v, scale) {
  const p = paletteOf(scale);
  const i = colourIndex(v, scale) * 4;
  return `rgb(${p[i]},${p[i + 1]},${p[i + 2]})`;
}

/** Relative luminance (WCAG) of palette entry `i`. */
export function luminance(palette, i) {
  const lin = (c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(palette[i * 4]) + 0.7152 * lin(palette[i * 4 + 1]) + 0.0722 * lin(palette[i * 4 + 2]);
}

/** Black or white, whichever reads better on top of `v`'s colour. */
export function textColour(v, scale) {
  return textFor(luminance(paletteOf(scale), colourIndex(v, scale)));
}

/**
 * Black or white text for a background of relative luminance `l`: whichever
 * contrasts more (WCAG). They cross at l = 0.179, where both give 4.58:1, so
 * every cell's number meets the 4.5:1 of WCAG AA on every palette.
 */
export function textFor(l) {
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000' : '#fff';
}

/** A pixel value on an 'rgb' scale as a byte, clamped to 0..255. */
export function byteOf(v, scale) {
  const x = scale.max > scale.min ? ((v - scale.min) / (scale.max - scale.min)) * 255 : 0;
  return x >= 0 ? (x <= 255 ? Math.round(x) : 255) : 0;
}

/**
 * The [r, g, b] drawn for cell k: the picture's own colour on an 'rgb' scale
 * (`planes`: the red, green and blue channels), else the palette's.
 */
export function cellRGB(values, k, scale, planes = null) {
  if (scale.kind === 'rgb' && planes) return planes.map((p) => byteOf(p[k], scale));
  const p = paletteOf(scale);
  const i = colourIndex(values[k], scale) * 4;
  return [p[i], p[i + 1], p[i + 2]];
}

/** Black or white text on an [r, g, b] colour. */
export function textOn([r, g, b]) {
  return textFor(luminance(new Uint8ClampedArray([r, g, b, 255]), 0));
}

/**
 * Write three planes (red, green, blue; row-major) into `rgba` as one
 * true-colour pixel per cell.
 * @param {ArrayLike<number>[]} planes @param {Scale} scale @param {Uint8ClampedArray} rgba
 */
export function paintRGB(planes, scale, rgba) {
  const n = planes[0].length;
  if (rgba.length !== n * 4 || planes.length !== 3) throw new RangeError(`picture has ${rgba.length / 4} pixels for ${planes.length}x${n} values`);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < 3; j++) rgba[k * 4 + j] = byteOf(planes[j][k], scale);
    rgba[k * 4 + 3] = 255;
  }
}

/**
 * Write `values` (row-major) into `rgba` (an ImageData's data) as one pixel per cell.
 * Throws on a size mismatch rather than drawing a skewed picture.
 * @param {ArrayLike<number>} values @param {Scale} scale @param {Uint8ClampedArray} rgba
 */
export function paint(values, scale, rgba) {
  if (rgba.length !== values.length * 4) {
    throw new RangeError(`heatmap has ${rgba.length / 4} pixels for ${values.length} values`);
  }
  const p = paletteOf(scale);
  for (let k = 0; k < values.length; k++) {
    const i = colourIndex(values[k], scale) * 4;
    rgba[k * 4] = p[i];
    rgba[k * 4 + 1] = p[i + 1];
    rgba[k * 4 + 2] = p[i + 2];
    rgba[k * 4 + 3] = 255;
  }
}
