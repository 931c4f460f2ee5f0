import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { buildBackwardModel, rot180, teacherName } from '../../static/js/view/backward.js';
import { translator } from '../../static/js/core/i18n.js';
import { describeFrame } from '../../static/js/view/render.js';

const en = JSON.parse(readFileSync(new URL('../../static/locales/en.json', import.meta.url)));
const ru = JSON.parse(readFileSync(new URL('../../static/locales/ru.json', import.meta.url)));
const t = translator(en);
const load = (name) => JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url)));
const SLIDE = load('backprop_slide12');
const XO = load('backprop_x_relu_pool');
const TWO = load('backprop_two_avg');

const model = (f, tr = t) =>
  buildBackwardModel({ bp: f.answer, input: f.request.input, weight: f.request.weight, bias: f.request.bias ?? null, groups: 1 }, tr);
const stagesOf = (m) => m.stages.map((s) => `${s.stage}:${s.count}`);

test('slide 12: dE/dW then dE/dX, one step per cell, in titled sections', () => {
  const m = model(SLIDE);
  assert.deepEqual(stagesOf(m), ['gradw:4', 'gradx:9']);
  assert.equal(m.total, 13);
  assert.deepEqual(m.sections.map((s) => s.id), ['loss', 'gradw', 'gradx']);
  assert.deepEqual(m.grids.map((g) => g.id), ['o', 'go', 'input', 'gzk', 'pw', 'gw', 'gzp', 'wr', 'px', 'gx']);
  for (const s of m.sections) assert.ok(!s.title.startsWith('bw.'), `${s.id} has a title`);
});

test('dE/dW: dE/dO slides over the input, each product and the sum written out', () => {
  const m = model(SLIDE);
  const f = describeFrame(m, 0, null, t);
  assert.deepEqual(f.focus, { stage: 'gradw', n: 0 });
  assert.equal(f.sum[0], 'dE/dW₁₁ = 1*1 + 2*0 + 3*(-1) + 1*2 = 0');
  assert.equal(f.views['input:0'].taps.length, 4);
  assert.deepEqual(f.views['input:0'].boxes, [[0, 0, 1, 1]]);
  assert.deepEqual(f.views['gw:0'].current, [0, 0]);
  assert.equal(f.views['gw:0'].veil, 0);
  assert.equal(f.views['gx:0'].veil, -1, 'dE/dX comes later');
  assert.deepEqual([...f.products[0]], [1, 0, -3, 2]);
  assert.equal(describeFrame(m, 3, null, t).sum[0], 'dE/dW₂₂ = 1*1 + 2*0 + 1*(-1) + 3*2 = 6');
});

test('dE/dX: the padded dE/dO under the turned kernel, padding cells named as such', () => {
  const m = model(SLIDE);
  assert.deepEqual(rot180([[[[1, -1], [2, 0]]]]), [[[[0, 2], [-1, 1]]]]);
  const wr = m.grids.find((g) => g.id === 'wr');
  assert.deepEqual([...wr.channels[0].values], [0, 2, -1, 1]);
  const f = describeFrame(m, 4, null, t);
  assert.deepEqual(f.focus, { stage: 'gradx', n: 0 });
  assert.equal(f.sum[0], 'dE/dX₁₁ = 0*0 + 0*2 + 0*(-1) + 1*1 = 1');
  assert.deepEqual(f.views['gzp:0'].boxes, [[0, 0, 1, 1]]);
  assert.deepEqual(f.views['gx:0'].current, [0, 0]);
  const gzp = m.grids.find((g) => g.id === 'gzp').channels[0];
  assert.deepEqual(gzp.inner, { r0: 1, c0: 1, rows: 2, cols: 2 }, 'the zeros around dE/dO are hatched');
  const last = describeFrame(m, 12, null, t);
  assert.equal(last.sum[0], 'dE/dX₃₃ = 2*0 + 0*2 + 0*(-1) + 0*1 = 0');
});

test('hovering a dE/dW cell shows its step; hovering the input outlines what it feeds', () => {
  const m = model(SLIDE);
  const f = describeFrame(m, 10, { grid: 'gw', ch: 0, r: 1, c: 0 }, t);
  assert.deepEqual(f.focus, { stage: 'gradw', n: 2 });
  const g = describeFrame(m, 0, { grid: 'input', ch: 0, r: 1, c: 1 }, t);
  assert.equal(g.focus, null);
  assert.equal(g.views['gw:0'].fed.length, 4);
});

