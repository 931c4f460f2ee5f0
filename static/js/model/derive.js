/**
 * The compact step form (docs/STEPS.md): every step of an operation derived from
 * its geometry and its tensors, when it is shown. Pure (no DOM), tested in Node
 * against the engine's full traces (tests/js/oracle/derive_oracle.mjs).
 *
 * `derive(kind, geometry, tensors)` returns a deriver:
 *   count, taps                   steps, and taps per step
 *   step(n)                       step n: {out, window, cells, mask, values, weights,
 *                                 products, sum, bias, result, argmax, divisor}
 *   gridShape, gridOrigin         the grid the window slides over, and where the
 *                                 unpadded tensor's (0, 0) sits in it
 *   gridValue(c, r, col)          a grid cell (padding modes applied here)
 *   stepOfCell(c, r, col)         the step that computes output cell (c, r, col), or -1
 *   stepsReading(c, r, col)       the steps whose counted taps read grid cell (c, r,
 *                                 col), ascending: inverse arithmetic, no table
 *   windowBoxes(n)                step n's window per grid channel (inclusive boxes)
 *   outShape, outOf(n)            [C, H, W] of what the steps fill; step n's output cell
 *   result(n), productRange()     (convolutions) step n's result alone; the products' range
 *
 * Everything is O(taps) per call; nothing is built over all steps.
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

/** (C, H, W) from (H, W) or (C, H, W). */
function chw(t) {
  const f = flatten(t);
  if (f.shape.length === 2) f.shape = [1, ...f.shape];
  return f;
}

/** (O, M, kH, kW) from (kH, kW) or (O, M, kH, kW). */
function weight4(t) {
  const f = flatten(t);
  if (f.shape.length === 2) f.shape = [1, 1, ...f.shape];
  return f;
}

const range = (from, n) => Array.from({ length: n }, (_, i) => from + i);
const pairOf = (p) => (Array.isArray(p) ? p : [p, p]);

/** Source index along one axis of a padded input, or -1 for a zero (PyTorch's four modes). */
export function padSource(i, size, mode) {
  if (i >= 0 && i < size) return i;
  if (mode === 'zeros') return -1;
  if (mode === 'replicate') return i < 0 ? 0 : size - 1;
  if (mode === 'circular') return ((i % size) + size) % size;
  // reflect, the edge not repeated (the padding is smaller than the size)
  return i < 0 ? -i : 2 * (size - 1) - i;
}

/**
 * The core every convolution-like derivation is: a kernel of Q output channels,
 * M kernel channels, kH x kW taps slides over a grid.
 * @param {object} o
 * @param {number[]} o.gridShape [C, Hg, Wg]
 * @param {number[]} o.gridOrigin
 * @param {(c: number, r: number, col: number) => number} o.gridValue
 * @param {number} o.Q @param {number} o.M @param {number[]} o.k [kH, kW]
 * @param {(q: number, m: number, i: number, j: number) => number} o.kernel
 * @param {(q: number, m: number) => number} o.channel grid channel of kernel channel m
 * @param {(c: number) => number[]} o.readers the output channels q whose kernel reads grid channel c
 * @param {number[]} o.out [H_out, W_out] @param {number[]} o.stride @param {number[]} o.dilation
 * @param {number[]} [o.start] @param {((q: number) => number) | null} [o.bias] @param {number | null} [o.divisor]
 */
