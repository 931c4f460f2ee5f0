import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { advance, globalStep, locate, stepOfCell, stepsReading, taps, totalSteps, windowBoxes } from '../../static/js/trace.js';

// Real answers of the API, captured (see fixtures/): the lecture's X with the diagonal
// filter (reduce "mean"), then max pooling 2x2 stride 2 with ceil_mode.
const X = JSON.parse(readFileSync(new URL('./fixtures/x_diagonal_mean.json', import.meta.url)));
const TWO = JSON.parse(readFileSync(new URL('./fixtures/two_channels_bias.json', import.meta.url)));
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
  const t = X.conv.trace;
  assert.equal(stepOfCell(t, 0, 0, 0), 0);
  assert.equal(stepOfCell(t, 0, 1, 0), 7);
  assert.equal(stepOfCell(t, 0, 6, 6), 48);
  assert.equal(stepOfCell(t, 0, 7, 0), -1);
  const t2 = TWO.conv.trace;
  assert.equal(stepOfCell(t2, 1, 0, 0), 4, 'filter 2 starts after the 4 cells of filter 1');
});

test('an input cell is read by every window that covers it', () => {
  const t = X.conv.trace;
  // A corner is read by one window, the centre by nine (3x3 kernel, stride 1).
  assert.deepEqual(stepsReading(t, 0, 0, 0), [0]);
  assert.equal(stepsReading(t, 0, 4, 4).length, 9);
  assert.deepEqual(stepsReading(t, 0, 0, 8), [6]);
  // With padding 1 and stride 2, grid cell (1, 1) (input (0, 0)) is read by one window
  // per filter, and it is read in both channels.
  const t2 = TWO.conv.trace;
  assert.deepEqual(stepsReading(t2, 0, 1, 1), [0, 4]);
  assert.deepEqual(stepsReading(t2, 1, 1, 1), [0, 4]);
});

test('taps of a ceil_mode window exclude what falls off the edge', () => {
  const p = X.pool.trace;
  assert.equal(taps(p, 0).length, 4);
  assert.equal(taps(p, 3).length, 2, 'last column: a partial window');
  assert.equal(taps(p, 15).length, 1, 'corner: one cell');
});

test('window boxes span the taps in each channel', () => {
  assert.deepEqual(windowBoxes(X.conv.trace, 8), [{ channel: 0, r0: 1, c0: 1, r1: 3, c1: 3 }]);
  assert.equal(windowBoxes(TWO.conv.trace, 0).length, 2);
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
