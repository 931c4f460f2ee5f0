/**
 * The lecture's scenes (static/lecture/scenes.json) against the slides' numbers
 * (../shared/lecture/SLIDES.md): each scene's state, decoded as the page decodes
 * it, computed with a plain reference convolution, gives the slide's result.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { flipKernel } from '../../static/js/core/pipeline.js';
import { featureCount, largest, layerWeights, weightCases } from '../../static/js/core/scenemath.js';
import { fromQuery, toQuery } from '../../static/js/core/state.js';

const read = (p) => readFileSync(new URL(p, import.meta.url), 'utf8');
const scenes = JSON.parse(read('../../static/lecture/scenes.json'));
const byId = Object.fromEntries(scenes.map((s) => [s.id, s]));
const en = JSON.parse(read('../../static/locales/lecture/en.json'));
const ru = JSON.parse(read('../../static/locales/lecture/ru.json'));

// The lecture's X (SLIDES.md, slide 5) and its diagonal filter.
const X = Array.from({ length: 9 }, (_, i) => Array.from({ length: 9 }, (_, j) => (i > 0 && i < 8 && (j === i || j === 8 - i) ? 1 : -1)));
const KERNELS = {
  diagonal: [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]],
  sobel_x: [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
  sobel_y: [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
};
const GLYPHS = { x: X, x_shifted: X.map((row) => [-1, ...row.slice(0, 8)]) };

/** The state of a scene, presets resolved the page's way. */
function stateOf(scene) {
  const { state, warnings } = fromQuery(scene.query);
  assert.deepEqual(warnings, [], scene.id);
  const input = typeof state.input === 'string' ? [GLYPHS[state.input]] : state.input;
  const weight = typeof state.weight === 'string'
    ? state.weight.split('~').map((n) => input.map(() => KERNELS[n]))
    : state.weight;
  return { state, input, weight };
}

/** Reference conv2d: zero padding, stride, mean or sum, bias; (C, H, W) -> (O, Ho, Wo). */
function conv2d(input, weight, { stride, padding, reduce, bias }) {
  const [sh, sw] = stride;
  const [ph, pw] = padding;
  const [C, H, W] = [input.length, input[0].length, input[0][0].length];
  const [kh, kw] = [weight[0][0].length, weight[0][0][0].length];
  const at = (c, r, q) => (r < 0 || q < 0 || r >= H || q >= W ? 0 : input[c][r][q]);
  const Ho = Math.floor((H + 2 * ph - kh) / sh) + 1;
  const Wo = Math.floor((W + 2 * pw - kw) / sw) + 1;
  return weight.map((f, o) => Array.from({ length: Ho }, (_, r) => Array.from({ length: Wo }, (_, q) => {
    let s = 0;
    for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) s += at(c, r * sh - ph + i, q * sw - pw + j) * f[c][i][j];
    return (reduce === 'mean' ? s / (C * kh * kw) : s) + (bias ? bias[o] : 0);
  })));
}

/** Max pooling k x k, stride k, ceil_mode (partial windows kept). */
function maxPoolCeil(map, k) {
  const out = [];
  for (let r = 0; r < map.length; r += k) {
    const row = [];
    for (let c = 0; c < map[0].length; c += k) row.push(Math.max(...map.slice(r, r + k).flatMap((x) => x.slice(c, c + k))));
    out.push(row);
  }
  return out;
}

function run(scene) {
  const { state, input, weight } = stateOf(scene);
  const padding = Array.isArray(state.padding) ? state.padding : [0, 0];
  return conv2d(input, state.flip ? flipKernel(weight) : weight, { ...state, padding });
}

const close = (a, b) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

test('one scene per row of SLIDES.md, in slide order', () => {
  assert.deepEqual(scenes.map((s) => s.id), [
    'intro', 'pixels', 'translation', 'xo', 'padding', 'stride', 'kernel-size', 'weights', 'training', 'backprop', 'grad-weight', 'grad-input',
  ]);
  const first = scenes.map((s) => Number(s.slides.split('–')[0]));
  assert.deepEqual(first, [...first].sort((a, b) => a - b));
  const covered = new Set(scenes.flatMap((s) => {
    const [a, b = a] = s.slides.split('–').map(Number);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }));
  assert.deepEqual([...covered].sort((a, b) => a - b), Array.from({ length: 13 }, (_, i) => i + 1));
});

