import assert from 'node:assert/strict';
import { test } from 'node:test';

import { background, rescale, resizeInput, setCell, strokeValue } from '../../static/js/panels/editors.js';
import { flipInput, invert, shiftInput } from '../../static/js/panels/tools.js';
import { fitWeight, flatten, range, reshape, shapeOf } from '../../static/js/core/tensor.js';

const g = [[[-1, 1, -1], [-1, -1, 1]]];

test('switching value schemes keeps the picture', () => {
  assert.deepEqual(rescale(g, 'pm1', 'unit'), [[[0, 1, 0], [0, 0, 1]]]);
  assert.deepEqual(rescale(g, 'pm1', 'byte'), [[[0, 255, 0], [0, 0, 255]]]);
  assert.deepEqual(rescale(rescale(g, 'pm1', 'byte'), 'byte', 'pm1'), g);
});

test('invert swaps the ends of the range', () => {
  assert.deepEqual(invert(g, 'pm1'), [[[1, -1, 1], [1, 1, -1]]]);
  assert.deepEqual(invert([[[0, 0.25]]], 'unit'), [[[1, 0.75]]]);
  assert.equal(background('pm1'), -1);
  assert.equal(background('unit'), 0);
});

test('a stroke paints the chosen value, or erases where it is already painted', () => {
  assert.equal(strokeValue(-1, 1, 'pm1'), 1);
  assert.equal(strokeValue(1, 1, 'pm1'), -1);
  assert.equal(strokeValue(-1, -1, 'pm1'), 1);
  assert.equal(strokeValue(0.5, 0.5, 'unit'), 0);
});

test('setCell copies; the state is never mutated', () => {
  const before = structuredClone(g);
  const after = setCell(g, 0, 1, 0, 1);
  assert.deepEqual(g, before);
  assert.equal(after[0][1][0], 1);
  assert.equal(after[0][0], g[0][0], 'untouched rows are shared');
});

test('resize keeps the top-left block and fills the rest', () => {
  assert.deepEqual(resizeInput(g, 3, 2, -1), [[[-1, 1], [-1, -1], [-1, -1]]]);
});

test('shift brings in the background; flip mirrors', () => {
  assert.deepEqual(shiftInput(g, 0, 1, -1), [[[-1, -1, 1], [-1, -1, -1]]]);
  assert.deepEqual(shiftInput(g, -1, 0, 0), [[[-1, -1, 1], [0, 0, 0]]]);
  assert.deepEqual(flipInput(g, true), [[[-1, 1, -1], [1, -1, -1]]]);
  assert.deepEqual(flipInput(g, false), [[[-1, -1, 1], [-1, 1, -1]]]);
});

test('fitting a weight to more channels copies the first one', () => {
  const w = [[[[1, 2], [3, 4]]]];
  const fitted = fitWeight(w, [2, 3, 2, 2]);
  assert.deepEqual(shapeOf(fitted), [2, 3, 2, 2]);
  assert.deepEqual(fitted[1][2], [[1, 2], [3, 4]]);
  assert.deepEqual(fitWeight(w, [1, 1, 3, 1]), [[[[1], [3], [0]]]]);
});

test('tensor helpers', () => {
  assert.deepEqual(reshape([1, 2, 3, 4, 5, 6], [2, 3]), [[1, 2, 3], [4, 5, 6]]);
  assert.throws(() => reshape([1], [2, 2]));
  assert.deepEqual(flatten([[1, [2]], [3]]), [1, 2, 3]);
  assert.deepEqual(range(g), { min: -1, max: 1 });
});
