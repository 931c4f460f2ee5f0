import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { activationLine, channelGroups, convSumLines, factor, fmt, joinTerms, poolSumLines } from '../../static/js/core/format.js';
import { translator } from '../../static/js/core/i18n.js';
import { convSteps, load, poolSteps } from './answers.mjs';

const en = JSON.parse(readFileSync(new URL('../../static/locales/en.json', import.meta.url)));
const ru = JSON.parse(readFileSync(new URL('../../static/locales/ru.json', import.meta.url)));
const t = translator(en);
const X = load('x_diagonal_mean');
const TWO = load('two_channels_bias');

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
  const [line] = convSumLines(convSteps(X).step(0), t);
  assert.equal(
    line,
    '((-1)*1 + (-1)*(-1) + (-1)*(-1) + (-1)*(-1) + 1*1 + (-1)*(-1) + (-1)*(-1) + (-1)*(-1) + 1*1) / 9 = 0.78',
  );
});

test('several channels: a partial sum per channel, then the total plus bias', () => {
  const d = convSteps(TWO);
  const s = d.step(0);
  const lines = convSumLines(s, t);
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^channel 1: .* = 1$/);
  assert.match(lines[1], /^channel 2: .* = 0$/);
  assert.equal(lines[2], `total: 1 + 0 + 0.5 = ${fmt(s.result)}`);
  assert.equal(s.result, TWO.conv.output[0][0][0], 'the derived step gives the answer\'s output');
  const groups = channelGroups(s);
  assert.equal(groups.reduce((a, g) => a + g.sum, 0) + s.bias, s.result);
  assert.match(convSumLines(d.step(4), translator(ru))[2], /^итого: .* - 1 = /, 'negative bias, Russian');
});

test('long sums keep their head and tail and count the rest', () => {
  const terms = Array.from({ length: 225 }, (_, i) => `${i}`);
  const s = joinTerms(terms, t);
  assert.equal(s, '0 + 1 + 2 + 3 + 4 + 5 + … 217 more + 223 + 224');
  assert.equal(joinTerms(['a', 'b'], t), 'a + b');
});

test('pooling: max over the window, partial windows included', () => {
  const p = poolSteps(X, 'pool');
  assert.equal(poolSumLines(p.step(0), 'max', t)[0], 'max(0.78, -0.11, -0.11, 1) = 1');
  assert.equal(poolSumLines(p.step(15), 'max', t)[0], 'max(0.78) = 0.78');
  assert.match(poolSumLines(poolSteps(TWO, 'avg').step(0), 'avg', t)[0], /^\(.*\) \/ 4 = /);
});

test('activation line', () => {
  assert.equal(activationLine('relu', -0.11, 0), 'ReLU(-0.11) = 0');
});
