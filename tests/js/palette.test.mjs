// One visual language (issue 12, item 2): each grid's palette is fixed by what it
// holds, never by the sign of today's values; pictures stay pictures (grey or true
// colour); indices are counted from 1; image kernels sum, the X/O filters average.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { translator } from '../../static/js/core/i18n.js';
import { activationKind, byteOf, gridKind, paintRGB, pictureRange } from '../../static/js/view/colormap.js';
import { buildBackwardModel } from '../../static/js/view/backward.js';
import { buildModel, describeFrame, mergeMarks } from '../../static/js/view/render.js';
import { reduceFor } from '../../static/js/panels/editors.js';
import { load } from './answers.mjs';

const en = JSON.parse(readFileSync(new URL('../../static/locales/en.json', import.meta.url)));
const t = translator(en);
const X = load('x_diagonal_mean');
const XO = load('backprop_x_relu_pool');

const map3 = (t3, f) => t3.map((g) => g.map((row) => row.map(f)));
const kinds = (m) => Object.fromEntries(m.grids.map((g) => [g.id, g.scale.kind]));

test('activations: non-negative ranges are sequential, the ones that can be negative diverging', () => {
  for (const name of ['relu', 'sigmoid', 'softplus', 'relu6', 'hardsigmoid']) assert.equal(activationKind(name), 'sequential', name);
  for (const name of ['tanh', 'leaky_relu', 'elu', 'none', 'something_new']) assert.equal(activationKind(name), 'diverging', name);
  // LeakyReLU with slope 0 is ReLU.
  assert.equal(activationKind('leaky_relu', 0), 'sequential');
});

test('gridKind: fixed per grid id and activation', () => {
  for (const id of ['kernel', 'products', 'output', 'z', 'go', 'ga', 'gz', 'gzk', 'gw', 'gb', 'gzp', 'gx', 'wr']) {
    assert.equal(gridKind(id, { activation: 'relu' }), 'diverging', id);
  }
  assert.equal(gridKind('act', { activation: 'relu' }), 'sequential');
  assert.equal(gridKind('act', { activation: 'sigmoid' }), 'sequential');
  assert.equal(gridKind('act', { activation: 'tanh' }), 'diverging');
  assert.equal(gridKind('act', { activation: 'leaky_relu', slope: 0.01 }), 'diverging');
  // Pooling inherits the kind of the grid it pools.
  assert.equal(gridKind('pool', { activation: 'relu' }), 'sequential');
  assert.equal(gridKind('pool', { activation: 'tanh' }), 'diverging');
  assert.equal(gridKind('pool', { activation: 'none' }), 'diverging');
  assert.equal(gridKind('pa', { activation: 'sigmoid' }), 'sequential');
  assert.equal(gridKind('o', { activation: 'none' }), 'diverging');
  assert.equal(gridKind('gate', { activation: 'tanh' }), 'sequential');
  // Inputs by their scheme.
  assert.equal(gridKind('input', { scheme: 'pm1' }), 'diverging');
  assert.equal(gridKind('input', { scheme: 'unit' }), 'sequential');
  assert.equal(gridKind('input', { scheme: 'byte' }), 'grey');
  assert.equal(gridKind('input', {}), null);
});

test('a kernel that makes every value positive does not turn a diverging grid sequential', () => {
  const base = { input: X.request.input, weight: X.request.weight, pool: null, scheme: 'pm1', heat: false };
  const signed = buildModel({ ...base, conv: X.conv, act: null });
  const flat = (m, id) => [...m.grids.find((g) => g.id === id).channels[0].values];
  assert.ok(flat(signed, 'output').some((v) => v < 0), 'the fixture has negative outputs');
  // The answer for another kernel, every output positive.
  const positive = { ...X.conv, output: map3(X.conv.output, (v) => Math.abs(v) + 0.1) };
  const weight = X.request.weight.map((f) => f.map((k) => k.map((row) => row.map((v) => Math.abs(v)))));
  const m = buildModel({ ...base, weight, conv: positive, act: null });
  assert.ok(flat(m, 'output').every((v) => v > 0));
  assert.equal(kinds(m).output, 'diverging');
  assert.equal(kinds(m).kernel, 'diverging');
  assert.equal(kinds(m).products, 'diverging');
  // Centred on 0.
  const s = m.grids.find((g) => g.id === 'output').scale;
  assert.equal(s.min, -s.max);
  // tanh's map stays diverging when all of today's values are positive; ReLU's is
  // sequential even when the answer has none above 0.
  const tanhM = buildModel({ ...base, conv: positive, act: { output: map3(positive.output, Math.tanh) }, activation: 'tanh' });
  assert.equal(kinds(tanhM).act, 'diverging');
  const zeros = buildModel({ ...base, conv: X.conv, act: { output: map3(X.conv.output, () => 0) }, activation: 'relu' });
  assert.equal(kinds(zeros).act, 'sequential');
});

