import assert from 'node:assert/strict';
import { test } from 'node:test';

import { derive, padSource } from '../../static/js/model/derive.js';

/** conv2d geometry as the server sends it (docs/STEPS.md), for a (C, H, W) input and a 4-D weight. */
function convGeometry(x, w, { stride = [1, 1], pad = 0, dilation = [1, 1], groups = 1, mode = 'zeros', reduce = 'sum' } = {}) {
  const [C, H, W] = [x.length, x[0].length, x[0][0].length];
  const [O, , kH, kW] = [w.length, w[0].length, w[0][0].length, w[0][0][0].length];
  const p = { top: pad, bottom: pad, left: pad, right: pad };
  const out = [
    Math.floor((H + 2 * pad - dilation[0] * (kH - 1) - 1) / stride[0]) + 1,
    Math.floor((W + 2 * pad - dilation[1] * (kW - 1) - 1) / stride[1]) + 1,
  ];
  return {
    op: 'conv2d', steps: O * out[0] * out[1], taps: (C / groups) * kH * kW, in_channels: C, out_channels: O, groups,
    input_size: [H, W], kernel_size: [kH, kW], stride, dilation, padding: p, padding_mode: mode, reduce,
    output_size: out, padded_size: [H + 2 * pad, W + 2 * pad],
  };
}

/** Every result of a deriver, as an (C, H, W) nested list. */
function output(d) {
  const [C, H, W] = d.outShape;
  const o = Array.from({ length: C }, () => Array.from({ length: H }, () => new Array(W).fill(0)));
  for (let n = 0; n < d.count; n++) {
    const s = d.step(n);
    o[s.out[0]][s.out[1]][s.out[2]] = s.result;
  }
  return o;
}

const round = (t, k = 1e9) => JSON.parse(JSON.stringify(t, (_, v) => (typeof v === 'number' ? Math.round(v * k) / k : v)));

test('slide 6: zero padding 1, stride 2 gives [[1,5,6],[7,8,3],[3,10,4]]', () => {
  const x = [[[2, 2, 3, 3, 3], [0, 1, 3, 0, 3], [2, 3, 0, 1, 3], [3, 3, 2, 1, 2], [3, 3, 0, 2, 3]]];
  const w = [[[[2, 0, 1], [1, 0, 0], [0, 1, 1]]]];
  const d = derive('conv2d', convGeometry(x, w, { stride: [2, 2], pad: 1 }), { input: x, weight: w });
  assert.equal(d.count, 9);
  assert.deepEqual(output(d), [[[1, 5, 6], [7, 8, 3], [3, 10, 4]]]);
  assert.deepEqual(d.gridShape, [1, 7, 7]);
  assert.deepEqual(d.gridOrigin, [1, 1]);
  assert.equal(d.gridValue(0, 0, 0), 0, 'the padding is zeros');
  assert.equal(d.gridValue(0, 1, 1), 2);
  // Step 4 is the centre cell: its window starts at (2, 2) in the padded grid.
  const s = d.step(4);
  assert.deepEqual(s.out, [0, 1, 1]);
  assert.deepEqual(s.window, [2, 2]);
  assert.deepEqual(s.cells[0], [0, 2, 2]);
  assert.deepEqual(s.values, [1, 3, 0, 3, 0, 1, 3, 2, 1]);
  assert.deepEqual(s.products, [2, 0, 0, 3, 0, 0, 0, 2, 1]);
  assert.equal(s.sum, 8);
  assert.equal(s.bias, null);
  assert.equal(d.stepOfCell(0, 2, 1), 7);
  // Windows start at padded rows and columns 0, 2, 4: row 3 is tap 1 of window 1 only.
  assert.deepEqual(d.stepsReading(0, 3, 3), [4]);
  assert.deepEqual(d.stepsReading(0, 2, 2), [0, 1, 3, 4], 'row 2 is tap 2 of window 0 and tap 0 of window 1');
  assert.deepEqual(d.windowBoxes(4), [{ channel: 0, r0: 2, c0: 2, r1: 4, c1: 4 }]);
});

