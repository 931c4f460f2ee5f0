import assert from 'node:assert/strict';
import { test } from 'node:test';

import { kernelMax, kernelMisfit } from '../../static/js/core/kernelfit.js';

const state = (over = {}) => ({ padding: [0, 0], dilation: [1, 1], transposed: false, ...over });

test('the largest kernel follows the input, the padding and the dilation', () => {
  assert.deepEqual(kernelMax(state(), 3, 5), { rows: 3, cols: 5, padded: [3, 5] });
  assert.deepEqual(kernelMax(state({ padding: [1, 2] }), 3, 5), { rows: 5, cols: 9, padded: [5, 9] });
  // four sides: left, right, top, bottom
  assert.deepEqual(kernelMax(state({ padding: [1, 0, 2, 2] }), 3, 3), { rows: 7, cols: 4, padded: [7, 4] });
  // dilation 2: a k-kernel spans 2k - 1 cells, so 5 rows hold k = 3
  assert.deepEqual(kernelMax(state({ dilation: [2, 3] }), 5, 7), { rows: 3, cols: 3, padded: [5, 7] });
  // capped at the field's 15; 'same' and transposed have no input limit
  assert.equal(kernelMax(state(), 64, 64).rows, 15);
  assert.equal(kernelMax(state({ padding: 'same' }), 3, 3).rows, 15);
  assert.equal(kernelMax(state({ transposed: true }), 3, 3).cols, 15);
  assert.equal(kernelMax(state({ padding: 'valid' }), 4, 4).rows, 4);
});

test('a misfit carries the parameters of the API refusal it prevents', () => {
  assert.equal(kernelMisfit(state(), 3, 3, 3, 3), null);
  assert.deepEqual(kernelMisfit(state(), 3, 3, 5, 5), { kernel_h: 5, kernel_w: 5, input_h: 3, input_w: 3 });
  assert.deepEqual(kernelMisfit(state({ dilation: [2, 1] }), 4, 4, 3, 3), { kernel_h: 5, kernel_w: 3, input_h: 4, input_w: 4 });
  assert.equal(kernelMisfit(state({ padding: [1, 1] }), 3, 3, 5, 5), null);
  assert.equal(kernelMisfit(state({ padding: 'same' }), 3, 3, 9, 9), null);
  assert.equal(kernelMisfit(state({ transposed: true }), 3, 3, 9, 9), null);
});
