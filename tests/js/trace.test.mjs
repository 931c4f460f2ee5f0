import assert from 'node:assert/strict';
import { test } from 'node:test';

import { advance, globalStep, jumpStep, locate, totalSteps } from '../../static/js/core/trace.js';
import { convSteps, load, poolSteps } from './answers.mjs';

// Real answers of the API, captured (see fixtures/): the lecture's X with the diagonal
// filter (reduce "mean"), then max pooling 2x2 stride 2 with ceil_mode; each step
// derived from the answer's geometry.
const X = load('x_diagonal_mean');
const TWO = load('two_channels_bias');
const stages = [{ stage: 'conv', count: 49 }, { stage: 'pool', count: 16 }];

test('global steps run through the convolution, then the pooling', () => {
  assert.equal(totalSteps(stages), 65);
  assert.deepEqual(locate(0, stages), { stage: 'conv', n: 0 });
  assert.deepEqual(locate(48, stages), { stage: 'conv', n: 48 });
  assert.deepEqual(locate(49, stages), { stage: 'pool', n: 0 });
  assert.deepEqual(locate(64, stages), { stage: 'pool', n: 15 });
  assert.deepEqual(locate(999, stages), { stage: 'pool', n: 15 }, 'past the end: the last step');
  assert.deepEqual(locate(-3, stages), { stage: 'conv', n: 0 });
  assert.equal(locate(0, [{ stage: 'conv', count: 0 }]), null);
  for (let s = 0; s < 65; s++) {
    const { stage, n } = locate(s, stages);
    assert.equal(globalStep(stage, n, stages), s);
  }
});

test('an output cell maps to its step, row-major over channels', () => {
  const t = convSteps(X);
  assert.equal(t.stepOfCell(0, 0, 0), 0);
  assert.equal(t.stepOfCell(0, 1, 0), 7);
  assert.equal(t.stepOfCell(0, 6, 6), 48);
  assert.equal(t.stepOfCell(0, 7, 0), -1);
  assert.equal(convSteps(TWO).stepOfCell(1, 0, 0), 4, 'filter 2 starts after the 4 cells of filter 1');
});

test('an input cell is read by every window that covers it', () => {
  const t = convSteps(X);
  // A corner is read by one window, the centre by nine (3x3 kernel, stride 1).
  assert.deepEqual(t.stepsReading(0, 0, 0), [0]);
  assert.equal(t.stepsReading(0, 4, 4).length, 9);
  assert.deepEqual(t.stepsReading(0, 0, 8), [6]);
  // With padding 1 and stride 2, grid cell (1, 1) (input (0, 0)) is read by one window
  // per filter, and it is read in both channels.
  const t2 = convSteps(TWO);
  assert.deepEqual(t2.stepsReading(0, 1, 1), [0, 4]);
  assert.deepEqual(t2.stepsReading(1, 1, 1), [0, 4]);
});

test('taps of a ceil_mode window exclude what falls off the edge', () => {
  const p = poolSteps(X, 'pool');
  const counted = (n) => p.step(n).mask.filter(Boolean).length;
  assert.equal(counted(0), 4);
  assert.equal(counted(3), 2, 'last column: a partial window');
  assert.equal(counted(15), 1, 'corner: one cell');
});

test('window boxes span the taps in each channel', () => {
  assert.deepEqual(convSteps(X).windowBoxes(8), [{ channel: 0, r0: 1, c0: 1, r1: 3, c1: 3 }]);
  assert.equal(convSteps(TWO).windowBoxes(0).length, 2);
});

test('jumps by output row and channel stay in the stage, then cross into the next', () => {
  const st = [{ stage: 'conv', count: 24, shape: [2, 3, 4] }, { stage: 'pool', count: 4, shape: [1, 2, 2] }];
  assert.equal(jumpStep(st, 0, 'row', 1), 4, 'the same column of the next row');
  assert.equal(jumpStep(st, 9, 'row', 1), 13, 'on into the next channel');
  assert.equal(jumpStep(st, 11, 'channel', 1), 23);
  assert.equal(jumpStep(st, 21, 'row', 1), 23, 'no next row: the stage\'s last step');
  assert.equal(jumpStep(st, 23, 'row', 1), 24, 'from there, the next stage');
  assert.equal(jumpStep(st, 25, 'row', -1), 24);
  assert.equal(jumpStep(st, 24, 'row', -1), 23);
  assert.equal(jumpStep(st, 13, 'channel', -1), 1);
  assert.equal(jumpStep(st, 0, 'row', -1), 0);
  assert.equal(jumpStep([{ stage: 'loss', count: 5 }], 2, 'row', 1), 4, 'no shape: one row');
});

test('the player advances by elapsed time and speed, carrying fractions', () => {
  let s = advance(0, 0, 100, 4, 49); // 0.4 of a step
  assert.deepEqual([s.step, s.done], [0, false]);
  assert.ok(Math.abs(s.carry - 0.4) < 1e-9);
  s = advance(s.step, s.carry, 200, 4, 49); // 0.4 + 0.8
  assert.equal(s.step, 1);
  s = advance(40, 0, 10000, 60, 49);
  assert.deepEqual([s.step, s.done], [48, true]);
});