test('each scene is a state in the page\'s own format, written canonically', () => {
  for (const s of scenes.filter((x) => x.query)) {
    const { state, warnings } = fromQuery(s.query);
    assert.deepEqual(warnings, [], s.id);
    assert.equal(toQuery(state), `?${s.query}`, s.id);
    for (const v of s.variants || []) assert.deepEqual(fromQuery(v.query).warnings, [], `${s.id} ${v.key}`);
    for (const l of s.links || []) assert.deepEqual(fromQuery(l.query).warnings, [], `${s.id} ${l.key}`);
  }
});

test('pixels: the deck\'s 20x20 grid, copied by a 1x1 kernel; 128x128x3 = 49152', () => {
  const { input } = stateOf(byId.pixels);
  assert.equal(input[0].length, 20);
  assert.deepEqual(input[0][0], [5, 2, 22, 97, 38, 15, 0, 40, 0, 75, 4, 5, 7, 78, 52, 12, 50, 77, 17, 4]);
  assert.deepEqual(input[0][19], [1, 70, 54, 71, 83, 51, 54, 69, 16, 92, 33, 48, 61, 43, 52, 1, 89, 14, 65, 48]);
  assert.equal(input[0].flat().reduce((a, b) => a + b, 0), 18439);
  assert.deepEqual(run(byId.pixels), input);
  assert.equal(featureCount(20, 20, 1), byId.pixels.expect.features);
  assert.equal(featureCount(128, 128, 3), 49152);
});

test('X/O: 7/9 first, the deck\'s first row, a 4x4 pooled map starting with 1', () => {
  const [out] = run(byId.xo);
  assert.equal(out.length, 7);
  byId.xo.expect.output_row0.forEach((v, i) => close(out[0][i], v));
  // The deck's table, truncated to two decimals: 0.77 -0.11 0.11 0.33 0.55 -0.11 0.33.
  assert.deepEqual(out[0].map((v) => Math.trunc(v * 100) / 100), [0.77, -0.11, 0.11, 0.33, 0.55, -0.11, 0.33]);
  close(out[3][3], 5 / 9);
  for (const i of [1, 2, 4, 5]) close(out[i][i], 1);
  const { state } = stateOf(byId.xo);
  assert.equal(state.pool, 'max');
  assert.equal(state.ceil, true);
  const pooled = maxPoolCeil(out, 2);
  assert.deepEqual([pooled.length, pooled[0].length], byId.xo.expect.pool_shape);
  close(pooled[0][0], 1);
});

test('translation: the shifted X\'s map moves one column, its largest value stays 1', () => {
  const [shifted] = run(byId.translation);
  const [plain] = run(byId.xo);
  assert.deepEqual(shifted.map((row) => row.slice(1)), plain.map((row) => row.slice(0, 6)));
  close(largest(shifted).value, byId.translation.expect.max_output);
  close(largest(maxPoolCeil(shifted, 2)).value, byId.translation.expect.max_pool);
});

test('padding: [[1,5,6],[7,8,3],[3,10,4]], not the garbled [[1,6,5],...]', () => {
  const [out] = run(byId.padding);
  assert.deepEqual(out, [[1, 5, 6], [7, 8, 3], [3, 10, 4]]);
  assert.notDeepEqual(out, byId.padding.expect.deck_printed);
  assert.deepEqual(out, byId.padding.expect.output);
});

test('stride: 7x7 input, stride 2 -> 3x3; stride 1 -> 5x5', () => {
  const [out] = run(byId.stride);
  assert.deepEqual([out.length, out[0].length], [3, 3]);
  const [one] = run({ query: byId.stride.variants[0].query });
  assert.deepEqual([one.length, one[0].length], [5, 5]);
});

test('kernel size: [[122,148],[126,134]]', () => {
  assert.deepEqual(run(byId['kernel-size']), [[[122, 148], [126, 134]]]);
});

