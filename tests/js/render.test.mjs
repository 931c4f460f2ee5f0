import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { transposedWeight } from '../../static/js/core/api.js';
import { fmt } from '../../static/js/core/format.js';
import { translator } from '../../static/js/core/i18n.js';
import { buildModel, describeFrame, tableHTML } from '../../static/js/view/render.js';
import { load } from './answers.mjs';

const en = JSON.parse(readFileSync(new URL('../../static/locales/en.json', import.meta.url)));
const t = translator(en);
const X = load('x_diagonal_mean');
const TWO = load('two_channels_bias');

const xModel = (withPool = true) =>
  buildModel({
    input: X.request.input,
    weight: X.request.weight,
    conv: X.conv,
    act: null,
    pool: withPool ? X.pool : null,
    poolKind: withPool ? 'max' : 'none',
  });

test('the model lists the grids in order, with one step per output cell', () => {
  const m = xModel();
  assert.deepEqual(m.grids.map((g) => g.id), ['input', 'kernel', 'products', 'output', 'pool']);
  assert.equal(m.total, 49 + 16);
  const out = m.grids.find((g) => g.id === 'output').channels[0];
  assert.deepEqual([out.rows, out.cols], [7, 7]);
  assert.equal(out.values[0].toFixed(2), '0.78');
  assert.equal(m.grids[0].scale.kind, 'diverging');
});

test('the input grid is the padded grid, with the padding marked', () => {
  const m = buildModel({ input: TWO.request.input, weight: TWO.request.weight, bias: TWO.request.bias, conv: TWO.conv, act: null, pool: null });
  const ch = m.grids[0].channels[0];
  assert.deepEqual([ch.rows, ch.cols], [5, 5]);
  assert.deepEqual(ch.inner, { r0: 1, c0: 1, rows: 3, cols: 3 });
  assert.equal(ch.values[1 * 5 + 1], 1, 'input (0, 0) sits at grid (1, 1)');
  assert.equal(ch.values[0], 0, 'zero padding');
});

test('a painted cell shows at once, before the answer comes back', () => {
  const input = structuredClone(X.request.input);
  input[0][4][0] = 1;
  const m = buildModel({ input, weight: X.request.weight, conv: X.conv, act: null, pool: null });
  assert.equal(m.grids[0].channels[0].values[4 * 9], 1);
});

test('with nothing hovered, the frame is that of the animated step', () => {
  const m = xModel();
  const f = describeFrame(m, 8, null, t);
  assert.deepEqual(f.focus, { stage: 'conv', n: 8 });
  assert.deepEqual(f.views['output:0'].current, [1, 1]);
  assert.deepEqual(f.views['input:0'].boxes, [[1, 1, 3, 3]]);
  assert.equal(f.views['input:0'].taps.length, 9);
  assert.equal(f.views['output:0'].veil, 8, 'cells after step 8 are not computed yet');
  assert.equal(f.views['pool:0'].veil, -1, 'pooling has not started');
  assert.equal(f.products[0].length, 9);
  assert.match(f.sum[0], / \/ 9 = 1$/);
});

test('hovering an output cell draws exactly what animating to it draws', () => {
  const m = xModel();
  const played = describeFrame(m, 10, null, t);
  const hovered = describeFrame(m, 10, { grid: 'output', ch: 0, r: 1, c: 3 }, t);
  assert.deepEqual(hovered.views['input:0'], played.views['input:0']);
  assert.deepEqual(hovered.sum, played.sum);
  // And it outlines the pooled cell it feeds.
  assert.deepEqual(hovered.views['pool:0'].fed, [[0, 1]]);
});

test('hovering an input cell outlines every output cell it feeds', () => {
  const m = xModel();
  const f = describeFrame(m, 0, { grid: 'input', ch: 0, r: 4, c: 4 }, t);
  assert.equal(f.views['output:0'].fed.length, 9);
  assert.deepEqual(f.views['input:0'].cursor, [4, 4]);
  assert.equal(f.focus, null);
  assert.equal(f.sum[0], 'This cell is read by 9 output cell(s), outlined.');
});

test('pooling steps mark the window and its winner in the map they read', () => {
  const m = xModel();
  const f = describeFrame(m, 49, null, t);
  assert.deepEqual(f.focus, { stage: 'pool', n: 0 });
  assert.deepEqual(f.views['output:0'].winner, [1, 1]);
  assert.deepEqual(f.views['pool:0'].current, [0, 0]);
  assert.equal(f.views['output:0'].veil, undefined, 'the convolution is complete');
  assert.equal(f.products, null);
  assert.equal(f.sum[0], 'max(0.78, -0.11, -0.11, 1) = 1');
  // A partial ceil_mode window marks only the cells that exist.
  const last = describeFrame(m, 64, null, t);
  assert.deepEqual(last.views['output:0'].taps, [[6, 6]]);
});