test('slide 8: kernel size 3 on a 4x4 input gives [[122,148],[126,134]]', () => {
  const x = [[[4, 5, 8, 7], [1, 8, 8, 8], [3, 6, 6, 4], [6, 5, 7, 8]]];
  const w = [[[[1, 4, 1], [1, 4, 3], [3, 3, 1]]]];
  const d = derive('conv2d', convGeometry(x, w), { input: x, weight: w });
  assert.deepEqual(output(d), [[[122, 148], [126, 134]]]);
  assert.deepEqual(d.stepsReading(0, 1, 1), [0, 1, 2, 3], 'the centre 2x2 is read by every window');
  assert.deepEqual(d.stepsReading(0, 0, 3), [1]);
});

const X_GLYPH = [Array.from({ length: 9 }, (_, r) => Array.from({ length: 9 }, (_, c) => (r > 0 && r < 8 && (c === r || c === 8 - r) ? 1 : -1)))];
const DIAGONAL = [[[[1, -1, -1], [-1, 1, -1], [-1, -1, 1]]]];

test('slide 5: the X glyph with the diagonal filter, mean: first row 7/9, -1/9, 1/9, 3/9, 5/9, -1/9, 3/9', () => {
  const d = derive('conv2d', convGeometry(X_GLYPH, DIAGONAL, { reduce: 'mean' }), { input: X_GLYPH, weight: DIAGONAL, bias: null });
  const o = output(d);
  assert.deepEqual(round(o[0][0]), round([7, -1, 1, 3, 5, -1, 3].map((v) => v / 9)));
  for (const i of [1, 2, 4, 5]) assert.equal(round(o[0][i][i]), 1, 'the main diagonal is 1');
  assert.equal(round(o[0][3][3]), round(5 / 9), 'but at the centre the other stroke crosses it');
  assert.equal(round(o[0][0][0]), round(7 / 9));
  const s = d.step(0);
  assert.equal(s.divisor, 9);
  assert.equal(s.products.reduce((a, b) => a + b, 0), 7);
  // Then max pooling 2x2 stride 2 with ceil_mode over the 7x7 map: 4x4, top-left 1.
  const geometry = { op: 'max_pool2d', steps: 16, taps: 4, channels: 1, input_size: [7, 7], kernel_size: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1], ceil_mode: true, count_include_pad: null, output_size: [4, 4], grid_size: [8, 8] };
  const p = derive('max_pool2d', geometry, { input: o });
  assert.equal(p.count, 16);
  assert.equal(round(p.step(0).result), 1);
  const last = p.step(15);
  assert.deepEqual(last.mask, [true, false, false, false], 'the corner window overhangs: one tap counts');
  assert.equal(last.argmax, 0);
  assert.deepEqual(p.stepsReading(0, 7, 7), [], 'overhang cells feed nothing');
  assert.deepEqual(p.stepsReading(0, 6, 6), [15]);
});

test('max pooling takes the winner from the answer\'s indices', () => {
  const x = [[[1, 3], [3, 0]]];
  const geometry = { op: 'max_pool2d', channels: 1, input_size: [2, 2], kernel_size: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1], ceil_mode: false, output_size: [1, 1], grid_size: [2, 2] };
  assert.equal(derive('max_pool2d', geometry, { input: x }).step(0).argmax, 1, 'first maximum in scan order');
  assert.equal(derive('max_pool2d', geometry, { input: x, indices: [[[2]]] }).step(0).argmax, 2, 'the answer says which');
});