test('the lecture X through ReLU and max pooling: loss, routing, gate, then the gradients', () => {
  const m = model(XO);
  assert.deepEqual(stagesOf(m), ['loss:16', 'route:16', 'gate:49', 'gradw:9', 'gradx:81']);
  const loss = describeFrame(m, 0, null, t);
  assert.match(loss.sum[0], /^dE\/dO₁₁ = 2 · \(O − T\) \/ N = 2 · \(1 − [-\d.()]+\) \/ 16 = /);
  assert.deepEqual(loss.views['go:0'].current, [0, 0]);
  // Routing: the gradient of pooled cell (0, 0) goes to its window's maximum.
  const route = describeFrame(m, 16, null, t);
  assert.deepEqual(route.focus, { stage: 'route', n: 0 });
  assert.deepEqual(route.views['go:0'].current, [0, 0]);
  assert.deepEqual(route.views['pa:0'].winner, [1, 1]);
  assert.deepEqual(route.views['ga:0'].winner, [1, 1]);
  assert.match(route.sum[0], /^dE\/dA₂₂ \+= dE\/dP₁₁ = /);
  assert.equal(route.views['ga:0'].hide.length, 49 - 4, 'only the first window is done');
  assert.equal(describeFrame(m, 0, null, t).views['ga:0'].hide.length, 49, 'before routing, none');
  // The gate: dE/dZ = dE/dA · ReLU'(Z).
  const gate = describeFrame(m, 32, null, t);
  assert.deepEqual(gate.focus, { stage: 'gate', n: 0 });
  assert.match(gate.sum[0], /^dE\/dZ₁₁ = dE\/dA · ReLU′\(Z\) = .* since Z = 0.78 > 0$/);
  for (const id of ['z:0', 'gate:0', 'gz:0', 'ga:0']) assert.deepEqual(gate.views[id].current, [0, 0], id);
  const shut = describeFrame(m, 33, null, t);
  assert.match(shut.sum[0], /= 0, since Z = -0.11 ≤ 0$/);
  // dE/dW is a mean here: the sum is divided by the 9 weights.
  const gw = describeFrame(m, 81, null, t);
  assert.deepEqual(gw.focus, { stage: 'gradw', n: 0 });
  assert.match(gw.sum[0], /^dE\/dW₁₁ = \(.*\) \/ 9 = /);
});

test('hovering the gate or a routed cell jumps to its step', () => {
  const m = model(XO);
  assert.deepEqual(describeFrame(m, 0, { grid: 'gate', ch: 0, r: 0, c: 1 }, t).focus, { stage: 'gate', n: 1 });
  assert.deepEqual(describeFrame(m, 0, { grid: 'ga', ch: 0, r: 2, c: 3 }, t).focus, { stage: 'route', n: 5 });
  assert.deepEqual(describeFrame(m, 0, { grid: 't', ch: 0, r: 1, c: 1 }, t).focus, { stage: 'loss', n: 5 });
});

test('two filters, a bias, stride 2, ReLU and average pooling', () => {
  const m = model(TWO);
  assert.deepEqual(stagesOf(m), ['route:8', 'gate:18', 'gradw:16', 'gradb:2', 'gradx:72']);
  assert.equal(describeFrame(m, 0, null, t).sum[0], 'each of the 4 cells of the window: dE/dA += dE/dP[1]₁₁ / 4 = 1 / 4 = 0.25');
  // A window cut by ceil_mode averages over the cells it has.
  assert.match(describeFrame(m, 1, null, t).sum[0], /of the 2 cells .* \/ 2 = 0.5$/);
  const gw = describeFrame(m, 8 + 18 + 4, null, t);
  assert.match(gw.sum[0], /^dE\/dW\[1,2\]₁₁ = /, 'step 4 is filter 1, channel 2');
  assert.equal(gw.views['gzk:1'].dim, true, 'the other filter takes no part');
  assert.equal(m.grids.find((g) => g.id === 'input').channels[0].inner.r0, 1, 'padded input');
  const gb = describeFrame(m, 8 + 18 + 16, null, t);
  assert.equal(gb.sum[0], 'dE/db1 = 0.25 + 0.25 + 0.5 + 0.25 + 0.25 + 0.5 + 0.5 + 0.5 + 1 = 4');
  assert.deepEqual(gb.views['gb:0'].current, [0, 0]);
  const gx = describeFrame(m, 8 + 18 + 16 + 2, null, t);
  assert.equal(gx.sum.length, 3, 'one partial sum per filter, then the total');
  assert.match(gx.sum[0], /^filter 1: /);
  assert.match(gx.sum[2], /^padding: /, 'the padded grid\'s corner is padding');
});

test('Russian has every backward string', () => {
  const missing = Object.keys(en).filter((k) => !(k in ru));
  assert.deepEqual(missing, []);
  const m = model(XO, translator(ru, en));
  assert.match(m.sections[0].title, /[а-я]/);
});

test('the teacher: the named preset when it fits the kernel, else one that does, else T = 0', () => {
  const kernels = { a3: { weight: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] }, b3: { weight: [[0, 0, 1], [0, 1, 0], [1, 0, 0]] }, g5: { weight: Array(5).fill([1, 1, 1, 1, 1]) } };
  assert.equal(teacherName('b3', kernels, [3, 3]), 'b3');
  assert.equal(teacherName('b3', kernels, [5, 5]), 'g5');
  assert.equal(teacherName('b3', kernels, [2, 2]), null);
  assert.equal(teacherName('zero', kernels, [3, 3]), null);
  assert.equal(teacherName([[[0]]], kernels, [3, 3]), null);
});
