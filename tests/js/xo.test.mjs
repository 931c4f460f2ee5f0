import assert from 'node:assert/strict';
import { test } from 'node:test';

import { fromQuery, toQuery } from '../../static/js/core/state.js';
import { MAX_EPOCHS, NET_PROPS, percent, pooledChanges, prob, trainBody, voteText } from '../../static/js/core/xo.js';

test('the network page keeps its own state in the URL', () => {
  const { state, warnings } = fromQuery('?sh=0,1&net=trained&ep=20&tf=0&lang=ru', NET_PROPS);
  assert.deepEqual(warnings, []);
  assert.deepEqual(state.shift, [0, 1]);
  assert.equal(state.params, 'trained');
  assert.equal(state.trainFilters, false);
  assert.equal(toQuery(state, NET_PROPS), '?lang=ru&sh=0,1&net=trained&ep=20&tf=0');
  assert.equal(toQuery(fromQuery('', NET_PROPS).state, NET_PROPS), '');
  const bad = fromQuery('?sh=9,0', NET_PROPS);
  assert.deepEqual(bad.state.shift, [0, 0]);
  assert.equal(bad.warnings[0].key, 'sh');
  assert.deepEqual(trainBody(state), { seed: 0, epochs: 20, init: 'random', train_filters: false, delay_ms: 250 });
  // The epochs field stops where the server does (40,000 glyph passes / 768 glyphs).
  assert.equal(MAX_EPOCHS, 52);
  assert.equal(fromQuery('?ep=60', NET_PROPS).state.epochs, 15);
});

test('a shift: which pooled features changed', () => {
  const a = [[[1, 0.5], [0, 0]], [[0.2, 0.2], [0.2, 0.2]]];
  const b = [[[1, 0.5], [0.3, 0]], [[0.2, 0.2], [0.2, 0.2000000001]]];
  assert.deepEqual(pooledChanges(a, b), { same: 7, n: 8, changed: [[0, 1, 0]] });
});

test('the vote as text', () => {
  const answer = { classes: ['X', 'O'], prediction: 'X', probabilities: [0.8833652, 0.1166348] };
  assert.equal(voteText(answer), 'X 0.883');
  assert.equal(prob(0.99962), '1.000');
  assert.equal(percent(0.875), '88%');
});
