import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import { interpolate, pageStrings, translator } from '../../static/js/core/i18n.js';

const read = (p) => readFileSync(new URL(p, import.meta.url), 'utf8');
const en = JSON.parse(read('../../static/locales/en.json'));
const ru = JSON.parse(read('../../static/locales/ru.json'));

test('interpolation and fallback', () => {
  assert.equal(interpolate('Step {n} of {total}', { n: 1, total: 49 }), 'Step 1 of 49');
  assert.equal(interpolate('{missing}', {}), '{missing}');
  const t = translator({ a: 'A' }, { b: 'B' });
  assert.deepEqual([t('a'), t('b'), t('c')], ['A', 'B', 'c']);
});

test('both languages have the same keys and the same placeholders', () => {
  assert.deepEqual(Object.keys(ru).sort(), Object.keys(en).sort());
  const holes = (s) => (s.match(/\{\w+\}/g) || []).sort();
  for (const k of Object.keys(en)) assert.deepEqual(holes(ru[k]), holes(en[k]), k);
});

test('every key the template and the scripts use exists', () => {
  const used = new Set();
  const html = read('../../templates/index.html');
  for (const m of html.matchAll(/(?:data-i18n="|t\(')([\w.]+)/g)) used.add(m[1]);
  for (const m of html.matchAll(/data-i18n-attr="([^"]+)"/g)) for (const pair of m[1].split(';')) used.add(pair.split(':')[1]);
  for (const m of html.matchAll(/\('[\w-]+', '([\w.]+)'\)/g)) used.add(m[1]);
  const dir = new URL('../../static/js/', import.meta.url);
  // layers/ speaks from its own strings (static/locales/layers/), checked by layers.test.mjs.
  for (const f of readdirSync(dir, { recursive: true }).filter((name) => name.endsWith('.js') && !name.startsWith('layers/'))) {
    const src = readFileSync(new URL(f, dir), 'utf8');
    for (const m of src.matchAll(/\bt\('([\w.]+)'/g)) used.add(m[1]);
  }
  const missing = [...used].filter((k) => !(k in en));
  assert.deepEqual(missing, []);
  assert.ok(used.size > 60, `${used.size} keys found`);
});

test('Russian strings are Russian', () => {
  for (const k of ['section.input', 'param.stride', 'grid.output', 'player.play']) assert.match(ru[k], /[а-яё]/i, k);
});

test('pageStrings: the embedded JSON, then what the markup shows, read back', () => {
  const el = (attrs, text = '', child = null) => ({
    dataset: attrs.dataset || {},
    textContent: text,
    firstElementChild: child,
    hasAttribute: (a) => a in (attrs.attrs || {}),
    getAttribute: (a) => attrs.attrs[a],
  });
  const spans = [
    el({ dataset: { i18n: 'a' } }, 'From markup'),
    el({ dataset: { i18n: 'b' } }, 'Not this: embedded wins'),
    el({ dataset: { i18n: 'c' } }, 'Not this: has a child', {}),
  ];
  const attrs = [el({ dataset: { i18nAttr: 'title:d; aria-label:e' }, attrs: { title: 'A title' } })];
  const doc = {
    getElementById: () => ({ textContent: '{"b": "Embedded"}' }),
    querySelectorAll: (sel) => (sel === '[data-i18n]' ? spans : attrs),
  };
  assert.deepEqual(pageStrings(doc), { a: 'From markup', b: 'Embedded', d: 'A title' });
});