test('average pooling counts the padding or not', () => {
  const x = [[[1, 2], [3, 4]]];
  const g = { op: 'avg_pool2d', channels: 1, input_size: [2, 2], kernel_size: [2, 2], stride: [1, 1], padding: [1, 1], dilation: [1, 1], ceil_mode: false, output_size: [3, 3], grid_size: [4, 4] };
  const incl = derive('avg_pool2d', { ...g, count_include_pad: true }, { input: x }).step(0);
  assert.equal(incl.divisor, 4);
  assert.equal(incl.result, 0.25);
  const excl = derive('avg_pool2d', { ...g, count_include_pad: false }, { input: x }).step(0);
  assert.equal(excl.divisor, 1);
  assert.equal(excl.result, 1);
  assert.deepEqual(excl.mask, [false, false, false, true]);
});

// Slides 12-13: X 3x3, F 2x2, a hand-set dE/dO (docs/TRAINING_API.md's example).
const X12 = [[[1, 2, 0], [3, 1, 2], [0, 1, 3]]];
const F12 = [[[[1, -1], [2, 0]]]];
const G12 = [[[1, 0], [-1, 2]]];

test('slide 12: O = conv(X, F), each output a sum of four products', () => {
  const d = derive('conv2d', convGeometry(X12, F12), { input: X12, weight: F12 });
  assert.deepEqual(output(d), [[[5, 4], [2, 1]]]);
});

test('slide 13: dE/dW = conv(X, dE/dO), dE/dX = full correlation with rot180(F)', () => {
  const g = convGeometry(X12, F12);
  const gw = derive('conv2d_grad_weight', g, { input: X12, weight: F12, grad_output: G12 });
  assert.equal(gw.count, 4);
  assert.equal(gw.taps, 4, 'dE/dO is the kernel: 2x2 taps');
  assert.deepEqual(output(gw), [[[0, 5], [5, 6]]]);
  assert.deepEqual(gw.step(1).weights, [1, 0, -1, 2]);
  assert.deepEqual(gw.step(1).values, [2, 0, 1, 2]);

  const gx = derive('conv2d_grad_input', g, { input: X12, weight: F12, grad_output: G12 });
  assert.deepEqual(output(gx), [[[1, -1, 0], [1, 3, -2], [-2, 4, 0]]]);
  assert.deepEqual(gx.gridShape, [1, 4, 4], 'dE/dO padded by k-1 = 1 on every side');
  assert.deepEqual(gx.gridOrigin, [1, 1]);
  assert.deepEqual(gx.step(0).weights, [0, 2, -1, 1], 'the kernel turned 180 degrees');
  // dE/dO[0][0] (grid (1, 1)) reaches dE/dX cells (0..1, 0..1).
  assert.deepEqual(gx.stepsReading(0, 1, 1), [0, 1, 3, 4]);
});

test('slide 13 with stride 2: dE/dO is dilated before the full correlation', () => {
  const x = [[[1, 2, 0, 1, 2], [3, 1, 2, 0, 1], [0, 1, 3, 1, 0], [2, 0, 1, 2, 3], [1, 1, 0, 2, 1]]];
  const g = convGeometry(x, F12, { stride: [2, 2] });
  const gx = derive('conv2d_grad_input', g, { input: x, weight: F12, grad_output: G12 });
  assert.equal(gx.gridValue(0, 1, 2), 0, 'a zero between dE/dO\'s entries');
  assert.equal(gx.gridValue(0, 3, 1), -1);
  // dE/dX by the chain rule, summed by hand: each dE/dO[y][x] times F lands on X's window at (2y, 2x).
  const want = Array.from({ length: 5 }, () => new Array(5).fill(0));
  for (let y = 0; y < 2; y++) for (let xx = 0; xx < 2; xx++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) want[2 * y + i][2 * xx + j] += G12[0][y][xx] * F12[0][0][i][j];
  assert.deepEqual(output(gx), [want]);
});

