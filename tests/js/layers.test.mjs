import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DIGIT_PROPS, EXAMPLES, vote } from '../../static/js/layers/digitmodel.js';
import { channelsIn, DEFAULT_LAYERS, decodeLayer, encodeLayer, layerWeight, makePicture, rng, STACK_PROPS, stackBody } from '../../static/js/layers/stackmodel.js';
import { decodeStrokes, encodeStrokes, MAX_POINTS, simplify } from '../../static/js/layers/strokes.js';
import { fromQuery, toQuery } from '../../static/js/core/state.js';

test('a stack round-trips through the URL, and nonsense is refused', () => {
  const layers = [...DEFAULT_LAYERS, { t: 'avg', k: 3, s: 1 }, { t: 'act', f: 'tanh' }, { t: 'conv', n: 2, k: 1, s: 1, p: 0, d: 1, src: 'w', w: [[[[0.5]]], [[[-1]]]] }];
  for (const l of layers) assert.deepEqual(decodeLayer(encodeLayer(l)), l);
  const state = { ...fromQuery('', STACK_PROPS).state, layers, src: 'rings', size: 64, open: { layer: 2, map: 3, step: 10 } };
  const q = toQuery(state, STACK_PROPS);
  const back = fromQuery(q, STACK_PROPS);
  assert.deepEqual(back.warnings, []);
  assert.deepEqual(back.state, state);
  assert.equal(toQuery(fromQuery('', STACK_PROPS).state, STACK_PROPS), '');
  for (const bad of ['c_33_3_1_1_1_p', 'c_8_3_1_1_1_x', 'a_gelu', 'm_9_1', 'z_1']) assert.throws(() => decodeLayer(bad));
  assert.equal(fromQuery('?L=c_0_3_1_1_1_p', STACK_PROPS).warnings[0].key, 'L');
});

test('weights: presets per filter, seeded random within the bound, learned filters', () => {
  const presets = { sobel_x: { weight: [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]] }, laplacian: { weight: [[0, 1, 0], [1, -4, 1], [0, 1, 0]] } };
  const w = layerWeight({ n: 3, k: 3, src: 'p' }, 2, presets, null);
  assert.deepEqual(w[0][1], [[-0.5, 0, 0.5], [-1, 0, 1], [-0.5, 0, 0.5]]);
  assert.deepEqual(w[1][0], [[0, 0.5, 0], [0.5, -2, 0.5], [0, 0.5, 0]]);
  assert.deepEqual(w[2], w[0]);
  const r = layerWeight({ n: 4, k: 5, src: 'r7' }, 3, presets, null);
  assert.deepEqual(layerWeight({ n: 4, k: 5, src: 'r7' }, 3, presets, null), r);
  assert.notDeepEqual(layerWeight({ n: 4, k: 5, src: 'r8' }, 3, presets, null), r);
  const bound = 1 / Math.sqrt(3 * 25);
  assert.ok(r.flat(3).every((v) => Math.abs(v) <= bound + 1e-4));
  const learned = [[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]];
  assert.deepEqual(layerWeight({ n: 2, k: 3, src: 'l' }, 1, presets, learned)[1][0], learned[0][0]);
  assert.deepEqual(channelsIn(DEFAULT_LAYERS, 3), [3, 8, 8, 8, 16, 16]);
  const body = stackBody(makePicture('house', 16, 'grey'), DEFAULT_LAYERS, presets, null);
  assert.equal(body.layers.length, 6);
  assert.equal(body.layers[3].weight[0].length, 8);
  assert.deepEqual(body.layers[2], { type: 'max_pool2d', kernel_size: 2, stride: 2 });
});

test('pictures made here: sizes, channels, 0..255, grey as luma', () => {
  for (const name of ['house', 'rings', 'checker']) {
    const rgb = makePicture(name, 20, 'rgb');
    const grey = makePicture(name, 20, 'grey');
    assert.equal(rgb.length, 3);
    assert.equal(grey.length, 1);
    assert.equal(rgb[0].length, 20);
    const all = rgb.flat(2);
    assert.ok(all.every((v) => Number.isInteger(v) && v >= 0 && v <= 255));
    assert.ok(new Set(all).size > 3, `${name} is not flat`);
    const [R, G, B] = [rgb[0][5][7], rgb[1][5][7], rgb[2][5][7]];
    assert.equal(grey[0][5][7], Math.round(0.299 * R + 0.587 * G + 0.114 * B));
  }
});

