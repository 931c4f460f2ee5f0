/**
 * One step of one map of a layer on /stack and /digits, taken from the page's one
 * derivation module (model/derive.js, docs/STEPS.md): nothing here rebuilds a
 * window. A layer's steps run map by map (step q * H * W + n is cell n of map q);
 * this groups a step's taps by the input map they read, for the per-map partial
 * sums, and puts their cells in the input map's coordinates. Pure (tested in Node:
 * tests/js/layers-mapstep.test.mjs).
 */

import { derive } from '../model/derive.js';

/**
 * The deriver of one layer, from its answer's `geometry` and the tensors the page holds.
 * @param {object} geometry the layer's geometry (op: conv2d, max_pool2d, avg_pool2d, activation)
 * @param {{input: any, weight?: any, bias?: any, indices?: any}} tensors nested lists:
 *   input the layer before's maps (C, H, W); indices a max pooling's argmax
 */
export function layerDeriver(geometry, tensors) {
  return derive(geometry.op, geometry, tensors);
}

/** (H, W) of the layer's input maps. */
export const inputSizeOf = (geometry) => geometry.input_size || geometry.shape.slice(1);

/**
 * Step `n` (0 .. H*W-1) of map `q` of a layer, its taps grouped by input map.
 * @param {ReturnType<typeof derive>} d the layer's deriver @param {object} geometry its geometry
 * @returns {{out: number[], channels: {c: number, cells: number[][], onInput: boolean[],
 *   counted: boolean[], values: number[], weights: number[] | null, products: number[] | null,
 *   partial: number}[], sum: number, bias: number | null, result: number,
 *   argmax: number | null, divisor: number | null, box: number[]}}
 */
export function mapStep(d, geometry, q, n) {
  const [, H, W] = d.outShape;
  const s = d.step(q * H * W + n);
  const [kH, kW] = d.kernelShape;
  const per = kH * kW;
  const [oR, oC] = d.gridOrigin;
  const inputSize = inputSizeOf(geometry);
  const channels = [];
  for (let k0 = 0; k0 < s.cells.length; k0 += per) {
    const idx = Array.from({ length: per }, (_, k) => k0 + k);
    const cells = idx.map((k) => [s.cells[k][1] - oR, s.cells[k][2] - oC]);
    const products = s.products ? idx.map((k) => s.products[k]) : null;
    channels.push({
      c: s.cells[k0][0],
      cells,
      onInput: cells.map(([r, col]) => r >= 0 && col >= 0 && r < inputSize[0] && col < inputSize[1]),
      counted: idx.map((k) => s.mask[k]),
      values: idx.map((k) => s.values[k]),
      weights: s.weights ? idx.map((k) => s.weights[k]) : null,
      products,
      // The taps' products summed map by map: the partial sums that make the total.
      partial: products ? products.reduce((a, b) => a + b, 0) : NaN,
    });
  }
  const [b] = d.windowBoxes(q * H * W + n);
  return {
    out: s.out,
    channels,
    sum: s.sum,
    bias: s.bias,
    result: s.result,
    argmax: s.argmax,
    divisor: s.divisor,
    // The window on the input maps: rows r0..r1, columns c0..c1 (input coordinates).
    box: [b.r0 - oR, b.r1 - oR, b.c0 - oC, b.c1 - oC],
  };
}
