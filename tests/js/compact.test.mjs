import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';

import { COMPACT_MIN, largeTensorFields } from '../../static/js/core/api.js';
import { decodeCompact, encodeCompact, revive } from '../../static/js/core/compact.js';

/** What the server sends for a float32 array (app.api.tensors.base64_pieces, joined). */
function serverCompact(values, shape) {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return { dtype: 'float32', shape, base64: buf.toString('base64') };
}

test('encodeCompact writes little-endian float32, row-major, with the shape', () => {
  const t = [[[0, 1.5, -2], [255, 0.25, 3]]];
  const c = encodeCompact(t);
  assert.deepEqual(c, serverCompact([0, 1.5, -2, 255, 0.25, 3], [1, 2, 3]));
});

test('decodeCompact reads what the server writes, at every rank', () => {
  assert.deepEqual(decodeCompact(serverCompact([7], [1])), [7]);
  assert.deepEqual(decodeCompact(serverCompact([1, 2, 3, 4, 5, 6], [2, 3])), [[1, 2, 3], [4, 5, 6]]);
  const four = decodeCompact(serverCompact([...Array(24).keys()], [2, 3, 2, 2]));
  assert.equal(four[1][2][1][0], 22);
});

test('a round trip keeps the numbers (as float32) and the shape', () => {
  const t = Array.from({ length: 3 }, (_, c) =>
    Array.from({ length: 64 }, (_, r) => Array.from({ length: 64 }, (_, x) => (c * 4096 + r * 64 + x) % 256)),
  );
  assert.deepEqual(decodeCompact(encodeCompact(t)), t); // bytes 0..255 are exact in float32
  assert.equal(decodeCompact(encodeCompact([[0.1]]))[0][0], Math.fround(0.1));
});

test('revive turns compact tensors anywhere in an answer into lists, and nothing else', () => {
  const answer = {
    output: serverCompact([1, 2], [1, 2]),
    output_shape: [1, 1, 2],
    formula: { text: 'H_out = 1' },
    trace: { cells: serverCompact([0, 0, 1], [1, 1, 3]), bias: null, grid_origin: [1, 1] },
    lists: [serverCompact([5], [1])],
  };
  assert.deepEqual(revive(answer), {
    output: [[1, 2]],
    output_shape: [1, 1, 2],
    formula: { text: 'H_out = 1' },
    trace: { cells: [[[0, 0, 1]]], bias: null, grid_origin: [1, 1] },
    lists: [[5]],
  });
});

test('image-sized tensors are sent compact, lecture-size ones stay lists', () => {
  const big = [Array.from({ length: 33 }, () => Array(32).fill(1))]; // 1,056 numbers
  const small = [[1, 2, 3], [4, 5, 6], [7, 8, 9]];
  assert.ok(33 * 32 > COMPACT_MIN && 9 <= COMPACT_MIN);
  assert.deepEqual(largeTensorFields({ input: big, weight: big, grad_output: big, stride: 1 }), ['input', 'grad_output']);
  assert.deepEqual(largeTensorFields({ input: small, target: small }), []);
  // A list of inputs (descent) is not one tensor: left as it is.
  assert.deepEqual(largeTensorFields({ inputs: [big, big] }), []);
  assert.deepEqual(largeTensorFields({ input: [1, 2, 3] }), []);
});

test('encodeCompact refuses ragged lists and non-numbers instead of reshaping them', () => {
  assert.throws(() => encodeCompact([[1, 2], [3], [4, 5, 6]]), TypeError);
  assert.throws(() => encodeCompact([[1, null], [3, 4]]), TypeError);
  assert.throws(() => encodeCompact([[1, '2'], [3, 4]]), TypeError);
});

test('a 3x512x512 image encodes (no argument-count limit) and reads back', () => {
  const t = Array.from({ length: 3 }, (_, c) => Array.from({ length: 512 }, (_, r) => Array.from({ length: 512 }, (_, x) => (c + r + x) % 256)));
  const back = decodeCompact(encodeCompact(t));
  assert.equal(back[2][511][511], (2 + 511 + 511) % 256);
  assert.deepEqual(back[1][7].slice(0, 4), t[1][7].slice(0, 4));
});
