// The layer pages' step view reads model/derive.js (the page's one derivation): a map's
// step, its taps grouped by input map, equals the obvious loop and derive's own step.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { layerDeriver, mapStep } from '../../static/js/layers/mapstep.js';
import { rng } from '../../static/js/layers/stackmodel.js';

const convGeo = (o) => ({
  op: 'conv2d', groups: 1, stride: [1, 1], dilation: [1, 1], padding: { top: 0, bottom: 0, left: 0, right: 0 }, padding_mode: 'zeros', reduce: 'sum', ...o,
});

test("the padding slide's output, cell by cell, from the geometry", () => {
  const input = [[[2, 2, 3, 3, 3], [0, 1, 3, 0, 3], [2, 3, 0, 1, 3], [3, 3, 2, 1, 2], [3, 3, 0, 2, 3]]];
  const weight = [[[[2, 0, 1], [1, 0, 0], [0, 1, 1]]]];
  const geo = convGeo({ in_channels: 1, out_channels: 1, input_size: [5, 5], kernel_size: [3, 3], stride: [2, 2], padding: { top: 1, bottom: 1, left: 1, right: 1 }, output_size: [3, 3] });
  const d = layerDeriver(geo, { input, weight, bias: null });
  const want = [[1, 5, 6], [7, 8, 3], [3, 10, 4]];
  for (let n = 0; n < 9; n++) {
    const s = mapStep(d, geo, 0, n);
    assert.deepEqual(s.out, [0, Math.floor(n / 3), n % 3]);
    assert.equal(s.result, want[Math.floor(n / 3)][n % 3]);
    assert.equal(s.channels.length, 1);
  }
  const corner = mapStep(d, geo, 0, 0);
  assert.deepEqual(corner.channels[0].onInput, [false, false, false, false, true, true, false, true, true]);
  assert.deepEqual(corner.channels[0].cells[0], [-1, -1]);
  assert.deepEqual(corner.box, [-1, 1, -1, 1]);
});

/** The obvious loop over one output cell, for any stride, padding, dilation and groups. */
function naive(input, weight, bias, g, q, y, x) {
  const perGroup = g.in_channels / g.groups;
  const group = Math.floor(q / (g.out_channels / g.groups));
  const partials = [];
  for (let m = 0; m < perGroup; m++) {
    let s = 0;
    for (let i = 0; i < g.kernel_size[0]; i++) {
      for (let j = 0; j < g.kernel_size[1]; j++) {
        const r = y * g.stride[0] + i * g.dilation[0] - g.padding.top;
        const c = x * g.stride[1] + j * g.dilation[1] - g.padding.left;
        const row = input[group * perGroup + m][r];
        if (row !== undefined && row[c] !== undefined) s += row[c] * weight[q][m][i][j];
      }
    }
    partials.push(s);
  }
  return { partials, result: partials.reduce((a, b) => a + b, 0) + (bias ? bias[q] : 0) };
}

test("mapStep equals the obvious loop and derive's own step, map by map, with groups, stride, padding and dilation", () => {
  const next = rng(3);
  for (let trial = 0; trial < 40; trial++) {
    const groups = 1 + Math.floor(next() * 2);
    const cin = groups * (1 + Math.floor(next() * 3));
    const cout = groups * (1 + Math.floor(next() * 2));
    const k = 1 + Math.floor(next() * 3);
    const [H, W] = [6 + Math.floor(next() * 4), 5 + Math.floor(next() * 4)];
    const s = 1 + Math.floor(next() * 2);
    const d = 1 + Math.floor(next() * 2);
    const p = Math.floor(next() * 2);
    const out = [Math.floor((H + 2 * p - d * (k - 1) - 1) / s) + 1, Math.floor((W + 2 * p - d * (k - 1) - 1) / s) + 1];
    const geo = convGeo({ in_channels: cin, out_channels: cout, groups, input_size: [H, W], kernel_size: [k, k], stride: [s, s], dilation: [d, d], padding: { top: p, bottom: p, left: p, right: p }, output_size: out });
    const input = Array.from({ length: cin }, () => Array.from({ length: H }, () => Array.from({ length: W }, () => Math.round(next() * 10))));
    const weight = Array.from({ length: cout }, () => Array.from({ length: cin / groups }, () => Array.from({ length: k }, () => Array.from({ length: k }, () => Math.round(next() * 6 - 3)))));
    const bias = trial % 3 ? Array.from({ length: cout }, () => Math.round(next() * 4)) : null;
    const der = layerDeriver(geo, { input, weight, bias });
    const per = out[0] * out[1];
    for (let q = 0; q < cout; q++) {
      for (let n = 0; n < per; n += 2) {
        const got = mapStep(der, geo, q, n);
        const ref = naive(input, weight, bias, geo, q, Math.floor(n / out[1]), n % out[1]);
        const whole = der.step(q * per + n);
        assert.equal(got.result, ref.result);
        assert.equal(got.result, whole.result);
        assert.deepEqual(got.channels.map((c) => c.partial), ref.partials);
        assert.deepEqual(got.channels.map((c) => c.c), Array.from({ length: cin / groups }, (_, m) => Math.floor(q / (cout / groups)) * (cin / groups) + m));
        assert.deepEqual(got.channels.flatMap((c) => c.products), whole.products);
        assert.equal(got.bias, bias ? bias[q] : null);
      }
    }
  }
});

