import assert from 'node:assert/strict';
import { test } from 'node:test';

import { niceStep, tickLabel, yFraction, yScale } from '../../static/js/view/curve.js';
import { parseSSE } from '../../static/js/core/sse.js';

test('tick steps are 1, 2 or 5 times a power of ten', () => {
  assert.equal(niceStep(1, 5), 0.2);
  assert.equal(niceStep(0.35, 4), 0.1);
  assert.equal(niceStep(300, 5), 50);
  assert.equal(niceStep(0), 1);
});

test('a loss falling over decades gets a log axis; a small range a linear one from 0', () => {
  const log = yScale([0.15, 0.02, 1e-4, 3e-9]);
  assert.equal(log.log, true);
  assert.equal(log.lo, 1e-9);
  assert.equal(log.hi, 1);
  assert.deepEqual(log.ticks, [1e-8, 1e-6, 1e-4, 1e-2, 1]);
  assert.ok(Math.abs(yFraction(1e-4, log) - 5 / 9) < 1e-12);
  assert.equal(tickLabel(1e-6, true), '1e-6');
  const lin = yScale([0.7, 0.5, 0.31]);
  assert.deepEqual([lin.log, lin.lo, lin.hi], [false, 0, 0.8]);
  assert.equal(yFraction(0.4, lin), 0.5);
  assert.equal(yFraction(-5, lin), 0, 'clamped');
});

test('a sum loss may go negative: the axis follows it', () => {
  const s = yScale([3, -2, -40]);
  assert.equal(s.log, false);
  assert.ok(s.lo <= -40 && s.hi >= 3);
  assert.equal(yFraction(s.lo, s), 0);
});

test('accuracy is pinned to 0..1', () => {
  const s = yScale([0.4, 0.97], [0, 1]);
  assert.deepEqual([s.lo, s.hi, s.ticks.at(-1)], [0, 1, 1]);
});

test('server-sent events split on blank lines; a partial event waits for the next chunk', () => {
  const text = 'event: step\nid: 0\ndata: {"iteration":0,"loss":0.5}\n\n: keep-alive\n\nevent: done\ndata: {"stop_';
  const { events, rest } = parseSSE(text);
  assert.deepEqual(events, [{ event: 'step', id: '0', data: '{"iteration":0,"loss":0.5}' }]);
  const more = parseSSE(`${rest}reason":"max_iterations"}\r\n\r\n`);
  assert.equal(more.rest, '');
  assert.equal(more.events[0].event, 'done');
  assert.deepEqual(JSON.parse(more.events[0].data), { stop_reason: 'max_iterations' });
  assert.deepEqual(parseSSE('data: a\ndata: b\n\n').events[0], { event: 'message', id: null, data: 'a\nb' });
});
