/**
 * The grid views' zoom lens (gridview.js, drawLens): the cells round the cursor
 * drawn large, with their numbers. Loaded on first use: most views never need it.
 */

import { textOn } from './colormap.js';

const LENS_CELLS = 7;
const LENS_CELL = 30;

/**
 * Draw the lens of `view` (a GridView) round the cell `at` and show it.
 * @param {import('./gridview.js').GridView} view @param {number[]} at [row, col]
 */
export function drawLens(view, at) {
  const half = Math.floor(LENS_CELLS / 2);
  const size = LENS_CELLS * LENS_CELL;
  const dpr = (typeof devicePixelRatio === 'number' && devicePixelRatio) || 1;
  if (view.lens.width !== size * dpr) {
    view.lens.width = size * dpr;
    view.lens.height = size * dpr;
    view.lens.style.width = `${size}px`;
    view.lens.style.height = `${size}px`;
  }
  const ctx = view.lens.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, size, size);
  ctx.font = `11px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  for (let i = 0; i < LENS_CELLS; i++) {
    for (let j = 0; j < LENS_CELLS; j++) {
      const r = at[0] - half + i;
      const c = at[1] - half + j;
      const x = j * LENS_CELL;
      const y = i * LENS_CELL;
      if (r < 0 || c < 0 || r >= view.rows || c >= view.cols) {
        ctx.fillStyle = '#ddd';
        ctx.fillRect(x, y, LENS_CELL, LENS_CELL);
        continue;
      }
      const rgb = view.rgb(r, c);
      ctx.fillStyle = `rgb(${rgb.join(',')})`;
      ctx.fillRect(x, y, LENS_CELL, LENS_CELL);
      ctx.fillStyle = textOn(rgb);
      ctx.fillText(view.text(r, c), x + LENS_CELL / 2, y + LENS_CELL / 2, LENS_CELL - 2);
    }
  }
  ctx.lineWidth = 2;
  ctx.strokeStyle = '#0050d0';
  ctx.strokeRect(half * LENS_CELL + 1, half * LENS_CELL + 1, LENS_CELL - 2, LENS_CELL - 2);
  // Right of the cursor, or left of it when the window has no room on the right.
  const box = view.el.getBoundingClientRect();
  const right = (at[1] + 1) * view.cell + 12;
  const room = (typeof innerWidth === 'number' ? innerWidth : 1e9) - box.left - right;
  const left = room >= size ? right : at[1] * view.cell - size - 12;
  const top = Math.max(0, Math.min(at[0] * view.cell - size / 2, view.rows * view.cell - size));
  view.lens.style.left = `${left}px`;
  view.lens.style.top = `${top}px`;
  view.lens.hidden = false;
}