export function correlation(o) {
  const [kH, kW] = o.k;
  const [oH, oW] = o.out;
  const [sH, sW] = o.stride;
  const [dH, dW] = o.dilation;
  const [r0, c0] = o.start || [0, 0];
  const per = oH * oW;
  const taps = o.M * kH * kW;
  const count = o.Q * per;
  const divisor = o.divisor ?? null;

  function step(n) {
    const q = Math.floor(n / per);
    const y = Math.floor(n / oW) % oH;
    const x = n % oW;
    const wr = r0 + y * sH;
    const wc = c0 + x * sW;
    const cells = new Array(taps);
    const values = new Array(taps);
    const weights = new Array(taps);
    const products = new Array(taps);
    let t = 0;
    let sum = 0;
    for (let m = 0; m < o.M; m++) {
      const ch = o.channel(q, m);
      for (let i = 0; i < kH; i++) {
        const r = wr + i * dH;
        for (let j = 0; j < kW; j++, t++) {
          const col = wc + j * dW;
          const v = o.gridValue(ch, r, col);
          const w = o.kernel(q, m, i, j);
          cells[t] = [ch, r, col];
          values[t] = v;
          weights[t] = w;
          products[t] = v * w;
          sum += products[t];
        }
      }
    }
    if (divisor !== null) sum /= divisor;
    const bias = o.bias ? o.bias(q) : null;
    return {
      out: [q, y, x],
      window: [wr, wc],
      cells,
      mask: new Array(taps).fill(true),
      values,
      weights,
      products,
      sum,
      bias,
      result: bias === null ? sum : sum + bias,
      argmax: null,
      divisor,
    };
  }

  /** The (tap index, window index) pairs along one axis that land on grid index g. */
  const hits = (g, start, k, d, s, outN) => {
    const list = [];
    for (let i = 0; i < k; i++) {
      const rest = g - start - i * d;
      if (rest < 0 || rest % s) continue;
      const w = rest / s;
      if (w < outN) list.push(w);
    }
    return list;
  };

  function stepsReading(c, r, col) {
    const [C, Hg, Wg] = o.gridShape;
    if (c < 0 || c >= C || r < 0 || r >= Hg || col < 0 || col >= Wg) return [];
    const ys = hits(r, r0, kH, dH, sH, oH);
    const xs = hits(col, c0, kW, dW, sW, oW);
    if (!ys.length || !xs.length) return [];
    const out = [];
    for (const q of o.readers(c)) for (const y of ys) for (const x of xs) out.push((q * oH + y) * oW + x);
    out.sort((a, b) => a - b);
    return out.filter((v, i) => i === 0 || v !== out[i - 1]);
  }

  function windowBoxes(n) {
    const q = Math.floor(n / per);
    const wr = r0 + (Math.floor(n / oW) % oH) * sH;
    const wc = c0 + (n % oW) * sW;
    const boxes = [];
    for (let m = 0; m < o.M; m++) {
      const channel = o.channel(q, m);
      if (boxes.some((b) => b.channel === channel)) continue;
      boxes.push({ channel, r0: wr, c0: wc, r1: wr + (kH - 1) * dH, c1: wc + (kW - 1) * dW });
    }
    return boxes;
  }

  /** Step n's result alone, nothing allocated (a whole map of them at once). */
  function result(n) {
    const q = Math.floor(n / per);
    const wr = r0 + (Math.floor(n / oW) % oH) * sH;
    const wc = c0 + (n % oW) * sW;
    let sum = 0;
    for (let m = 0; m < o.M; m++) {
      const ch = o.channel(q, m);
      for (let i = 0; i < kH; i++) for (let j = 0; j < kW; j++) sum += o.gridValue(ch, wr + i * dH, wc + j * dW) * o.kernel(q, m, i, j);
    }
    if (divisor !== null) sum /= divisor;
    return o.bias ? sum + o.bias(q) : sum;
  }

  /** [min, max] every product can reach (grid range times kernel range): the products' colour scale. */
  function productRange() {
    const [C, Hg, Wg] = o.gridShape;
    let g0 = 0;
    let g1 = 0;
    let k0 = 0;
    let k1 = 0;
    for (let c = 0; c < C; c++) for (let r = 0; r < Hg; r++) for (let col = 0; col < Wg; col++) {
      const v = o.gridValue(c, r, col);
      if (v < g0) g0 = v;
      if (v > g1) g1 = v;
    }
    for (let q = 0; q < o.Q; q++) for (let m = 0; m < o.M; m++) for (let i = 0; i < kH; i++) for (let j = 0; j < kW; j++) {
      const v = o.kernel(q, m, i, j);
      if (v < k0) k0 = v;
      if (v > k1) k1 = v;
    }
    const ends = [g0 * k0, g0 * k1, g1 * k0, g1 * k1];
    return [Math.min(...ends), Math.max(...ends)];
  }

  return {
    count,
    taps,
    kernelShape: [kH, kW],
    kernelChannels: o.M,
    outShape: [o.Q, oH, oW],
    outOf: (n) => [Math.floor(n / per), Math.floor(n / oW) % oH, n % oW],
    result,
    productRange,
    gridShape: o.gridShape,
    gridOrigin: o.gridOrigin,
    gridValue: o.gridValue,
    // Taps are spaced out (dilation, or dE/dO's cells set apart by the stride).
    spaced: (kH > 1 && dH > 1) || (kW > 1 && dW > 1),
    hasProducts: true,
    step,
    stepOfCell: (c, r, col) => (c >= 0 && c < o.Q && r >= 0 && r < oH && col >= 0 && col < oW ? (c * oH + r) * oW + col : -1),
    stepsReading,
    windowBoxes,
  };
}