test('transposed convolution: conv_arithmetic\'s 2x2 input, 3x3 kernel -> 4x4', () => {
  const x = [[[1, 2], [3, 4]]];
  const w = [[[[1, 1, 1], [1, 1, 1], [1, 1, 1]]]];
  const geometry = { op: 'conv_transpose2d', in_channels: 1, out_channels: 1, groups: 1, input_size: [2, 2], kernel_size: [3, 3], stride: [1, 1], dilation: [1, 1], padding: [0, 0], output_padding: [0, 0], output_size: [4, 4] };
  const d = derive('conv_transpose2d', geometry, { input: x, weight: w, bias: [0.5] });
  assert.equal(d.count, 16);
  assert.deepEqual(d.gridShape, [1, 6, 6]);
  assert.deepEqual(output(d), [[[1, 3, 3, 2], [4, 10, 10, 6], [4, 10, 10, 6], [3, 7, 7, 4]].map((r) => r.map((v) => v + 0.5))]);
});

test('padding modes: reflect, replicate, circular', () => {
  assert.deepEqual([-2, -1, 0, 3, 4, 5].map((i) => padSource(i, 4, 'reflect')), [2, 1, 0, 3, 2, 1]);
  assert.deepEqual([-2, -1, 4, 5].map((i) => padSource(i, 4, 'replicate')), [0, 0, 3, 3]);
  assert.deepEqual([-2, -1, 4, 5].map((i) => padSource(i, 4, 'circular')), [2, 3, 0, 1]);
  assert.deepEqual([-1, 4].map((i) => padSource(i, 4, 'zeros')), [-1, -1]);
  const x = [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]];
  const w = [[[[1]]]];
  const d = derive('conv2d', convGeometry(x, w, { pad: 1, mode: 'reflect' }), { input: x, weight: w });
  assert.deepEqual(output(d), [[[5, 4, 5, 6, 5], [2, 1, 2, 3, 2], [5, 4, 5, 6, 5], [8, 7, 8, 9, 8], [5, 4, 5, 6, 5]]]);
});

test('groups: each filter reads only its group\'s channels', () => {
  const x = [[[1, 2], [3, 4]], [[10, 20], [30, 40]]];
  const w = [[[[1]]], [[[2]]]];
  const d = derive('conv2d', convGeometry(x, w, { groups: 2 }), { input: x, weight: w });
  assert.deepEqual(output(d), [[[1, 2], [3, 4]], [[20, 40], [60, 80]]]);
  assert.deepEqual(d.stepsReading(1, 0, 1), [5]);
});

test('a 256x256 input: any step in O(taps), nothing built over all steps', () => {
  const H = 256;
  const x = [Array.from({ length: H }, (_, r) => Array.from({ length: H }, (_, c) => (r * 7 + c) % 11))];
  const w = [[[[0, 1, 0], [1, -4, 1], [0, 1, 0]]]];
  const d = derive('conv2d', convGeometry(x, w), { input: x, weight: w });
  assert.equal(d.count, 254 * 254);
  const n = d.stepOfCell(0, 200, 100);
  const s = d.step(n);
  const v = (r, c) => (r * 7 + c) % 11;
  assert.equal(s.result, v(200, 101) + v(201, 100) - 4 * v(201, 101) + v(201, 102) + v(202, 101));
  assert.deepEqual(d.stepsReading(0, 201, 101).length, 9);
});

test('result(n), outOf(n) and productRange() agree with step(n)', () => {
  const x = [[[1, -2, 3], [4, 5, -6], [7, 8, 9]]];
  const w = [[[[1, -1], [2, 0.5]]], [[[0, 3], [-2, 1]]]];
  const d = derive('conv2d', convGeometry(x, w, { pad: 1, mode: 'circular', reduce: 'mean' }), { input: x, weight: w, bias: [0.25, -1] });
  const [lo, hi] = d.productRange();
  for (let n = 0; n < d.count; n++) {
    const s = d.step(n);
    assert.equal(d.result(n), s.result);
    assert.deepEqual(d.outOf(n), s.out);
    for (const p of s.products) assert.ok(p >= lo && p <= hi, `${p} in [${lo}, ${hi}]`);
  }
});
