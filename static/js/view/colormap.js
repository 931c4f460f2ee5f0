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
 * How pictures are drawn: as the grey pictures they are, or (`heat`, the page's
 * "show images as heat maps" switch) on the sequential palette like any map.
 */
export const LOOK = { heat: false };

/**
 * @typedef {{kind: 'diverging' | 'sequential' | 'grey', min: number, max: number}} Scale
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
  // sign today, so its colours do not change meaning as the kernel changes.
  if (min < 0 || kind === 'diverging') {
    const m = Math.max(-min, max) || 1;
    return { kind: 'diverging', min: -m, max: m };
  }
  return { kind: 'sequential', min: 0, max: max > 0 ? max : 1 };
}

/** The palette of a scale. @param {Scale} scale */
export function paletteOf(scale) {
  if (scale.kind === 'grey') return LOOK.heat ? SEQUENTIAL : GREY;
  return scale.kind === 'diverging' ? DIVERGING : SEQUENTIAL;
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
  return luminance(paletteOf(scale), colourIndex(v, scale)) > 0.3 ? '#111' : '#fff';
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
