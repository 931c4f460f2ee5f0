/**
 * Max and average pooling and the activations, derived step by step (see
 * correlate.js), with the engine's grid and mask conventions (app/engine/pool.py):
 * zeros around the input and overhang up to `grid_size`; a tap counts when it is
 * on the input (max; avg without count_include_pad) or on the padded input (avg
 * with it); max's winner is the answer's index when given.
 */

import { at3, hits, pairOf, register, rowMajor, sortedOnce, tensor } from './correlate.js';

function pool(kind, geometry, { input, indices }) {
  const x = tensor(input, 3);
  const [C, H, W] = x.shape;
  const [kH, kW] = pairOf(geometry.kernel_size);
  const [sH, sW] = pairOf(geometry.stride);
  const [pH, pW] = pairOf(geometry.padding);
  const [dH, dW] = pairOf(geometry.dilation || 1);
  const [oH, oW] = geometry.output_size;
  const [gH, gW] = geometry.grid_size;
  const includePad = kind === 'avg' && geometry.count_include_pad === true;
  const idx = indices ? tensor(indices, 3).data : null;
  const cells = rowMajor(C, oH, oW);
  const get = at3(x);
  const gridValue = (c, r, col) => (r < pH || col < pW || r >= pH + H || col >= pW + W ? 0 : get(c, r - pH, col - pW));
  const counts = (r, col) => (includePad ? r < H + 2 * pH && col < W + 2 * pW : r >= pH && r < pH + H && col >= pW && col < pW + W);

  function step(n) {
    const [c, y, xo] = cells.outOf(n);
    const s = { out: [c, y, xo], window: [y * sH, xo * sW], cells: [], mask: [], values: [], weights: null, products: null, bias: null };
    let total = 0;
    let winner = -1;
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++) {
        const r = y * sH + i * dH;
        const col = xo * sW + j * dW;
        const on = counts(r, col);
        const v = on ? gridValue(c, r, col) : 0;
        s.cells.push([c, r, col]);
        s.mask.push(on);
        s.values.push(v);
        if (!on) continue;
        total += v;
        // First maximum in scan order; a NaN always wins (the engine's and PyTorch's rule).
        if (winner < 0 || v > s.values[winner] || Number.isNaN(v)) winner = s.values.length - 1;
      }
    }
    if (kind === 'avg') {
      s.divisor = s.mask.filter(Boolean).length;
      s.sum = total / s.divisor;
      s.argmax = null;
    } else {
      if (idx) {
        // The answer's index says which input cell won: its tap.
        const tr = Math.floor(idx[n] / W) + pH - y * sH;
        const tc = (idx[n] % W) + pW - xo * sW;
        if (tr >= 0 && tc >= 0 && tr % dH === 0 && tc % dW === 0 && tr / dH < kH && tc / dW < kW) winner = (tr / dH) * kW + tc / dW;
      }
      Object.assign(s, { argmax: winner, sum: s.values[winner], divisor: null });
    }
    s.result = s.sum;
    return s;
  }

  return {
    ...cells,
    taps: kH * kW,
    kernelShape: [kH, kW],
    gridShape: [C, gH, gW],
    gridOrigin: [pH, pW],
    gridValue,
    spaced: (kH > 1 && dH > 1) || (kW > 1 && dW > 1),
    step,
    stepsReading(c, r, col) {
      if (c < 0 || c >= C || r < 0 || r >= gH || col < 0 || col >= gW || !counts(r, col)) return [];
      const xs = hits(col, 0, kW, dW, sW, oW);
      return sortedOnce(hits(r, 0, kH, dH, sH, oH).flatMap((y) => xs.map((xo) => (c * oH + y) * oW + xo)));
    },
    windowBoxes(n) {
      const [c, y, xo] = cells.outOf(n);
      return [{ channel: c, r0: y * sH, c0: xo * sW, r1: y * sH + (kH - 1) * dH, c1: xo * sW + (kW - 1) * dW }];
    },
  };
}

const ACTIVATIONS = {
  relu: (v) => (v > 0 ? v : 0),
  leaky_relu: (v, slope) => (v > 0 ? v : v * slope),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  tanh: Math.tanh,
};

/** An activation, element by element; `gate` is ReLU's, input > 0. */
function activation(geometry, { input }) {
  const x = tensor(input, 3);
  const cells = rowMajor(...x.shape);
  const f = ACTIVATIONS[geometry.function];
  const get = at3(x);
  return {
    ...cells,
    taps: 1,
    kernelShape: [1, 1],
    gridShape: x.shape,
    gridOrigin: [0, 0],
    gridValue: get,
    spaced: false,
    step(n) {
      const out = cells.outOf(n);
      const v = get(...out);
      const result = f(v, geometry.negative_slope ?? 0.01);
      return { out, window: out.slice(1), cells: [out], mask: [true], values: [v], weights: null, products: null, sum: v, bias: null, result, argmax: null, divisor: null, gate: v > 0 };
    },
    stepsReading: (c, r, col) => {
      const n = cells.stepOfCell(c, r, col);
      return n < 0 ? [] : [n];
    },
    windowBoxes: (n) => {
      const [channel, r, col] = cells.outOf(n);
      return [{ channel, r0: r, c0: col, r1: r, c1: col }];
    },
  };
}

register({
  max_pool2d: (g, t) => pool('max', g, t),
  avg_pool2d: (g, t) => pool('avg', g, t),
  activation,
});
