import assert from 'node:assert/strict';
import { test } from 'node:test';

import { exportBody, stagesOf } from '../../static/js/panels/exporter.js';
import { appliedWeight, flipKernel, resolveInput, resolveWeight } from '../../static/js/core/pipeline.js';
import { defaults, fromQuery, toQuery } from '../../static/js/core/state.js';

const presets = {
  glyphs: { x: { input: [[1, -1], [-1, 1]] } },
  kernels: { diagonal: { weight: [[1, 0], [0, 2]] }, box: { weight: [[3, 3], [3, 3]] } },
};

test('flipping turns every 2-D kernel 180 degrees, at any nesting', () => {
  assert.deepEqual(flipKernel([[1, 2, 3], [4, 5, 6]]), [[6, 5, 4], [3, 2, 1]]);
  const w = [[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]];
  assert.deepEqual(flipKernel(w), [[[[4, 3], [2, 1]], [[8, 7], [6, 5]]]]);
  assert.deepEqual(flipKernel(flipKernel(w)), w);
  assert.deepEqual(w, [[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]], 'the argument is left as it was');
});

test('true convolution equals cross-correlation with the turned kernel', () => {
  // A 3x3 input, a 2x2 kernel, valid: out[r][c] = sum_ij x[r+i][c+j] * k[i][j].
  const x = [[1, 2, 0], [3, 1, 2], [0, 1, 3]];
  const k = [[1, -1], [2, 0]];
  const corr = (kk) => [0, 1].map((r) => [0, 1].map((c) => kk.flat().reduce((a, v, t) => a + v * x[r + (t >> 1)][c + (t & 1)], 0)));
  // Convolution by its definition: out[r][c] = sum_ij x[r+i][c+j] * k[1-i][1-j].
  const conv = [0, 1].map((r) => [0, 1].map((c) => {
    let s = 0;
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) s += x[r + i][c + j] * k[1 - i][1 - j];
    return s;
  }));
  assert.deepEqual(corr(flipKernel(k)), conv);
  assert.notDeepEqual(corr(k), conv);
});

test('the switch lives in the URL and decides the kernel sent', () => {
  const s = { ...defaults(), flip: true };
  assert.equal(toQuery(s), '?flip=1');
  assert.equal(fromQuery('?flip=1').state.flip, true);
  assert.equal(fromQuery('').state.flip, false);
  const w = [[[[1, 2], [3, 4]]]];
  assert.equal(appliedWeight(defaults(), w), w);
  assert.deepEqual(appliedWeight(s, w), [[[[4, 3], [2, 1]]]]);
});

test('presets resolve to tensors', () => {
  const s = { ...defaults(), weight: 'diagonal~box' };
  assert.deepEqual(resolveInput(s, presets), [[[1, -1], [-1, 1]]]);
  assert.deepEqual(resolveWeight(s, presets, 2), [
    [[[1, 0], [0, 2]], [[1, 0], [0, 2]]],
    [[[3, 3], [3, 3]], [[3, 3], [3, 3]]],
  ]);
});

test('export bodies: the conv as applied, the pooling over the last map', () => {
  const s = { ...defaults(), flip: true, reduce: 'sum', pool: 'max', ceil: true };
  const input = [[[1, 2], [3, 4]]];
  const weight = [[[[1, 2], [3, 4]]]];
  const conv = exportBody('conv', s, input, weight, {});
  assert.equal(conv.op, 'conv2d');
  assert.deepEqual(conv.weight, [[[[4, 3], [2, 1]]]]);
  assert.equal(conv.reduce, 'sum');
  const pool = exportBody('pool', s, input, weight, { conv: { output: [[[5]]] }, act: null });
  assert.equal(pool.op, 'max_pool2d');
  assert.deepEqual(pool.input, [[[5]]]);
  assert.equal(pool.ceil_mode, true);
  assert.equal(exportBody('pool', defaults(), input, weight, { conv: { output: [[[5]]] } }), null);
});

test('export bodies: the activation, cell by cell over the convolution\'s output', () => {
  const s = { ...defaults(), activation: 'leaky_relu', slope: 0.2, pool: 'avg' };
  const input = [[[1, 2], [3, 4]]];
  const weight = [[[[1]]]];
  const results = { conv: { output: [[[-1, 2], [3, -4]]] } };
  assert.deepEqual(exportBody('act', s, input, weight, results), {
    op: 'activation', function: 'leaky_relu', input: [[[-1, 2], [3, -4]]], negative_slope: 0.2,
  });
  const relu = exportBody('act', { ...s, activation: 'relu' }, input, weight, results);
  assert.equal(relu.function, 'relu');
  assert.equal('negative_slope' in relu, false);
  assert.equal(exportBody('act', defaults(), input, weight, results), null);
  assert.equal(exportBody('act', s, input, weight, {}), null);
  assert.deepEqual(stagesOf(s), ['conv', 'act', 'pool']);
  assert.deepEqual(stagesOf({ ...s, pool: 'none' }), ['conv', 'act']);
  assert.deepEqual(stagesOf(defaults()), ['conv']);
});