test('weights: 2 filters of 3x3 over RGB plus 2 biases = 56; the slide\'s three cases', () => {
  const { state, weight } = stateOf(byId.weights);
  assert.equal(layerWeights(weight.length, weight[0].length, 3, 3, !!state.bias), 56);
  assert.equal(byId.weights.expect.parameters, 56);
  assert.deepEqual(weightCases(2, 3, 64), { one: 18, rgb: 54, d: 1152, bias: 2 });
  const out = run(byId.weights);
  assert.deepEqual([out.length, out[0].length, out[0][0].length], byId.weights.expect.output_shape);
});

test('backprop: O, dE/dW = conv(X, dE/dO), dE/dX = padded dE/dO conv rot180(F)', () => {
  const X3 = [[1, 2, 0], [3, 1, 2], [0, 1, 3]];
  const F = [[1, -1], [2, 0]];
  const G = [[1, 0], [-1, 2]];
  assert.deepEqual(run(byId.backprop), [byId.backprop.expect.output]);
  // dE/dW_ij = sum_rc G_rc X_{r+i, c+j}; dE/dX_ab = sum_ij G_{a-i, b-j} F_ij.
  const gradW = [0, 1].map((i) => [0, 1].map((j) => [0, 1].reduce((a, r) => a + [0, 1].reduce((b, c) => b + G[r][c] * X3[r + i][c + j], 0), 0)));
  const gradX = [0, 1, 2].map((a) => [0, 1, 2].map((b) => {
    let s = 0;
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) if (a - i >= 0 && a - i < 2 && b - j >= 0 && b - j < 2) s += G[a - i][b - j] * F[i][j];
    return s;
  }));
  assert.deepEqual(run(byId['grad-weight']), [gradW]);
  assert.deepEqual(gradW, byId['grad-weight'].expect.output);
  assert.deepEqual(run(byId['grad-input']), [gradX]);
  assert.deepEqual(gradX, byId['grad-input'].expect.output);
  assert.equal(stateOf(byId['grad-input']).state.flip, true);
});

test('every scene speaks English and Russian', () => {
  assert.deepEqual(Object.keys(ru).sort(), Object.keys(en).sort());
  const holes = (s) => (s.match(/\{\w+\}/g) || []).sort();
  for (const k of Object.keys(en)) assert.deepEqual(holes(ru[k]), holes(en[k]), k);
  for (const s of scenes) {
    for (const part of ['title', 'summary', 'text']) {
      assert.ok(en[`scene.${s.id}.${part}`], `${s.id}.${part}`);
      assert.match(ru[`scene.${s.id}.${part}`], /[а-яё]/i, `${s.id}.${part} in Russian`);
    }
    for (const v of s.variants || []) assert.ok(en[v.key], v.key);
    for (const l of s.links || []) assert.ok(en[l.key], l.key);
  }
  assert.match(en['scene.padding.text'], /\[\[1, 5, 6\], \[7, 8, 3\], \[3, 10, 4\]\]/);
  assert.match(en['scene.padding.text'], /garbled/);
  assert.match(ru['scene.padding.text'], /искажены/);
});

test('every lecture string the templates and scripts use exists', () => {
  const used = new Set();
  for (const f of ['_scene.html', 'lecture.html', 'embed.html']) {
    const html = read(`../../templates/${f}`);
    for (const m of html.matchAll(/\bL\('([\w.-]+)'/g)) used.add(m[1]);
    for (const m of html.matchAll(/data-l="([\w.-]+)"/g)) used.add(m[1]);
  }
  for (const f of ['share.js', 'exporter.js', 'codepanel.js', 'scene.js']) {
    const src = read(`../../static/js/panels/${f}`);
    for (const m of src.matchAll(/\bL\('([\w.-]+)'/g)) used.add(m[1]);
    for (const m of src.matchAll(/data-l="([\w.-]+)"/g)) used.add(m[1]);
  }
  // Keys built from a scene id ("scene.' ~ id ~ '.title") are checked per scene above.
  const missing = [...used].filter((k) => !k.endsWith('.') && !(k in en));
  assert.deepEqual(missing, []);
  assert.ok(used.size > 50, `${used.size} keys`);
});