const at3 = (f) => {
  const [, H, W] = f.shape;
  return (c, r, col) => f.data[(c * H + r) * W + col];
};

/** conv2d's padded input as a grid: `padding_mode` applied cell by cell. */
function paddedInput(x, geometry) {
  const [C, H, W] = x.shape;
  const p = geometry.padding;
  const mode = geometry.padding_mode || 'zeros';
  const get = at3(x);
  return {
    gridShape: [C, H + p.top + p.bottom, W + p.left + p.right],
    gridOrigin: [p.top, p.left],
    gridValue(c, r, col) {
      const rr = padSource(r - p.top, H, mode);
      const cc = padSource(col - p.left, W, mode);
      return rr < 0 || cc < 0 ? 0 : get(c, rr, cc);
    },
  };
}

/** What conv2d's three derivations share: the padded input, channels per group, the divisor. */
function convParts(geometry, input) {
  const [kH, kW] = geometry.kernel_size;
  const cg = geometry.in_channels / geometry.groups;
  return {
    grid: paddedInput(chw(input), geometry),
    cOut: geometry.out_channels,
    cg,
    og: geometry.out_channels / geometry.groups,
    divisor: geometry.reduce === 'mean' ? cg * kH * kW : null,
  };
}

/** conv2d forward (conv2d_trace). */
function conv2dForward(geometry, { input, weight, bias }) {
  const { grid, cOut, cg, og, divisor } = convParts(geometry, input);
  const w = weight4(weight);
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

/** dE/dW as slide 13's correlation: dE/dO[o] slides over the padded input (conv2d_grad_weight_trace). */
function conv2dGradWeight(geometry, { input, grad_output }) {
  const { grid, cOut, cg, og, divisor } = convParts(geometry, input);
  const d = chw(grad_output);
  const [oH, oW] = geometry.output_size;
  return correlation({
    ...grid,
    Q: cOut * cg,
    M: 1,
    k: [oH, oW],
    kernel: (q, m, i, j) => d.data[(Math.floor(q / cg) * oH + i) * oW + j],
    channel: (q) => Math.floor(Math.floor(q / cg) / og) * cg + (q % cg),
    // Grid channel c is read by (o, c % cg) for every o of c's group.
    readers: (c) => range(Math.floor(c / cg) * og, og).map((o) => o * cg + (c % cg)),
    out: geometry.kernel_size,
    stride: geometry.dilation,
    dilation: geometry.stride,
    divisor,
  });
}

/**
 * The gather view of a transposed correlation (transposed_correlation_trace):
 * conv_transpose2d itself, and conv2d's dE/dX.
 */
function transposed(x, w, { groups, stride, dilation, padding, outSize, bias = null, divisor = null }) {
  const [A, H, W] = x.shape;
  const [, bg, kH, kW] = w.shape;
  const ag = A / groups;
  const [sH, sW] = stride;
  const P = [dilation[0] * (kH - 1), dilation[1] * (kW - 1)];
  const origin = [Math.max(P[0] - padding[0], 0), Math.max(P[1] - padding[1], 0)];
  const start = [Math.max(padding[0] - P[0], 0), Math.max(padding[1] - P[1], 0)];
  const dil = [(H - 1) * sH + 1, (W - 1) * sW + 1];
  const gridShape = [
    A,
    Math.max(start[0] + outSize[0] + P[0], origin[0] + dil[0]),
    Math.max(start[1] + outSize[1] + P[1], origin[1] + dil[1]),
  ];
  const get = at3(x);
  return correlation({
    gridShape,
    gridOrigin: origin,
    gridValue(c, r, col) {
      const rr = r - origin[0];
      const cc = col - origin[1];
      if (rr < 0 || cc < 0 || rr % sH || cc % sW || rr >= dil[0] || cc >= dil[1]) return 0;
      return get(c, rr / sH, cc / sW);
    },
    Q: bg * groups,
    M: ag,
    k: [kH, kW],
    kernel: (q, m, i, j) => {
      const a = Math.floor(q / bg) * ag + m;
      return w.data[((a * bg + (q % bg)) * kH + (kH - 1 - i)) * kW + (kW - 1 - j)];
    },
    channel: (q, m) => Math.floor(q / bg) * ag + m,
    readers: (c) => range(Math.floor(c / ag) * bg, bg),
    out: outSize,
    stride: [1, 1],
    dilation,
    start,
    bias: bias ? (q) => bias[q] : null,
    divisor,
  });
}

/** dE/dX on the padded input's grid: full correlation with the rot180 kernel (conv2d_grad_input_trace). */
function conv2dGradInput(geometry, { weight, grad_output }) {
  return transposed(chw(grad_output), weight4(weight), {
    groups: geometry.groups,
    stride: geometry.stride,
    dilation: geometry.dilation,
    padding: [0, 0],
    outSize: paddedSize(geometry),
    divisor: geometry.reduce === 'mean' ? (geometry.in_channels / geometry.groups) * geometry.kernel_size[0] * geometry.kernel_size[1] : null,
  });
}

function convTranspose2d(geometry, { input, weight, bias }) {
  return transposed(chw(input), weight4(weight), {
    groups: geometry.groups,
    stride: geometry.stride,
    dilation: geometry.dilation,
    padding: pairOf(geometry.padding),
    outSize: geometry.output_size,
    bias: bias ? flatten(bias).data : null,
  });
}

/** max_pool2d and avg_pool2d (the engine's pool traces: grid, mask and divisor conventions). */
function pool(kind, geometry, { input, indices }) {
  const x = chw(input);
  const [C, H, W] = x.shape;
  const [kH, kW] = pairOf(geometry.kernel_size);
  const [sH, sW] = pairOf(geometry.stride);
  const [pH, pW] = pairOf(geometry.padding);
  const [dH, dW] = pairOf(geometry.dilation || 1);
  const [oH, oW] = geometry.output_size;
  const [gH, gW] = geometry.grid_size;
  const includePad = kind === 'avg' && geometry.count_include_pad === true;
  const idx = indices ? flatten(indices).data : null;
  const per = oH * oW;
  const taps = kH * kW;
  const get = at3(x);
  const gridValue = (c, r, col) => {
    const rr = r - pH;
    const cc = col - pW;
    return rr < 0 || cc < 0 || rr >= H || cc >= W ? 0 : get(c, rr, cc);
  };
  // Whether a tap on grid cell (r, col) counts: on the input, or on the padded input.
  const counts = (r, col) =>
    includePad ? r < H + 2 * pH && col < W + 2 * pW : r >= pH && r < pH + H && col >= pW && col < pW + W;

  function step(n) {
    const c = Math.floor(n / per);
    const y = Math.floor(n / oW) % oH;
    const xo = n % oW;
    const top = y * sH;
    const left = xo * sW;
    const cells = new Array(taps);
    const mask = new Array(taps);
    const values = new Array(taps);
    let t = 0;
    let total = 0;
    let k = 0;
    let best = -Infinity;
    let winner = -1;
    for (let i = 0; i < kH; i++) {
      const r = top + i * dH;
      for (let j = 0; j < kW; j++, t++) {
        const col = left + j * dW;
        const on = counts(r, col);
        const v = on ? gridValue(c, r, col) : 0;
        cells[t] = [c, r, col];
        mask[t] = on;
        values[t] = v;
        if (!on) continue;
        k++;
        total += v;
        // First maximum in scan order; a NaN always wins (the engine's and PyTorch's rule).
        if (winner < 0 || v > best || Number.isNaN(v)) {
          best = v;
          winner = t;
        }
      }
    }
    let argmax = null;
    let sum;
    let divisor = null;
    if (kind === 'max') {
      argmax = winner;
      if (idx) {
        // The answer's indices say which input cell won: find its tap.
        const flat = idx[n];
        const tr = Math.floor(flat / W) + pH - top;
        const tc = (flat % W) + pW - left;
        if (tr % dH === 0 && tc % dW === 0 && tr >= 0 && tc >= 0 && tr / dH < kH && tc / dW < kW) argmax = (tr / dH) * kW + tc / dW;
      }
      sum = values[argmax];
    } else {
      divisor = k;
      sum = total / k;
    }
    return { out: [c, y, xo], window: [top, left], cells, mask, values, weights: null, products: null, sum, bias: null, result: sum, argmax, divisor };
  }

  const hits = (g, k, d, s, outN) => {
    const list = [];
    for (let i = 0; i < k; i++) {
      const rest = g - i * d;
      if (rest < 0 || rest % s) continue;
      if (rest / s < outN) list.push(rest / s);
    }
    return list;
  };

  return {
    count: C * per,
    taps,
    kernelShape: [kH, kW],
    kernelChannels: 1,
    outShape: [C, oH, oW],
    outOf: (n) => [Math.floor(n / per), Math.floor(n / oW) % oH, n % oW],
    gridShape: [C, gH, gW],
    gridOrigin: [pH, pW],
    gridValue,
    spaced: (kH > 1 && dH > 1) || (kW > 1 && dW > 1),
    hasProducts: false,
    step,
    stepOfCell: (c, r, col) => (c >= 0 && c < C && r >= 0 && r < oH && col >= 0 && col < oW ? (c * oH + r) * oW + col : -1),
    stepsReading(c, r, col) {
      if (c < 0 || c >= C || r < 0 || r >= gH || col < 0 || col >= gW || !counts(r, col)) return [];
      const out = [];
      const xs = hits(col, kW, dW, sW, oW);
      for (const y of hits(r, kH, dH, sH, oH)) for (const xo of xs) out.push((c * oH + y) * oW + xo);
      return out.sort((a, b) => a - b).filter((v, i, a) => i === 0 || v !== a[i - 1]);
    },
    windowBoxes(n) {
      const top = (Math.floor(n / oW) % oH) * sH;
      const left = (n % oW) * sW;
      return [{ channel: Math.floor(n / per), r0: top, c0: left, r1: top + (kH - 1) * dH, c1: left + (kW - 1) * dW }];
    },
  };
}

/** An activation, element by element (the ReLU gate is `input > 0`). */
function activation(geometry, { input }) {
  const x = chw(input);
  const [C, H, W] = x.shape;
  const fn = geometry.function;
  const slope = geometry.negative_slope ?? 0.01;
  const f = (v) => {
    if (fn === 'relu') return v > 0 ? v : 0;
    if (fn === 'leaky_relu') return v > 0 ? v : v * slope;
    if (fn === 'sigmoid') return 1 / (1 + Math.exp(-v));
    return Math.tanh(v);
  };
  const get = at3(x);
  return {
    count: C * H * W,
    taps: 1,
    kernelShape: [1, 1],
    kernelChannels: 1,
    outShape: [C, H, W],
    outOf: (n) => [Math.floor(n / (H * W)), Math.floor(n / W) % H, n % W],
    gridShape: [C, H, W],
    gridOrigin: [0, 0],
    gridValue: get,
    spaced: false,
    hasProducts: false,
    step(n) {
      const c = Math.floor(n / (H * W));
      const r = Math.floor(n / W) % H;
      const col = n % W;
      const v = get(c, r, col);
      return { out: [c, r, col], window: [r, col], cells: [[c, r, col]], mask: [true], values: [v], weights: null, products: null, sum: v, bias: null, result: f(v), argmax: null, divisor: null, gate: v > 0 };
    },
    stepOfCell: (c, r, col) => (c >= 0 && c < C && r >= 0 && r < H && col >= 0 && col < W ? (c * H + r) * W + col : -1),
    stepsReading: (c, r, col) => (c >= 0 && c < C && r >= 0 && r < H && col >= 0 && col < W ? [(c * H + r) * W + col] : []),
    windowBoxes: (n) => {
      const r = Math.floor(n / W) % H;
      const col = n % W;
      return [{ channel: Math.floor(n / (H * W)), r0: r, c0: col, r1: r, c1: col }];
    },
  };
}

const KINDS = {
  conv2d: conv2dForward,
  conv2d_grad_weight: conv2dGradWeight,
  conv2d_grad_input: conv2dGradInput,
  conv_transpose2d: convTranspose2d,
  max_pool2d: (g, t) => pool('max', g, t),
  avg_pool2d: (g, t) => pool('avg', g, t),
  activation,
};

/**
 * The deriver of one operation.
 * @param {'conv2d' | 'conv2d_grad_weight' | 'conv2d_grad_input' | 'conv_transpose2d' |
 *   'max_pool2d' | 'avg_pool2d' | 'activation'} kind
 * @param {object} geometry the answer's `geometry` (docs/STEPS.md)
 * @param {{input?: any, weight?: any, bias?: any, grad_output?: any, indices?: any}} tensors nested lists
 */
export function derive(kind, geometry, tensors) {
  const make = KINDS[kind];
  if (!make) throw new Error(`no derivation for ${kind}`);
  const d = make(geometry, tensors);
  d.kind = kind;
  return d;
}

/** Geometry's padded size for conv2d (the answer carries it; computed when it does not). */
export function paddedSize(geometry) {
  if (geometry.padded_size) return geometry.padded_size;
  const p = geometry.padding;
  return [geometry.input_size[0] + p.top + p.bottom, geometry.input_size[1] + p.left + p.right];
}
