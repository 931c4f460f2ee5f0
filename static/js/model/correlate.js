/**
 * The compact step form's core (docs/STEPS.md): a kernel sliding over a grid,
 * each step derived from the geometry when it is shown, O(taps) per call, nothing
 * built over all steps; and conv2d's forward pass, which the first view needs.
 * gradients.js and pool.js register the rest; derive.js loads everything.
 *
 * A deriver: count, taps, outShape, step(n) (docs/STEPS.md's result for step n),
 * outOf(n) and stepOfCell(c, r, col) (step <-> output cell), gridShape,
 * gridOrigin, gridValue(c, r, col), stepsReading(c, r, col) (the steps whose
 * counted taps read a grid cell, ascending), windowBoxes(n), spaced (the taps
 * skip cells); convolutions also result(n) and productRange().
 */

/** A nested list (or a number) as {data: Float64Array, shape}. */
export function flatten(t) {
  const shape = [];
  for (let x = t; Array.isArray(x); x = x[0]) shape.push(x.length);
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
  let at = 0;
  const walk = (x, depth) => {
    if (depth === shape.length) data[at++] = Number(x);
    else for (const y of x) walk(y, depth + 1);
  };
  walk(t, 0);
  return { data, shape };
}

/** `t` flattened, with ones put in front of its shape up to `rank` ((H, W) -> (1, H, W)). */
export function tensor(t, rank) {
  const f = flatten(t);
  while (f.shape.length < rank) f.shape.unshift(1);
  return f;
}

/** Cell (c, r, col) of a flattened (C, H, W) tensor. */
export const at3 = ({ data, shape: [, H, W] }) => (c, r, col) => data[(c * H + r) * W + col];
export const range = (from, n) => Array.from({ length: n }, (_, i) => from + i);
export const pairOf = (p) => (Array.isArray(p) ? p : [p, p]);

/** Source index along one axis of a padded input, or -1 for a zero (PyTorch's four modes). */
export function padSource(i, size, mode) {
  if (i >= 0 && i < size) return i;
  if (mode === 'zeros') return -1;
  if (mode === 'replicate') return i < 0 ? 0 : size - 1;
  if (mode === 'circular') return ((i % size) + size) % size;
  // reflect, the edge not repeated (the padding is smaller than the size)
  return i < 0 ? -i : 2 * (size - 1) - i;
}

/** Steps filling a (C, H, W) map in row-major order: their count and cells. */
export function rowMajor(C, H, W) {
  return {
    count: C * H * W,
    outShape: [C, H, W],
    outOf: (n) => [Math.floor(n / (H * W)), Math.floor(n / W) % H, n % W],
    stepOfCell: (c, r, col) => (c >= 0 && c < C && r >= 0 && r < H && col >= 0 && col < W ? (c * H + r) * W + col : -1),
  };
}

/** The windows (0 .. outN-1, starting every `s` from `start`) whose taps (`k`, `d` apart) land on `g`. */
export function hits(g, start, k, d, s, outN) {
  const list = [];
  for (let i = 0; i < k; i++) {
    const rest = g - start - i * d;
    if (rest >= 0 && rest % s === 0 && rest / s < outN) list.push(rest / s);
  }
  return list;
}

/** Ascending, each once. */
export const sortedOnce = (a) => a.sort((x, y) => x - y).filter((v, i) => i === 0 || v !== a[i - 1]);

/**
 * What every convolution-like derivation is: Q output channels, each a kernel of
 * M channels of kH x kW taps, sliding over a grid.
 * @param {object} o
 * @param {number[]} o.gridShape [C, Hg, Wg] @param {number[]} o.gridOrigin
 * @param {(c: number, r: number, col: number) => number} o.gridValue
 * @param {number} o.Q @param {number} o.M @param {number[]} o.k [kH, kW]
 * @param {(q: number, m: number, i: number, j: number) => number} o.kernel
 * @param {(q: number, m: number) => number} o.channel the grid channel kernel channel m reads
 * @param {(c: number) => number[]} o.readers the output channels whose kernel reads grid channel c
 * @param {number[]} o.out [H_out, W_out] @param {number[]} o.stride @param {number[]} o.dilation
 * @param {number[]} [o.start] @param {((q: number) => number) | null} [o.bias] @param {number | null} [o.divisor]
 */
