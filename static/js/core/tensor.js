/**
 * Small helpers over nested-list tensors, the shape the API speaks:
 * an input is `(C, H, W)`, a conv weight `(C_out, C_in/groups, kH, kW)`.
 * Pure functions only; every one returns a new array and never mutates its argument.
 */

/**
 * Shape of a nested list (follows the first element at each level).
 * @param {any} t
 * @returns {number[]}
 */
export function shapeOf(t) {
  const shape = [];
  let x = t;
  while (Array.isArray(x)) {
    shape.push(x.length);
    x = x[0];
  }
  return shape;
}

/**
 * A tensor of `shape` holding `fill` (or `fill(index)` when it is a function of the flat index).
 * @param {number[]} shape
 * @param {number | ((i: number) => number)} fill
 */
export function full(shape, fill = 0) {
  let i = 0;
  const build = (depth) => {
    const out = new Array(shape[depth]);
    for (let k = 0; k < shape[depth]; k++) {
      if (depth === shape.length - 1) out[k] = typeof fill === 'function' ? fill(i++) : fill;
      else out[k] = build(depth + 1);
    }
    return out;
  };
  return shape.length ? build(0) : [];
}

/** Flatten a nested list in row-major order. @param {any} t @returns {number[]} */
export function flatten(t) {
  return Array.isArray(t) ? t.flat(Infinity) : [t];
}

/**
 * Rebuild a nested list of `shape` from row-major `flat` values.
 * Throws when the counts disagree, so a malformed link fails loudly, not silently.
 * @param {number[]} flat
 * @param {number[]} shape
 */
export function reshape(flat, shape) {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== flat.length) throw new RangeError(`shape ${shape.join('x')} needs ${n} values, got ${flat.length}`);
  return full(shape, (i) => flat[i]);
}

/** Deep copy. @template T @param {T} t @returns {T} */
export function clone(t) {
  return Array.isArray(t) ? t.map(clone) : t;
}

/** Minimum and maximum of every number in a nested list. */
export function range(t) {
  let min = Infinity;
  let max = -Infinity;
  for (const v of flatten(t)) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/**
 * Resize one 2-D grid to `rows x cols`, keeping the top-left block and filling new cells.
 * @param {number[][]} g @param {number} rows @param {number} cols @param {number} fill
 */
export function resize2d(g, rows, cols, fill) {
  return full([rows, cols], (i) => {
    const r = Math.floor(i / cols);
    const c = i % cols;
    return r < g.length && c < g[0].length ? g[r][c] : fill;
  });
}

/**
 * Shift one 2-D grid by `(dr, dc)`; cells that enter are `fill` (nothing wraps round:
 * the lecture's translation-invariance demo moves the glyph over a background).
 */
export function shift2d(g, dr, dc, fill) {
  const rows = g.length;
  const cols = g[0].length;
  return full([rows, cols], (i) => {
    const r = Math.floor(i / cols) - dr;
    const c = (i % cols) - dc;
    return r >= 0 && r < rows && c >= 0 && c < cols ? g[r][c] : fill;
  });
}

/** Mirror a 2-D grid left-right (`horizontal`) or top-bottom. */
export function flip2d(g, horizontal) {
  return horizontal ? g.map((row) => [...row].reverse()) : [...g].reverse().map((row) => [...row]);
}

/** Apply `f` to every number of a nested list. */
export function map(t, f) {
  return Array.isArray(t) ? t.map((x) => map(x, f)) : f(t);
}

/**
 * Fit a weight to `(cOut, cIn, kH, kW)`: keep what overlaps, and fill new filters or
 * channels with a copy of the first one (so adding a channel to a Sobel keeps a Sobel).
 * @param {number[][][][]} w @param {number[]} shape
 */
export function fitWeight(w, [cOut, cIn, kH, kW]) {
  const first = w[0][0];
  return full([cOut, cIn], 0).map((row, o) =>
    row.map((_, c) => {
      const src = (w[o] && w[o][c]) || (w[0] && w[0][c]) || (w[o] && w[o][0]) || first;
      return resize2d(src, kH, kW, 0);
    }),
  );
}