test('the backward view: gradients diverging, the activation\'s maps by its range', () => {
  const m = buildBackwardModel({ bp: XO.answer, input: XO.request.input, weight: XO.request.weight, groups: 1, scheme: 'pm1', heat: false }, t);
  const k = kinds(m);
  assert.equal(XO.answer.activation.function, 'relu');
  for (const id of ['go', 'ga', 'gz', 'gzk', 'gw', 'gx', 'z', 'kernel']) if (k[id]) assert.equal(k[id], 'diverging', id);
  assert.equal(k.o, 'sequential'); // max pooling of a ReLU's map
  assert.equal(k.pa, 'sequential');
  assert.equal(k.gate, 'sequential');
  assert.equal(k.input, 'diverging');
  // Every gradient is there to be checked.
  assert.ok(['go', 'gz', 'gw', 'gx'].every((id) => id in k), Object.keys(k).join());
});

test('over a picture the convolution output is a grey picture clamped to 0..255, heat maps a switch away', () => {
  const photo = [[[0, 50, 100, 150], [200, 250, 255, 10], [20, 30, 40, 60], [70, 80, 90, 99]]];
  const weight = [[[[1, 0], [0, -1]]]];
  const out = [[[-250, -205, -155], [170, 220, 215], [-50, -60, -59]]];
  const conv = { output: out, geometry: null };
  const m = buildModel({ input: photo, weight, conv, act: null, pool: null, scheme: 'byte', heat: false });
  assert.deepEqual(m.grids.find((g) => g.id === 'output').scale, { kind: 'grey', min: 0, max: 255 });
  assert.equal(m.grids[0].scale.kind, 'grey');
  const heat = buildModel({ input: photo, weight, conv, act: null, pool: null, scheme: 'byte', heat: true });
  assert.equal(kinds(heat).output, 'diverging');
  assert.equal(kinds(heat).input, 'sequential');
  // A lecture input keeps the heat map.
  const lecture = buildModel({ input: X.request.input, weight: X.request.weight, conv: X.conv, act: null, pool: null, scheme: 'pm1', heat: false });
  assert.equal(kinds(lecture).output, 'diverging');
  // After the output: a bounded activation over its own range, pooling as what it pools.
  assert.deepEqual(pictureRange('act', 'sigmoid'), [0, 1]);
  assert.deepEqual(pictureRange('act', 'tanh'), [-1, 1]);
  assert.deepEqual(pictureRange('act', 'relu'), [0, 255]);
  assert.deepEqual(pictureRange('pool', 'none'), [0, 255]);
  assert.deepEqual(pictureRange('pool', 'sigmoid'), [0, 1]);
  assert.equal(pictureRange('kernel'), null);
});

test('an RGB photo is one true-colour picture whose pixels are its channels', () => {
  const r = [[255, 0], [0, 10]];
  const g = [[0, 255], [0, 20]];
  const b = [[0, 0], [255, 30]];
  const m = buildModel({ input: [r, g, b], weight: [[[[1]], [[1]], [[1]]]], conv: null, act: null, pool: null, scheme: 'byte', heat: false });
  const input = m.grids[0];
  assert.equal(input.rgb, true);
  assert.equal(input.scale.kind, 'rgb');
  assert.equal(input.channels.length, 3); // the three tables stay
  const rgba = new Uint8ClampedArray(4 * 4);
  paintRGB(input.channels.map((c) => c.values), input.scale, rgba);
  assert.deepEqual([...rgba], [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 10, 20, 30, 255]);
  assert.equal(byteOf(300, input.scale), 255);
  assert.equal(byteOf(-4, input.scale), 0);
  // The heat-map switch: three maps again.
  const heat = buildModel({ input: [r, g, b], weight: [[[[1]], [[1]], [[1]]]], conv: null, act: null, pool: null, scheme: 'byte', heat: true });
  assert.equal(heat.grids[0].rgb, false);
});

test('one view of a colour picture shows its three channels\' marks, once each', () => {
  const m = mergeMarks([{ boxes: [[0, 0, 2, 2]], taps: [[0, 0], [0, 1]], current: [1, 1] }, { boxes: [[0, 0, 2, 2]], taps: [[0, 1], [1, 1]] }, undefined]);
  assert.deepEqual(m, { boxes: [[0, 0, 2, 2]], taps: [[0, 0], [0, 1], [1, 1]], current: [1, 1] });
  // One weight label a cell: kept where the channels agree, dropped where they differ.
  const subs = mergeMarks([{ subs: [[0, 0, '×1'], [0, 1, '×2']] }, { subs: [[0, 0, '×1'], [0, 1, '×-1']] }]);
  assert.deepEqual(subs.subs, [[0, 0, '×1']]);
});

test('the step text names its cell counted from 1, as the formulas do', () => {
  const m = buildModel({ input: X.request.input, weight: X.request.weight, conv: X.conv, act: null, pool: null });
  const cols = X.conv.output[0][0].length;
  const f = describeFrame(m, cols + 2, null, t); // row 2, column 3
  assert.match(f.sum[0], /^O₂₃ = /);
});

test('image kernels sum, the lecture\'s X/O filters average', () => {
  for (const k of ['identity', 'box_blur', 'gaussian_blur', 'sharpen', 'sobel_x', 'sobel_left', 'prewitt_y', 'laplacian', 'emboss', 'outline']) {
    assert.equal(reduceFor(k), 'sum', k);
  }
  for (const k of ['diagonal', 'centre_x', 'anti_diagonal', 'diagonal~centre_x~anti_diagonal']) assert.equal(reduceFor(k), 'mean', k);
  assert.equal(reduceFor('diagonal~sobel_x'), 'sum');
});