export function correlation(o) {
  const [kH, kW] = o.k;
  const [oH, oW] = o.out;
  const [sH, sW] = o.stride;
  const [dH, dW] = o.dilation;
  const [r0, c0] = o.start || [0, 0];
  const taps = o.M * kH * kW;
  const divisor = o.divisor ?? null;
  const cells = rowMajor(o.Q, oH, oW);
  // Step n's output channel and the top-left tap of its window.
  const corner = (n) => [Math.floor(n / (oH * oW)), r0 + (Math.floor(n / oW) % oH) * sH, c0 + (n % oW) * sW];

  function step(n) {
    const [q, wr, wc] = corner(n);
    const s = { out: cells.outOf(n), window: [wr, wc], cells: [], mask: [], values: [], weights: [], products: [], sum: 0 };
    for (let m = 0; m < o.M; m++) {
      const ch = o.channel(q, m);
      for (let i = 0; i < kH; i++) {
        for (let j = 0; j < kW; j++) {
          const r = wr + i * dH;
          const col = wc + j * dW;
          const v = o.gridValue(ch, r, col);
          const w = o.kernel(q, m, i, j);
          s.cells.push([ch, r, col]);
          s.mask.push(true);
          s.values.push(v);
          s.weights.push(w);
          s.products.push(v * w);
          s.sum += v * w;
        }
      }
    }
    if (divisor !== null) s.sum /= divisor;
    s.bias = o.bias ? o.bias(q) : null;
    s.result = s.bias === null ? s.sum : s.sum + s.bias;
    return Object.assign(s, { argmax: null, divisor });
  }

  /** Step n's result alone, nothing allocated (a whole map of results at once). */
  function result(n) {
    const [q, wr, wc] = corner(n);
    let sum = 0;
    for (let m = 0; m < o.M; m++) {
      const ch = o.channel(q, m);
      for (let i = 0; i < kH; i++) for (let j = 0; j < kW; j++) sum += o.gridValue(ch, wr + i * dH, wc + j * dW) * o.kernel(q, m, i, j);
    }
    if (divisor !== null) sum /= divisor;
    return o.bias ? sum + o.bias(q) : sum;
  }

  /** [min, max] every product lies in (grid range times kernel range): the products' colour scale. */
  function productRange() {
    const [C, Hg, Wg] = o.gridShape;
    const g = [0, 0];
    const k = [0, 0];
    const widen = (a, v) => ((a[0] = Math.min(a[0], v)), (a[1] = Math.max(a[1], v)));
    for (let c = 0; c < C; c++) for (let r = 0; r < Hg; r++) for (let col = 0; col < Wg; col++) widen(g, o.gridValue(c, r, col));
    for (let q = 0; q < o.Q; q++) for (let m = 0; m < o.M; m++) for (let i = 0; i < kH; i++) for (let j = 0; j < kW; j++) widen(k, o.kernel(q, m, i, j));
    const ends = [g[0] * k[0], g[0] * k[1], g[1] * k[0], g[1] * k[1]];
    return [Math.min(...ends), Math.max(...ends)];
  }

  return {
    ...cells,
    taps,
    kernelShape: [kH, kW],
    gridShape: o.gridShape,
    gridOrigin: o.gridOrigin,
    gridValue: o.gridValue,
    spaced: (kH > 1 && dH > 1) || (kW > 1 && dW > 1),
    step,
    result,
    productRange,
    stepsReading(c, r, col) {
      const [C, Hg, Wg] = o.gridShape;
      if (c < 0 || c >= C || r < 0 || r >= Hg || col < 0 || col >= Wg) return [];
      const ys = hits(r, r0, kH, dH, sH, oH);
      const xs = hits(col, c0, kW, dW, sW, oW);
      const out = [];
      for (const q of o.readers(c)) for (const y of ys) for (const x of xs) out.push((q * oH + y) * oW + x);
      return sortedOnce(out);
    },
    windowBoxes(n) {
      const [q, wr, wc] = corner(n);
      const channels = new Set(range(0, o.M).map((m) => o.channel(q, m)));
      return [...channels].map((channel) => ({ channel, r0: wr, c0: wc, r1: wr + (kH - 1) * dH, c1: wc + (kW - 1) * dW }));
    },
  };
}

/** What conv2d's three derivations share: the padded input as a grid, channels per group, the divisor. */
export function convParts(geometry, input) {
  const x = tensor(input, 3);
  const [C, H, W] = x.shape;
  const p = geometry.padding;
  const mode = geometry.padding_mode || 'zeros';
  const get = at3(x);
  const [kH, kW] = geometry.kernel_size;
  const cg = geometry.in_channels / geometry.groups;
  return {
    grid: {
      gridShape: [C, H + p.top + p.bottom, W + p.left + p.right],
      gridOrigin: [p.top, p.left],
      gridValue(c, r, col) {
        const rr = padSource(r - p.top, H, mode);
        const cc = padSource(col - p.left, W, mode);
        return rr < 0 || cc < 0 ? 0 : get(c, rr, cc);
      },
    },
    cOut: geometry.out_channels,
    cg,
    og: geometry.out_channels / geometry.groups,
    divisor: geometry.reduce === 'mean' ? cg * kH * kW : null,
  };
}

/** conv2d forward (the engine's conv2d_trace). */
function conv2dForward(geometry, { input, weight, bias }) {
  const { grid, cOut, cg, og, divisor } = convParts(geometry, input);
  const w = tensor(weight, 4);
  const [kH, kW] = geometry.kernel_size;
  const b = bias ? flatten(bias).data : null;
  return correlation({
    ...grid,
    Q: cOut,
    M: cg,
    k: [kH, kW],
    kernel: (q, m, i, j) => w.data[((q * cg + m) * kH + i) * kW + j],
    channel: (q, m) => Math.floor(q / og) * cg + m,
    readers: (c) => range(Math.floor(c / cg) * og, og),
    out: geometry.output_size,
    stride: geometry.stride,
    dilation: geometry.dilation,
    bias: b ? (q) => b[q] : null,
    divisor,
  });
}

const KINDS = { conv2d: conv2dForward };

/** Add a derivation (gradients.js, pool.js). */
export function register(kinds) {
  Object.assign(KINDS, kinds);
}

/**
 * The deriver of one operation.
 * @param {'conv2d' | 'conv2d_grad_weight' | 'conv2d_grad_input' | 'conv_transpose2d' |
 *   'max_pool2d' | 'avg_pool2d' | 'activation'} kind (all but conv2d need their module loaded)
 * @param {object} geometry the answer's `geometry` (docs/STEPS.md)
 * @param {{input?: any, weight?: any, bias?: any, grad_output?: any, indices?: any}} tensors nested lists
 */
export function derive(kind, geometry, tensors) {
  if (!KINDS[kind]) throw new Error(`no derivation for ${kind} loaded`);
  return { ...KINDS[kind](geometry, tensors), kind };
}
