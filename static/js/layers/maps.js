/**
 * Maps drawn as pictures: one canvas pixel per cell, grey on the layer's shared
 * scale (black = the layer's minimum, white = its maximum), scaled up by CSS with
 * crisp pixels; a colour photo as itself; a filter on the diverging palette
 * (colormap.js), so a negative weight never reads as a dark pixel.
 */

import { paint, scaleFor } from '../view/colormap.js';

/** Grey level 0..255 of `v` on [lo, hi]. */
export function grey(v, lo, hi) {
  if (!(hi > lo)) return 128;
  return Math.max(0, Math.min(255, Math.round(((v - lo) / (hi - lo)) * 255)));
}

/** [min, max] over all maps of a (C, H, W) tensor. */
export function rangeOf(t3) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of t3) for (const row of m) for (const v of row) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function canvasOf(h, w) {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  return c;
}

/** A (H, W) map as a grey canvas on [lo, hi]. */
export function greyCanvas(map, lo, hi) {
  const h = map.length;
  const w = map[0].length;
  const c = canvasOf(h, w);
  const ctx = c.getContext('2d');
  const img = ctx.createImageData(w, h);
  for (let r = 0; r < h; r++) for (let col = 0; col < w; col++) {
    const g = grey(map[r][col], lo, hi);
    const i = (r * w + col) * 4;
    img.data[i] = img.data[i + 1] = img.data[i + 2] = g;
    img.data[i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

/** A (3, H, W) picture of 0..255 as itself; a (1, H, W) one in grey. */
export function photoCanvas(t3) {
  if (t3.length !== 3) return greyCanvas(t3[0], 0, 255);
  const h = t3[0].length;
  const w = t3[0][0].length;
  const c = canvasOf(h, w);
  const ctx = c.getContext('2d');
  const img = ctx.createImageData(w, h);
  for (let r = 0; r < h; r++) for (let col = 0; col < w; col++) {
    const i = (r * w + col) * 4;
    for (let k = 0; k < 3; k++) img.data[i + k] = t3[k][r][col];
    img.data[i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

/** A filter (kH, kW) on the diverging palette, symmetric about 0 across `all` filters. */
export function filterCanvas(kernel, scale = null) {
  const h = kernel.length;
  const w = kernel[0].length;
  const c = canvasOf(h, w);
  const ctx = c.getContext('2d');
  const img = ctx.createImageData(w, h);
  const values = kernel.flat();
  paint(values, scale || scaleFor(values.concat(values.map((v) => -v))), img.data);
  ctx.putImageData(img, 0, 0);
  return c;
}

/**
 * A canvas `px` wide showing `source` scaled up with crisp pixels, and a box
 * (rows r0..r1, cols c0..c1, inclusive, in source cells) outlined when given.
 */
export function zoomed(source, px, box = null, cells = null) {
  const scale = Math.max(1, Math.floor(px / Math.max(source.width, source.height)));
  const c = canvasOf(source.height * scale, source.width * scale);
  const ctx = c.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(source, 0, 0, c.width, c.height);
  const outline = (r, col, h, w, colour, lw) => {
    ctx.lineWidth = lw;
    ctx.strokeStyle = '#000';
    ctx.strokeRect(col * scale - lw, r * scale - lw, w * scale + 2 * lw, h * scale + 2 * lw);
    ctx.strokeStyle = colour;
    ctx.strokeRect(col * scale, r * scale, w * scale, h * scale);
  };
  if (cells) for (const [r, col] of cells) outline(r, col, 1, 1, '#e08214', 1);
  if (box) outline(box[0], box[2], box[1] - box[0] + 1, box[3] - box[2] + 1, '#fdb863', 2);
  return c;
}