test('several filters: the other filters are dimmed, partial sums listed', () => {
  const m = buildModel({ input: TWO.request.input, weight: TWO.request.weight, bias: TWO.request.bias, conv: TWO.conv, act: null, pool: null });
  const f = describeFrame(m, 5, null, t);
  assert.deepEqual(f.views['output:1'].current, [0, 1]);
  assert.equal(f.views['kernel:0'].dim, true);
  assert.equal(f.views['kernel:1'].dim, true);
  assert.equal(f.views['kernel:2'], undefined);
  assert.equal(f.sum.length, 3);
  assert.equal(f.views['output:0']?.veil, undefined, 'filter 1 is done');
  assert.equal(f.views['output:1'].veil, 1);
});

test('no answer yet: input and kernel only, no steps', () => {
  const m = buildModel({ input: X.request.input, weight: X.request.weight, conv: null, act: null, pool: null });
  assert.deepEqual(m.grids.map((g) => g.id), ['input', 'kernel']);
  assert.equal(m.total, 0);
  const f = describeFrame(m, 0, null, t);
  assert.deepEqual(f.sum, []);
});

test('tables: named, with row and column numbers, padding left out', () => {
  const m = buildModel({ input: TWO.request.input, weight: TWO.request.weight, bias: TWO.request.bias, conv: TWO.conv, act: null, pool: null });
  const html = tableHTML('Input, channel 1', m.grids[0].channels[0]);
  assert.match(html, /^<table class="numbers" aria-label="Input, channel 1">/);
  const body = html.slice(html.indexOf('<tbody>'));
  assert.equal((body.match(/<td>/g) || []).length, 9);
  // Counted from 1, as the lecture and the formulas count.
  assert.match(html, /<th scope="col">1<\/th><th scope="col">2<\/th><th scope="col">3<\/th><\/tr>/);
  assert.match(html, /<th scope="row">1<\/th><td>1<\/td><td>2<\/td><td>0<\/td>/);
  assert.doesNotMatch(html, /<th scope="(row|col)">0</);
  const big = { values: new Float64Array(100 * 80), rows: 100, cols: 80 };
  const cut = tableHTML('Input', big, 'cut');
  assert.equal((cut.slice(cut.indexOf('<tbody>')).match(/<td>/g) || []).length, 64 * 64);
});

test('transposed convolution: the window slides over the input spread out and padded, the filter turned', async () => {
  await import('../../static/js/model/gradients.js');
  const T = load('transposed_odd'); // 3x3 input, stride 2, padding 1, output_padding 1 -> 6x6
  const { input, weight, bias } = T.request;
  const m = buildModel({ input, weight, bias, conv: T.conv, act: null, pool: null });
  assert.deepEqual(m.grids.map((g) => g.id), ['input', 'tin', 'kernel', 'products', 'output']);
  assert.equal(m.total, 36);
  const tin = m.grids[1].channels[0];
  // P = k - 1 = 2: input (0, 0) at (1, 1), entries 2 apart, and room for the last window.
  assert.deepEqual(tin.inner, { r0: 1, c0: 1, rows: 5, cols: 5 });
  assert.deepEqual([tin.rows, tin.cols], [8, 8]);
  assert.deepEqual([tin.values[1 * 8 + 1], tin.values[1 * 8 + 2], tin.values[1 * 8 + 3]], [1, 0, 2]);
  // Every step's sum is the answer's output cell.
  for (let n = 0; n < 36; n++) {
    const f = describeFrame(m, n, null, t);
    const [r, c] = f.views['output:0'].current;
    assert.match(f.sum[0], new RegExp(`= ${fmt(T.conv.output[0][r][c]).replace('.', '\\.').replace('-', '\\-')}$`));
  }
  const f = describeFrame(m, 0, null, t);
  assert.deepEqual(f.views['tin:0'].boxes, [[0, 0, 2, 2]]);
  // The turned kernel: tap (0, 0) carries weight[2][2] = -1.
  assert.equal(f.views['tin:0'].subs[0][2], '×-1');
});

test('transposedWeight: filters become ConvTranspose2d output channels, group by group', () => {
  // 4 filters over 2 input channels in 2 groups: (4, 1, 1, 1) -> (2, 2, 1, 1).
  const w = [[[[1]]], [[[2]]], [[[3]]], [[[4]]]];
  assert.deepEqual(transposedWeight(w, 2), [[[[1]], [[2]]], [[[3]], [[4]]]]);
  // One group, 2 filters over 3 channels: (2, 3, 1, 1) -> (3, 2, 1, 1).
  const v = [[[[1]], [[2]], [[3]]], [[[4]], [[5]], [[6]]]];
  assert.deepEqual(transposedWeight(v, 1), [[[[1]], [[4]]], [[[2]], [[5]]], [[[3]], [[6]]]]);
});
