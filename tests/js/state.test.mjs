import assert from 'node:assert/strict';
import { test } from 'node:test';

import { decodeTensor, defaults, encodeTensor, fromQuery, needsPush, numStr, toQuery } from '../../static/js/core/state.js';

test('the default view is the bare address', () => {
  assert.equal(toQuery(defaults()), '');
  assert.deepEqual(fromQuery('').state, defaults());
});

test('the lecture default: X glyph, diagonal filter, mean', () => {
  const s = defaults();
  assert.equal(s.input, 'x');
  assert.equal(s.weight, 'diagonal');
  assert.equal(s.reduce, 'mean');
});

test('a full state survives the round trip through the URL', () => {
  const s = defaults();
  Object.assign(s, {
    lang: 'ru',
    input: [[[1, -1, 0.5], [0, 0, 0], [0.25, 1e-7, 255]]],
    scheme: 'byte',
    weight: [[[[1, 0], [0, -1]]], [[[0.111111, 2], [3, 4]]]],
    bias: [0.5, -1],
    stride: [2, 1],
    padding: [1, 0, 2, 3],
    dilation: [2, 2],
    groups: 1,
    paddingMode: 'reflect',
    reduce: 'sum',
    activation: 'leaky_relu',
    slope: 0.2,
    pool: 'avg',
    poolKernel: [3, 3],
    poolStride: [1, 1],
    poolPadding: [1, 1],
    ceil: true,
    countIncludePad: false,
    uploadMode: 'rgb',
    maxSide: 128,
    speed: 16,
    step: 12,
  });
  const q = toQuery(s);
  const back = fromQuery(q);
  assert.deepEqual(back.warnings, []);
  // 1e-7 is written with 6 significant digits; everything else exactly.
  s.input[0][2][1] = Number(numStr(1e-7));
  assert.deepEqual(back.state, s);
});

test('padding forms: same, valid, a pair, four sides', () => {
  for (const padding of ['same', 'valid', [1, 2], [3, 3], [0, 1, 2, 3]]) {
    const s = { ...defaults(), padding };
    assert.deepEqual(fromQuery(toQuery(s)).state.padding, padding);
  }
  assert.equal(toQuery({ ...defaults(), padding: [1, 1] }), '?p=1');
});

test('presets travel by name, several filters joined by ~', () => {
  const s = { ...defaults(), input: 'o', weight: 'diagonal~centre_x~anti_diagonal' };
  assert.equal(toQuery(s), '?in=o&k=diagonal~centre_x~anti_diagonal');
  assert.deepEqual(fromQuery(toQuery(s)).state, s);
});

test('a glyph of -1 and +1 is run-length encoded', () => {
  const x = [Array.from({ length: 9 }, (_, r) => Array.from({ length: 9 }, (_, c) => (r > 0 && r < 8 && (c === r || c === 8 - r) ? 1 : -1)))];
  const s = encodeTensor(x);
  assert.ok(s.startsWith('1x9x9:-1*10,1,'), s);
  assert.ok(s.length < 200, `${s.length} chars`);
  assert.deepEqual(decodeTensor(s, 3), x);
});

test('a 64x64 input fits in a link', () => {
  const big = [Array.from({ length: 64 }, (_, r) => Array.from({ length: 64 }, (_, c) => (r * 64 + c) % 7))];
  const q = toQuery({ ...defaults(), input: big });
  assert.ok(q.length < 32768);
  assert.deepEqual(fromQuery(q).state.input, big);
});

test('an input too large for a link is written as "upload" and read back as null', () => {
  const huge = [Array.from({ length: 200 }, (_, r) => Array.from({ length: 200 }, (_, c) => (r * 7 + c * 13) % 256))];
  const q = toQuery({ ...defaults(), input: huge });
  assert.equal(q, '?in=upload');
  assert.equal(fromQuery(q).state.input, null);
});

test('a malformed link keeps defaults and says what it ignored', () => {
  const { state, warnings } = fromQuery('?s=0&p=abc&in=2x2:1,2,3&k=<script>&r=median&step=-1&lang=fr');
  assert.deepEqual(state, defaults());
  assert.deepEqual(warnings.map((w) => w.key).sort(), ['in', 'k', 'lang', 'p', 'r', 's', 'step']);
});

test('tensor decoding rejects nonsense', () => {
  assert.throws(() => decodeTensor('3x3:1,2', 2), /needs 9 values/);
  assert.throws(() => decodeTensor('1x1:NaN', 2));
  assert.throws(() => decodeTensor('1x1:1', 3), /bad shape/);
  assert.throws(() => decodeTensor('1x2:1*0', 2));
  assert.throws(() => decodeTensor('4096x4096:0*16777216', 2), /too large/);
});

test('the step and the speed replace the history entry; parameters push', () => {
  const a = defaults();
  assert.equal(needsPush(a, { ...a, step: 5 }), false);
  assert.equal(needsPush(a, { ...a, speed: 60 }), false);
  assert.equal(needsPush(a, { ...a, stride: [2, 2] }), true);
});

test('numbers are written short', () => {
  assert.equal(numStr(2), '2');
  assert.equal(numStr(-0), '0');
  assert.equal(numStr(1 / 9), '0.111111');
  assert.equal(numStr(255), '255');
});

test('inherited names (__proto__, constructor, toString) are not presets: a warning, the default', async () => {
  const { fromQuery, PROPS } = await import('../../static/js/core/state.js');
  const def = Object.fromEntries(PROPS.map((p) => [p.name, p.def]));
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    for (const key of ['k', 'in', 'tg', 'go']) {
      const { state, warnings } = fromQuery(`?${key}=${name}`);
      const prop = PROPS.find((p) => p.key === key);
      assert.deepEqual(state[prop.name], def[prop.name], `${key}=${name}`);
      assert.deepEqual(warnings.map((w) => w.key), [key]);
    }
  }
  const { state, warnings } = fromQuery('?k=diagonal~constructor~centre_x');
  assert.equal(state.weight, 'diagonal');
  assert.equal(warnings.length, 1);
  assert.equal(fromQuery('?k=centre_x').state.weight, 'centre_x');
});

test('a key given twice counts with its last value, as on the server', async () => {
  const { fromQuery } = await import('../../static/js/core/state.js');
  const { parseEmbed } = await import('../../static/js/core/embed-options.js');
  assert.equal(fromQuery('?lang=en&lang=ru').state.lang, 'ru');
  assert.deepEqual(fromQuery('?s=1&s=2').state.stride, [2, 2]);
  assert.equal(parseEmbed('?theme=light&theme=dark').options.theme, 'dark');
});

test("a photo's longest side goes up to the API's limit (1024)", () => {
  assert.equal(fromQuery('?ms=1024').state.maxSide, 1024);
  assert.equal(fromQuery('?ms=1025').state.maxSide, 64);
});