const poolGeo = (op, o) => ({ op, channels: 1, kernel_size: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1], input_size: [4, 4], output_size: [2, 2], grid_size: [4, 4], ceil_mode: false, count_include_pad: op === 'avg_pool2d' ? true : null, ...o });

test('pooling: the max and its tap (the answer\'s index when sent), the mean and its divisor', () => {
  const input = [[[1, 5, 2, 0], [3, 4, 8, 1], [0, 0, 6, 7], [9, 2, 3, 4]]];
  const max = poolGeo('max_pool2d');
  const m = mapStep(layerDeriver(max, { input }), max, 0, 1);
  assert.equal(m.result, 8);
  assert.equal(m.argmax, 2);
  // A tie: the engine's index names the winner (here the second 5 of a flat window).
  const tie = [[[5, 5], [1, 5]]];
  const g1 = poolGeo('max_pool2d', { input_size: [2, 2], output_size: [1, 1], grid_size: [2, 2] });
  assert.equal(mapStep(layerDeriver(g1, { input: tie }), g1, 0, 0).argmax, 0);
  assert.equal(mapStep(layerDeriver(g1, { input: tie, indices: [[[3]]] }), g1, 0, 0).argmax, 3);
  const avg = poolGeo('avg_pool2d');
  const a = mapStep(layerDeriver(avg, { input }), avg, 0, 2);
  assert.equal(a.divisor, 4);
  assert.equal(a.result, 11 / 4);
  // Padding 1: the corner window has one tap on the map; with count_include_pad all 4 count.
  const padded = { padding: [1, 1], output_size: [3, 3], grid_size: [6, 6] };
  const inc = poolGeo('avg_pool2d', padded);
  assert.equal(mapStep(layerDeriver(inc, { input }), inc, 0, 0).divisor, 4);
  const exc = poolGeo('avg_pool2d', { ...padded, count_include_pad: false });
  const e = mapStep(layerDeriver(exc, { input }), exc, 0, 0);
  assert.equal(e.divisor, 1);
  assert.deepEqual(e.channels[0].onInput, [false, false, false, true]);
  const mp = poolGeo('max_pool2d', padded);
  assert.equal(mapStep(layerDeriver(mp, { input }), mp, 0, 0).result, 1);
  // Two maps: map 1's steps read map 1 only.
  const two = [input[0], input[0].map((r) => r.map((v) => -v))];
  const g2 = poolGeo('max_pool2d', { channels: 2 });
  const s2 = mapStep(layerDeriver(g2, { input: two }), g2, 1, 3);
  assert.equal(s2.channels[0].c, 1);
  assert.equal(s2.result, -3);
});

test('an activation: the value before and after', () => {
  const geo = { op: 'activation', function: 'relu', negative_slope: 0.01, shape: [2, 1, 2] };
  const d = layerDeriver(geo, { input: [[[1, -2]], [[-3, 4]]] });
  assert.deepEqual([mapStep(d, geo, 1, 0).channels[0].values, mapStep(d, geo, 1, 0).result], [[-3], 0]);
  assert.equal(mapStep(d, geo, 1, 1).result, 4);
});

