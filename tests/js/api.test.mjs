import assert from 'node:assert/strict';
import { test } from 'node:test';

import { readFileSync } from 'node:fs';
import { activationBody, ApiError, convBody, errorText, parseProblems, poolBody, problemText, refillBackprop } from '../../static/js/core/api.js';
import { translator } from '../../static/js/core/i18n.js';
import { defaults } from '../../static/js/core/state.js';

test('error bodies become messages tied to fields', () => {
  assert.deepEqual(parseProblems({ detail: 'Too many requests' }, 429), [{ field: null, message: 'Too many requests' }]);
  assert.deepEqual(
    parseProblems({ detail: [{ loc: ['stride'], msg: 'stride: must be at least 1', type: 'x' }] }, 422),
    [{ field: 'stride', message: 'stride: must be at least 1', type: 'x', ctx: {} }],
  );
  assert.deepEqual(
    parseProblems({ detail: [{ loc: ['body', 'input', 0, 1], msg: 'Value error, ragged' }] }, 422),
    [{ field: 'input', message: 'ragged', type: null, ctx: {} }],
  );
  assert.deepEqual(parseProblems(null, 502), [{ field: null, message: 'HTTP 502' }]);
  const e = new ApiError(422, [{ field: 'a', message: 'x' }, { field: null, message: 'y' }]);
  assert.equal(e.message, 'x; y');
});

test("the API's problems are worded by the page's locale, never the server's English on the Russian page", () => {
  const en = translator(JSON.parse(readFileSync(new URL('../../static/locales/en.json', import.meta.url))));
  const ru = translator(JSON.parse(readFileSync(new URL('../../static/locales/ru.json', import.meta.url))));
  const [same] = parseProblems({ detail: [{ loc: ['padding'], msg: "padding: 'same' needs stride 1", type: 'same_needs_stride_1', ctx: { stride_h: 2, stride_w: 2 } }] }, 422);
  assert.match(problemText(same, ru), /шага 1 \(сейчас 2×2\)/);
  assert.match(problemText(same, en), /needs stride 1 \(it is 2×2\)/);
  const [ge] = parseProblems({ detail: [{ loc: ['stride'], msg: 'stride: Input should be greater than or equal to 1', type: 'greater_than_equal', ctx: { ge: 1 } }] }, 422);
  assert.equal(problemText(ge, ru), 'Шаг: не меньше 1.');
  // A type the locale does not know: the server's sentence in English, its field in Russian.
  const [odd] = parseProblems({ detail: [{ loc: ['groups'], msg: 'groups: something new', type: 'ParameterError' }] }, 422);
  assert.equal(problemText(odd, en), 'groups: something new');
  assert.equal(problemText(odd, ru), 'Сервер не принял поле группы.');
  assert.equal(errorText(new ApiError(422, [odd, ge]), ru), 'Сервер не принял поле группы. Шаг: не меньше 1.');
});

test('a limit is worded with its numbers, grouped as the language groups them, and its fix', () => {
  const en = translator(JSON.parse(readFileSync(new URL('../../static/locales/en.json', import.meta.url))));
  const ru = translator(JSON.parse(readFileSync(new URL('../../static/locales/ru.json', import.meta.url))));
  const item = { loc: ['layers.0.weight'], msg: 'layers.0.weight: the multiply-adds would be 2,000,000,000, over the limit of 1,000,000,000; use fewer filters', type: 'macs_over_limit', code: 'macs_over_limit', ctx: { actual: 2e9, limit: 1e9 } };
  const [p] = parseProblems({ detail: [item] }, 422);
  assert.equal(problemText(p, en), 'The convolution would take 2,000,000,000 multiply-adds, over the server\'s limit of 1,000,000,000: use fewer filters or a smaller input.');
  const text = problemText(p, ru);
  assert.match(text, /^Умножений со сложением в свёртке было бы 2\s000\s000\s000/);
  assert.match(text, /предела сервера \(1\s000\s000\s000\): возьмите меньше фильтров/);
  assert.doesNotMatch(text, /[A-Za-z]/);
  // A ctx missing a parameter never shows a bare placeholder.
  const [bare] = parseProblems({ detail: [{ ...item, ctx: {} }] }, 422);
  assert.equal(problemText(bare, ru), 'Сервер не принял поле ядро.');
  assert.equal(problemText(bare, en), item.msg);
});

test('the conv request carries every parameter, bias fitted to the filters', () => {
  const s = { ...defaults(), stride: [2, 1], padding: 'same', bias: [0.5] };
  const w = [[[[1]]], [[[2]]]];
  const body = convBody(s, [[[1]]], w);
  assert.deepEqual(body, {
    input: [[[1]]],
    weight: w,
    bias: [0.5, 0],
    stride: [2, 1],
    padding: 'same',
    dilation: [1, 1],
    groups: 1,
    padding_mode: 'zeros',
    reduce: 'mean',
  });
  assert.equal(convBody(defaults(), [[[1]]], w).bias, null);
  assert.ok(!('trace' in body), 'no full trace: the page derives every step from the geometry');
  assert.ok(!('trace' in poolBody({ ...defaults(), pool: 'max' }, [[[1]]])));
});

test('pooling: stride left out when it follows the kernel; count_include_pad for average only', () => {
  const max = poolBody({ ...defaults(), pool: 'max' }, [[[1]]]);
  assert.equal('stride' in max, false);
  assert.equal('count_include_pad' in max, false);
  const avg = poolBody({ ...defaults(), pool: 'avg', poolStride: [1, 1], countIncludePad: false }, [[[1]]]);
  assert.deepEqual(avg.stride, [1, 1]);
  assert.equal(avg.count_include_pad, false);
});

test('activation: the slope only for leaky ReLU', () => {
  assert.deepEqual(activationBody({ ...defaults(), activation: 'relu' }, [1]), { function: 'relu', input: [1] });
  assert.equal(activationBody({ ...defaults(), activation: 'leaky_relu', slope: 0.2 }, [1]).negative_slope, 0.2);
});

test('a repeat:false backprop answer, refilled, is the repeat:true answer (captured from the app)', async () => {
  for (const name of ['backprop_slide12', 'backprop_two_avg', 'backprop_x_relu_pool']) {
    const f = JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8'));
    const nulled = JSON.stringify(f.once).split('null').length;
    assert.ok(nulled > JSON.stringify(f.answer).split('null').length, `${name}: repeat:false sends fewer tensors`);
    assert.deepEqual(refillBackprop(f.once), f.answer, name);
  }
});

test('an overflow names its fields in the page language', () => {
  const ru = translator(JSON.parse(readFileSync(new URL('../../static/locales/ru.json', import.meta.url))));
  const [p] = parseProblems({ detail: [{ loc: ['input'], msg: "the answer's output overflows float32", type: 'overflow', ctx: { where: 'output', scale_down: 'input' } }] }, 422);
  const text = problemText(p, ru);
  assert.match(text, /\(выход\)/);
  assert.match(text, /поля вход/);
  assert.doesNotMatch(text, /output|input/);
});