test('strokes: short in a URL, simplified, bounded', () => {
  const strokes = [[[0.1, 0.2], [0.5, 0.5]], [[0.25, 0.75]]];
  assert.equal(encodeStrokes(strokes), '20.40.100.100-50.150');
  assert.deepEqual(decodeStrokes(encodeStrokes(strokes)), strokes);
  assert.deepEqual(decodeStrokes(''), []);
  assert.throws(() => decodeStrokes('1.2.3'));
  assert.throws(() => decodeStrokes('1.999'));
  assert.throws(() => decodeStrokes(Array.from({ length: MAX_POINTS + 1 }, () => '1.1').join('.')));
  const dense = Array.from({ length: 101 }, (_, i) => [i / 1000, 0]);
  const s = simplify(dense, 0.01);
  assert.deepEqual(s[0], dense[0]);
  assert.deepEqual(s[s.length - 1], dense[100]);
  assert.ok(s.length <= 12);
});

test('the digit page: its URL, the example drawings, the vote', () => {
  const ink = encodeStrokes(EXAMPLES[3]);
  const q = toQuery({ ...fromQuery('', DIGIT_PROPS).state, ink }, DIGIT_PROPS);
  assert.equal(fromQuery(q, DIGIT_PROPS).state.ink, ink);
  assert.equal(fromQuery('?ink=1.2.3', DIGIT_PROPS).warnings[0].key, 'ink');
  for (let d = 0; d < 10; d++) assert.ok(EXAMPLES[d].flat().every(([x, y]) => x >= 0 && x <= 1 && y >= 0 && y <= 1), `example ${d}`);
  assert.deepEqual(vote({ classes: ['0', '1'], prediction: '1', probabilities: [0.25, 0.75] }), { digit: '1', p: '0.750' });
});

test("the layer pages' strings: both languages, every key they use", async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const read = (p) => readFileSync(new URL(p, import.meta.url), 'utf8');
  const en = JSON.parse(read('../../static/locales/layers/en.json'));
  const ru = JSON.parse(read('../../static/locales/layers/ru.json'));
  const common = JSON.parse(read('../../static/locales/en.json'));
  assert.deepEqual(Object.keys(ru).sort(), Object.keys(en).sort());
  const holes = (s) => (s.match(/\{\w+\}/g) || []).sort();
  for (const k of Object.keys(en)) {
    assert.deepEqual(holes(ru[k]), holes(en[k]), k);
    // Names (ReLU, Tanh) and bare formulas are the same in both languages.
    const same = /^lab\.(act\.(relu|leaky|tanh)|stage\.relu\d|step\.(act|title)|stage|example\.none)$/;
    if (!same.test(k)) assert.match(ru[k], /[а-яё]/i, k);
  }
  const used = new Set();
  for (const f of ['stack.html', 'digits.html']) {
    const html = read(`../../templates/${f}`);
    for (const m of html.matchAll(/(?:data-i18n="|t\(')([\w.]+)/g)) used.add(m[1]);
    for (const m of html.matchAll(/data-i18n-attr="([^"]+)"/g)) for (const pair of m[1].split(';')) used.add(pair.split(':')[1]);
    for (const m of html.matchAll(/\('[\w-]+', '([\w.]+)'\)/g)) used.add(m[1]);
  }
  const dir = new URL('../../static/js/layers/', import.meta.url);
  for (const f of readdirSync(dir)) for (const m of readFileSync(new URL(f, dir), 'utf8').matchAll(/\bt\('([\w.]+)'/g)) used.add(m[1]);
  const missing = [...used].filter((k) => !(k in en) && !(k in common));
  assert.deepEqual(missing, []);
  assert.ok(used.size > 80, `${used.size} keys found`);
});
