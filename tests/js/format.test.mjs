import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { activationLine, channelGroups, convSumLines, factor, fmt, joinTerms, poolSumLines } from '../../static/js/format.js';
import { translator } from '../../static/js/i18n.js';

const en = JSON.parse(readFileSync(new URL('../../static/locales/en.json', import.meta.url)));
const ru = JSON.parse(readFileSync(new URL('../../static/locales/ru.json', import.meta.url)));
const t = translator(en);
const X = JSON.parse(readFileSync(new URL('./fixtures/x_diagonal_mean.json', import.meta.url)));
const TWO = JSON.parse(readFileSync(new URL('./fixtures/two_channels_bias.json', import.meta.url)));

test('numbers round to two decimals, without trailing zeros or -0', () => {
  assert.equal(fmt(7 / 9), '0.78', 'rounded, not truncated like the deck');
  assert.equal(fmt(0.7777778), '0.78');
  assert.equal(fmt(-1 / 9), '-0.11');
  assert.equal(fmt(1), '1');
  assert.equal(fmt(122), '122');
  assert.equal(fmt(0.5), '0.5');
  assert.equal(fmt(-0), '0');
  assert.equal(fmt(-1e-17), '0');
  assert.equal(fmt(0.004), '0.004');
  assert.equal(fmt(Infinity), '∞');
  assert.equal(factor(-1), '(-1)');
  assert.equal(factor(2), '2');
});

test("the X's first window, written out: (sum of products) / 9 = 0.78", () => {
  const [line] = convSumLines(X.conv.trace, 0, t);
  assert.equal(
    line,
    '((-1)*1 + (-1)*(-1) + (-1)*(-1) + (-1)*(-1) + 1*1 + (-1)*(-1) + (-1)*(-1) + (-1)*(-1) + 1*1) / 9 = 0.78',
  );
});

test('several channels: a partial sum per channel, then the total plus bias', () => {
  const tr = TWO.conv.trace;
  const lines = convSumLines(tr, 0, t);
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^channel 1: .* = 1$/);
  assert.match(lines[1], /^channel 2: .* = 0$/);
  assert.equal(lines[2], `total: 1 + 0 + 0.5 = ${fmt(tr.result[0])}`);
  const groups = channelGroups(tr, 0);
  assert.equal(groups.reduce((a, g) => a + g.sum, 0) + tr.bias[0], tr.result[0]);
  assert.match(convSumLines(tr, 4, translator(ru))[2], /^итого: .* - 1 = /, 'negative bias, Russian');
});

test('long sums keep their head and tail and count the rest', () => {
  const terms = Array.from({ length: 225 }, (_, i) => `${i}`);
  const s = joinTerms(terms, t);
  assert.equal(s, '0 + 1 + 2 + 3 + 4 + 5 + … 217 more + 223 + 224');
  assert.equal(joinTerms(['a', 'b'], t), 'a + b');
});

test('pooling: max over the window, partial windows included', () => {
  assert.equal(poolSumLines(X.pool.trace, 0, 'max', t)[0], 'max(0.78, -0.11, -0.11, 1) = 1');
  assert.equal(poolSumLines(X.pool.trace, 15, 'max', t)[0], 'max(0.78) = 0.78');
  const avg = TWO.avg.trace;
  assert.match(poolSumLines(avg, 0, 'avg', t)[0], /^\(.*\) \/ 4 = /);
});

test('activation line', () => {
  assert.equal(activationLine('relu', -0.11, 0), 'ReLU(-0.11) = 0');
});
