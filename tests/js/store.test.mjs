// core/store.js, the one way a page's state changes, in Node with a stand-in
// browser (window, location, history, document): push or replace, Back and
// Forward read the URL again, and one computation at a time with the newest winning.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { int, oneOf } from '../../static/js/core/state.js';

/** A history of URLs (the browser's), with Back and Forward firing "popstate". */
function fakeBrowser() {
  const win = new EventTarget();
  const entries = ['/page'];
  let at = 0;
  const loc = {
    pathname: '/page',
    get search() {
      const u = entries[at];
      return u.includes('?') ? u.slice(u.indexOf('?')) : '';
    },
  };
  const hist = {
    pushState(_, __, url) {
      entries.splice(at + 1, Infinity, url);
      at += 1;
    },
    replaceState(_, __, url) {
      entries[at] = url;
    },
  };
  const go = (d) => {
    at += d;
    win.dispatchEvent(new Event('popstate'));
  };
  Object.assign(globalThis, { window: win, location: loc, history: hist, document: new EventTarget() });
  return { entries, go, at: () => at };
}

const PROPS = [
  { name: 'lang', key: 'lang', def: 'en', codec: oneOf(['en', 'ru']), push: true },
  { name: 'n', key: 'n', def: 1, codec: int(1, 99), push: true },
  { name: 'step', key: 'st', def: 0, codec: int(0, 999), push: false },
];

const tick = () => new Promise((r) => setTimeout(r, 0));

test('a real change is an entry of its own, a step replaces the entry', async () => {
  const b = fakeBrowser();
  const { createStore } = await import('../../static/js/core/store.js');
  const app = { state: null };
  const store = createStore(app, { compute: () => {} }, PROPS);
  store.load();
  await store.update({ n: 2 });
  await store.update({ step: 5 });
  await store.update((s) => {
    s.n = 3;
  }, { history: 'replace' });
  await store.update({ step: 6 }, { history: 'push' });
  assert.deepEqual(b.entries, ['/page', '/page?n=3&st=5', '/page?n=3&st=6']);
});

test('Back reads the state from the URL, restores the page, then computes it', async () => {
  const b = fakeBrowser();
  const { createStore } = await import('../../static/js/core/store.js');
  const app = { state: null };
  const log = [];
  const store = createStore(app, {
    compute: () => log.push(`compute n=${app.state.n}`),
    sync: () => log.push(`sync n=${app.state.n}`),
    rebuild: () => log.push('rebuild'),
    restore: (previous) => log.push(`restore ${previous.lang} -> ${app.state.lang}`),
    restored: () => log.push('restored'),
  }, PROPS);
  store.load();
  await store.update({ n: 4 }, { rebuild: false });
  await store.update({ n: 5, lang: 'ru' }, { rebuild: false });
  log.length = 0;
  b.go(-1);
  await tick();
  assert.deepEqual(app.state, { lang: 'en', n: 4, step: 0 });
  assert.deepEqual(log, ['restore ru -> en', 'sync n=4', 'rebuild', 'compute n=4', 'restored']);
  assert.equal(b.entries.length, 3); // Back wrote nothing
  b.go(1);
  await tick();
  assert.deepEqual(app.state, { lang: 'ru', n: 5, step: 0 });
});

test('one computation at a time: a change while one is out is computed after it, the stale answer dropped', async () => {
  fakeBrowser();
  const { createStore } = await import('../../static/js/core/store.js');
  const app = { state: null };
  const asked = [];
  const shown = [];
  let release = [];
  const store = createStore(app, {
    async compute() {
      const n = app.state.n;
      asked.push(n);
      await new Promise((r) => release.push(r));
      if (!store.stale()) shown.push(n);
    },
  }, PROPS);
  store.load();
  const first = store.update({ n: 2 });
  store.update({ n: 3 });
  store.update({ n: 4 });
  assert.deepEqual(asked, [2]); // the others wait
  for (let i = 0; i < 5 && asked.length < 3; i++) {
    release.forEach((r) => r());
    release = [];
    await tick();
  }
  release.forEach((r) => r());
  await first;
  assert.deepEqual(asked, [2, 4]); // 3 was never asked for: 4 had replaced it
  assert.deepEqual(shown, [4]);
});

test('only the step moved (a follower watching a play): the step is shown, nothing rebuilt or asked again', async () => {
  const b = fakeBrowser();
  const { createStore } = await import('../../static/js/core/store.js');
  const app = { state: null };
  const log = [];
  const store = createStore(app, {
    compute: () => log.push('compute'),
    sync: () => log.push('sync'),
    rebuild: () => log.push('rebuild'),
    restored: () => log.push(`restored step=${app.state.step}`),
  }, PROPS);
  store.load();
  await store.update({ n: 4 });
  const before = app.state;
  log.length = 0;
  // As room/follow.js applies a view: the address replaced, then "popstate".
  for (const step of [3, 7, 12]) {
    history.replaceState(null, '', `/page?n=4&st=${step}`);
    window.dispatchEvent(new Event('popstate'));
    await tick();
  }
  assert.deepEqual(log, ['restored step=3', 'restored step=7', 'restored step=12']);
  assert.equal(app.state, before); // the same state, at another step
  assert.deepEqual(app.state, { lang: 'en', n: 4, step: 12 });
  // A step with anything else is a change like any other.
  log.length = 0;
  history.replaceState(null, '', '/page?n=5&st=2');
  window.dispatchEvent(new Event('popstate'));
  await tick();
  assert.deepEqual(log, ['sync', 'rebuild', 'compute', 'restored step=2']);
  assert.equal(b.entries.length, 2); // nothing was written
});
