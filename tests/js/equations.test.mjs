import assert from 'node:assert/strict';
import { test } from 'node:test';

import { cellName, forwardEquations, inputEquations, sub, weightEquations } from '../../static/js/view/equations.js';
import { derive } from '../../static/js/model/derive.js';
import { backpropSteps, load } from './answers.mjs';

const SLIDE = backpropSteps(load('backprop_slide12'));
const TWO = backpropSteps(load('backprop_two_avg'));
const shapes = { weight: [1, 1, 2, 2], input: [1, 3, 3], dOut: [1, 2, 2] };

test('names count from 1 with subscripts, like the slides', () => {
  assert.equal(sub(12), '₁₂');
  assert.equal(cellName('O', 0, 0, 1), 'O₁₂');
  assert.equal(cellName('X', 1, 2, 0, true), 'X[2]₃₁');
  assert.equal(cellName('W', 0, 1, 1, true, 1), 'W[1,2]₂₂');
  assert.equal(cellName('X', 0, 9, 10), 'X₁₀,₁₁');
});

test('slide 12: each output is a sum of products of named weights and inputs', () => {
  const eqs = forwardEquations(SLIDE.conv, shapes).items.map((e) => e.text);
  assert.deepEqual(eqs, [
    'O₁₁ = W₁₁·X₁₁ + W₁₂·X₁₂ + W₂₁·X₂₁ + W₂₂·X₂₂',
    'O₁₂ = W₁₁·X₁₂ + W₁₂·X₁₃ + W₂₁·X₂₂ + W₂₂·X₂₃',
    'O₂₁ = W₁₁·X₂₁ + W₁₂·X₂₂ + W₂₁·X₃₁ + W₂₂·X₃₂',
    'O₂₂ = W₁₁·X₂₂ + W₁₂·X₂₃ + W₂₁·X₃₂ + W₂₂·X₃₃',
  ]);
});

test('slide 13: dE/dW = conv(X, dE/dO), written the same way', () => {
  const eqs = weightEquations(SLIDE.gradw, shapes).items.map((e) => e.text);
  assert.equal(eqs[0], 'dE/dW₁₁ = dE/dO₁₁·X₁₁ + dE/dO₁₂·X₁₂ + dE/dO₂₁·X₂₁ + dE/dO₂₂·X₂₂');
  assert.equal(eqs[3], 'dE/dW₂₂ = dE/dO₁₁·X₂₂ + dE/dO₁₂·X₂₃ + dE/dO₂₁·X₃₂ + dE/dO₂₂·X₃₃');
});

test('slide 13: dE/dX pairs each output gradient with the weight that used the input', () => {
  const { items: eqs, total } = inputEquations(SLIDE.gradx, { ...shapes, pad: [0, 0], stride: [1, 1] });
  assert.equal(eqs.length, 9);
  assert.equal(total, 9);
  assert.equal(eqs[0].text, 'dE/dX₁₁ = dE/dO₁₁·W₁₁');
  // The centre is read by all four outputs, each through a different weight.
  assert.deepEqual(new Set(eqs[4].text.split(' = ')[1].split(' + ')), new Set(['dE/dO₁₁·W₂₂', 'dE/dO₁₂·W₂₁', 'dE/dO₂₁·W₁₂', 'dE/dO₂₂·W₁₁']));
  assert.equal(eqs[8].text, 'dE/dX₃₃ = dE/dO₂₂·W₂₂');
});

test('padding, means, biases, strides and several channels', () => {
  const o = { weight: [2, 2, 2, 2], input: [2, 4, 4], dOut: [2, 3, 3], pad: [1, 1], stride: [2, 2], out: 'Z' };
  const fwd = forwardEquations(TWO.conv, o).items;
  assert.equal(fwd[0].text, 'Z[1]₁₁ = (W[1,1]₁₁·0 + W[1,1]₁₂·0 + W[1,1]₂₁·0 + W[1,1]₂₂·X[1]₁₁ + W[1,2]₁₁·0 + W[1,2]₁₂·0 + W[1,2]₂₁·0 + W[1,2]₂₂·X[2]₁₁) / 8 + b₁');
  const gw = weightEquations(TWO.gradw, o).items;
  assert.match(gw[4].text, /^dE\/dW\[1,2\]₁₁ = \(dE\/dZ\[1\]₁₁·0 \+ dE\/dZ\[1\]₁₂·0 \+ /);
  const gx = inputEquations(TWO.gradx, o).items;
  assert.equal(gx.length, 2 * 16, 'padding cells of the input are left out');
  // Only as many as are shown are written; the count says how many there are.
  const few = inputEquations(TWO.gradx, o, 5);
  assert.deepEqual([few.items.length, few.total], [5, 32]);
  assert.deepEqual(few.items, gx.slice(0, 5));
  // Stride 2: X₁₁ (padded (1, 1)) is read by output (1, 1) only, through W₂₂.
  assert.equal(gx[0].text, 'dE/dX[1]₁₁ = (dE/dZ[1]₁₁·W[1,1]₂₂ + dE/dZ[2]₁₁·W[2,1]₂₂) / 8');
});

test('a long equation keeps its first and last terms and says how many it leaves out', () => {
  const n = 40;
  const geometry = {
    op: 'conv2d', in_channels: 1, out_channels: 1, groups: 1, input_size: [1, n], kernel_size: [1, n],
    stride: [1, 1], dilation: [1, 1], padding: { top: 0, bottom: 0, left: 0, right: 0 }, padding_mode: 'zeros',
    reduce: 'sum', output_size: [1, 1], padded_size: [1, n],
  };
  const d = derive('conv2d', geometry, { input: [[Array(n).fill(1)]], weight: [[[Array(n).fill(1)]]] });
  const [eq] = forwardEquations(d, { weight: [1, 1, 1, n], input: [1, 1, n], t: (k, p) => `… ${p.n} more` }).items;
  assert.equal(eq.text.split(' + ').length, 9 + 1 + 3);
  assert.match(eq.text, /^O₁₁ = W₁₁·X₁₁ \+ .* \+ … 28 more \+ W₁,₃₈·X₁,₃₈ \+ W₁,₃₉·X₁,₃₉ \+ W₁,₄₀·X₁,₄₀$/);
});
