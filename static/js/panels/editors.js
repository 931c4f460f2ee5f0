/**
 * Editing the input and the kernel. The pure helpers (value schemes, painting,
 * resizing; the input tools are in tools.js) are tested in Node; KernelEditor builds the kernel's
 * numeric tables, which are at once the editor and the kernel's table alternative.
 */

import { map, range, resize2d } from '../core/tensor.js';
import { numStr } from '../core/state.js';

/** The value ranges a drawn input can use: the lecture's -1/+1, 0..1, and pixels. */
export const SCHEMES = {
  pm1: { lo: -1, hi: 1 },
  unit: { lo: 0, hi: 1 },
  byte: { lo: 0, hi: 255 },
};

/** The lecture's X/O filters (slide 5), whose windows are averaged; one name or a "~" list. */
export const LECTURE_FILTERS = ['diagonal', 'centre_x', 'anti_diagonal'];

/**
 * The reduction a kernel preset is meant with: "mean" for the lecture's X/O
 * filters (slide 5 divides each window's sum by 9), "sum" for the image kernels
 * (identity, blurs, sharpen, Sobel, ...: their weights already say how to
 * weigh; a mean would divide an edge filter by 9).
 * @param {string} name a preset name, or several joined by "~"
 */
export function reduceFor(name) {
  return name.split('~').every((n) => LECTURE_FILTERS.includes(n)) ? 'mean' : 'sum';
}

/** A value scheme that suits some numbers: the lecture's -1/+1, 0..1, or pixels. */
export function schemeOf(t3) {
  const { min, max } = range(t3);
  if (min < 0) return 'pm1';
  return max <= 1 ? 'unit' : 'byte';
}

/** Background of a scheme: what "clear" fills with and what shifting brings in. */
export function background(scheme) {
  return SCHEMES[scheme].lo;
}

/**
 * Move values linearly from one scheme's range to another's (-1/+1 <-> 0/1 <-> 0/255),
 * so switching the scheme keeps the picture.
 */
export function rescale(t, from, to) {
  const a = SCHEMES[from];
  const b = SCHEMES[to];
  return map(t, (v) => Number(numStr(b.lo + ((v - a.lo) / (a.hi - a.lo)) * (b.hi - b.lo))));
}

/**
 * The value a stroke paints when it starts on a cell holding `current`: the chosen
 * `paint` value, or, when the cell already holds it, the opposite end of the range
 * (so clicking a stroke erases it, as in any pixel editor).
 */
export function strokeValue(current, paint, scheme) {
  if (current !== paint) return paint;
  const { lo, hi } = SCHEMES[scheme];
  return paint === lo ? hi : lo;
}

/** Set one cell of channel `ch`; returns a new tensor (the state is never mutated). */
export function setCell(input, ch, r, c, v) {
  return input.map((g, k) => (k !== ch ? g : g.map((row, i) => (i !== r ? row : row.map((x, j) => (j === c ? v : x))))));
}

/** Every channel resized to `rows x cols` (top-left kept, new cells `fill`). */
export function resizeInput(input, rows, cols, fill) {
  return input.map((g) => resize2d(g, rows, cols, fill));
}

/**
 * Kernel tables of number inputs, one per filter and input channel (up to 15x15).
 * Reports every valid edit; an entry that is not a number is flagged on the
 * spot and not sent.
 */
export class KernelEditor {
  /**
   * @param {HTMLElement} root
   * @param {{onWeight: (o: number, c: number, r: number, k: number, v: number) => void,
   *   onBias: (o: number, v: number) => void}} handlers
   */
  constructor(root, handlers) {
    this.root = root;
    this.handlers = handlers;
    this.shape = '';
    root.addEventListener('input', (ev) => this.edited(ev.target, false));
    root.addEventListener('change', (ev) => this.edited(ev.target, true));
  }

  edited(el, final) {
    if (!(el instanceof HTMLInputElement) || !el.dataset.w && !el.dataset.b) return;
    const v = el.value.trim() === '' ? NaN : Number(el.value);
    const ok = Number.isFinite(v);
    if (final || ok) el.setAttribute('aria-invalid', ok ? 'false' : 'true');
    if (!ok) return;
    if (el.dataset.w) {
      const [o, c, r, k] = el.dataset.w.split(',').map(Number);
      this.handlers.onWeight(o, c, r, k, v);
    } else this.handlers.onBias(Number(el.dataset.b), v);
  }

  /**
   * Show `weight` (C_out, C_in/groups, kH, kW) and `bias` (or null). Rebuilds the
   * tables only when the shape changes, so typing keeps its focus.
   */
  render(weight, bias, t) {
    const shape = JSON.stringify([weight.length, weight[0].length, weight[0][0].length, weight[0][0][0].length, !!bias, t('kernel.filter', { n: 1 })]);
    if (shape !== this.shape) {
      this.shape = shape;
      this.root.innerHTML = '';
      weight.forEach((filter, o) => {
        const box = document.createElement('div');
        box.className = 'filter';
        filter.forEach((k, c) => {
          const name = weight.length === 1 && filter.length === 1
            ? t('grid.kernel')
            : t('table.kernelOf', { o: o + 1, c: c + 1 });
          const table = document.createElement('table');
          table.className = 'kedit';
          table.setAttribute('aria-label', name);
          const cap = document.createElement('caption');
          cap.textContent = weight.length === 1 && filter.length === 1 ? '' : t('table.kernelOfShort', { o: o + 1, c: c + 1 });
          table.append(cap);
          k.forEach((row, r) => {
            const tr = document.createElement('tr');
            row.forEach((_, j) => {
              const td = document.createElement('td');
              const inp = document.createElement('input');
              inp.type = 'text';
              inp.inputMode = 'decimal';
              inp.dataset.w = `${o},${c},${r},${j}`;
              inp.setAttribute('aria-label', t('kernel.cell', { r: r + 1, c: j + 1 })); // counted from 1, as the page counts
              td.append(inp);
              tr.append(td);
            });
            table.append(tr);
          });
          box.append(table);
        });
        if (bias) {
          const label = document.createElement('label');
          label.className = 'bias';
          label.textContent = weight.length === 1 ? t('kernel.bias') : t('kernel.biasOf', { o: o + 1 });
          const inp = document.createElement('input');
          inp.type = 'text';
          inp.inputMode = 'decimal';
          inp.dataset.b = String(o);
          label.append(inp);
          box.append(label);
        }
        this.root.append(box);
      });
    }
    // Fill values, leaving alone the entry being typed in.
    for (const inp of this.root.querySelectorAll('input[data-w]')) {
      const [o, c, r, k] = inp.dataset.w.split(',').map(Number);
      if (document.activeElement !== inp) inp.value = fmtExact(weight[o][c][r][k]);
    }
    for (const inp of this.root.querySelectorAll('input[data-b]')) {
      if (document.activeElement !== inp) inp.value = fmtExact(bias[Number(inp.dataset.b)] ?? 0);
    }
  }
}

/** Kernel numbers as typed: exact up to 6 significant digits (1/9 stays 0.111111). */
function fmtExact(v) {
  return Math.abs(v) < 5e-7 ? '0' : numStr(v);
}