test("a map's link to the main page and its GIF body carry the filter's group, slice and bias", async () => {
  const { gifBody, mainPageLink } = await import('../../static/js/layers/maplinks.js');
  const { fromQuery, PROPS } = await import('../../static/js/core/state.js');
  const input = [[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[0, 1, 0], [1, 0, 1], [0, 1, 0]], [[2, 2, 2], [2, 2, 2], [2, 2, 2]], [[9, 9, 9], [9, 9, 9], [9, 9, 9]]];
  const weight = [0, 1, 2, 3].map((q) => [[[q, 0.5], [-1, 0.25]], [[1, 1], [1, q]]]); // (4, 2, 2, 2)
  const geo = convGeo({ in_channels: 4, out_channels: 4, groups: 2, input_size: [3, 3], kernel_size: [2, 2], padding: { top: 1, bottom: 1, left: 1, right: 1 }, output_size: [4, 4] });
  const href = mainPageLink(geo, { input, weight, bias: [5, 6, 7, 8] }, 3, 5, 'ru');
  const { state, warnings } = fromQuery(href.slice(1), PROPS);
  assert.deepEqual(warnings, []);
  assert.deepEqual(state.input, input.slice(2)); // filter 3 is in group 2: maps 3 and 4
  assert.deepEqual(state.weight, [weight[3]]);
  assert.deepEqual(state.bias, [8]);
  assert.deepEqual([state.step, state.lang, state.reduce, state.padding, state.groups], [5, 'ru', 'sum', [1, 1], 1]);
  // The main page's convolution of that state is map 3's: the same step, the same number.
  const main = layerDeriver(convGeo({ in_channels: 2, out_channels: 1, input_size: [3, 3], kernel_size: [2, 2], padding: geo.padding, output_size: [4, 4] }), { input: state.input, weight: state.weight, bias: state.bias });
  const d = layerDeriver(geo, { input, weight, bias: [5, 6, 7, 8] });
  assert.equal(main.step(5).result, mapStep(d, geo, 3, 5).result);
  assert.equal(mainPageLink({ ...geo, op: 'max_pool2d' }, { input }, 0, 0, 'en'), null);
  const big = [Array.from({ length: 200 }, (_, r) => Array.from({ length: 200 }, (_, c) => r * 200 + c))];
  assert.equal(mainPageLink(convGeo({ in_channels: 1, out_channels: 1, input_size: [200, 200], kernel_size: [1, 1], output_size: [200, 200] }), { input: big, weight: [[[[1]]]] }, 0, 0, 'en'), null);
  const body = gifBody(geo, { input, weight, bias: [5, 6, 7, 8] }, 1);
  assert.deepEqual([body.op, body.input, body.weight, body.bias, body.padding], ['conv2d', input.slice(0, 2), [weight[1]], [6], [1, 1]]);
  const pool = gifBody({ op: 'max_pool2d', kernel_size: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1], ceil_mode: false }, { input }, 2);
  assert.deepEqual([pool.op, pool.input], ['max_pool2d', [input[2]]]);
  assert.equal(gifBody({ op: 'activation' }, { input }, 0), null);
});

test('the keyboard pen: arrows move it on the pad, Space puts it down and lifts it, Backspace takes back', async () => {
  const { KEY_JUMP, KEY_STEP, penKey } = await import('../../static/js/layers/strokes.js');
  assert.deepEqual(penKey('ArrowRight', false, [0.5, 0.5], false), { at: [0.5 + KEY_STEP, 0.5], down: false });
  assert.deepEqual(penKey('ArrowUp', true, [0.5, 0.5], true), { at: [0.5, 0.5 - KEY_JUMP], down: true });
  assert.deepEqual(penKey('ArrowLeft', true, [0.05, 0], false).at, [0, 0]);
  assert.deepEqual(penKey(' ', false, [0.2, 0.3], false), { at: [0.2, 0.3], down: true });
  assert.deepEqual(penKey(' ', false, [0.2, 0.3], true).down, false);
  assert.equal(penKey('Enter', false, [0, 0], false), null);
  assert.equal(penKey('Enter', false, [0, 0], true).down, false);
  assert.equal(penKey('Backspace', false, [0, 0], true).undo, true);
  assert.equal(penKey('a', false, [0, 0], true), null);
});
