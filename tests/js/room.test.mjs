import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Latest, Paced, displayCode, followerURL, joinCode, publishedView, sameView } from '../../static/js/room/live.js';

test('a page publishes its path and the query state.js writes', () => {
  assert.deepEqual(publishedView('/', '?s=2&step=3'), { path: '/', query: '?s=2&step=3' });
  // Keys state.js does not know (the embed's options) and malformed values are dropped.
  assert.deepEqual(publishedView('/embed', '?theme=dark&fs=2&step=4&s=zz'), { path: '/', query: '?step=4' });
  assert.deepEqual(publishedView('/lecture/padding', '?p=1'), { path: '/lecture/padding', query: '?p=1' });
  // The same state in another order is the same view.
  assert.deepEqual(publishedView('/', '?step=3&s=2'), publishedView('/', '?s=2&step=3'));
});

test('while playing, the step drawn replaces the one in the URL, in the same words', () => {
  assert.deepEqual(publishedView('/', '?s=2&step=3', 17), { path: '/', query: '?s=2&step=17' });
  assert.deepEqual(publishedView('/embed', '?theme=dark', 5), { path: '/', query: '?step=5' });
  // The play's last step is the same view as the URL written when it stops.
  assert.deepEqual(publishedView('/', '?s=2', 9), publishedView('/', '?step=9&s=2'));
});

test("a follower opens the lecturer's view in the follower's own language", () => {
  assert.equal(followerURL({ path: '/', query: '?lang=ru&step=3' }, 'en'), '/?step=3');
  assert.equal(followerURL({ path: '/lecture/pool', query: '?step=3' }, 'ru'), '/lecture/pool?lang=ru&step=3');
});

test('the language aside, a view is compared as state', () => {
  assert.ok(sameView({ path: '/', query: '?step=3' }, { path: '/', query: '?lang=ru&step=3' }));
  assert.ok(!sameView({ path: '/', query: '?step=3' }, { path: '/', query: '?step=4' }));
  assert.ok(!sameView({ path: '/', query: '?step=3' }, { path: '/lecture/pool', query: '?step=3' }));
});

test('join codes: read from the fragment, as typed, or refused', () => {
  assert.equal(joinCode('#join=K7QM4XPD'), 'K7QM4XPD');
  assert.equal(joinCode('#x=1&join=k7qm-4xpd'), 'K7QM4XPD');
  assert.equal(joinCode('#join=K7QM4XP'), null); // too short
  assert.equal(joinCode('#join=K7QM4XPU'), null); // U is not in the alphabet
  assert.equal(joinCode('#join=<script>'), null);
  assert.equal(joinCode(''), null);
  assert.equal(displayCode('K7QM4XPD'), 'K7QM-4XPD');
});

test('the sender keeps one request in flight and sends only the newest of the rest', async () => {
  const sent = [];
  const gates = [];
  const latest = new Latest((v) => {
    sent.push(v);
    return new Promise((resolve) => gates.push(resolve));
  });
  latest.push(1);
  for (let v = 2; v <= 10; v++) latest.push(v);
  assert.deepEqual(sent, [1]); // 2..9 are replaced while 1 is in flight
  gates.shift()();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(sent, [1, 10]);
  gates.shift()();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(latest.busy, false);
  latest.push(11);
  assert.deepEqual(sent, [1, 10, 11]);
});

test('a failed send does not stop the next', async () => {
  const sent = [];
  const latest = new Latest(async (v) => {
    sent.push(v);
    if (v === 1) throw new Error('offline');
  });
  latest.push(1);
  latest.push(2);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(sent, [1, 2]);
});

test('every string the room modules use exists in both lecture locales', async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const dir = new URL('../../static/js/room/', import.meta.url);
  const locale = (lang) => JSON.parse(readFileSync(new URL(`../../static/locales/lecture/${lang}.json`, import.meta.url), 'utf8'));
  const [en, ru] = [locale('en'), locale('ru')];
  const used = new Set();
  for (const f of readdirSync(dir)) {
    const src = readFileSync(new URL(f, dir), 'utf8');
    for (const m of src.matchAll(/'((?:room|share)\.\w+)'/g)) used.add(m[1]);
    for (const m of src.matchAll(/data-l="([\w.]+)"/g)) used.add(m[1]);
    for (const m of src.matchAll(/data-l-attr="\w+:([\w.]+)"/g)) used.add(m[1]);
  }
  assert.ok(used.size >= 20, `${used.size} keys found`);
  for (const key of used) {
    assert.ok(key in en, `en lacks ${key}`);
    assert.ok(key in ru && /[а-яё]/i.test(ru[key]), `ru lacks ${key}`);
  }
});

test("the rooms API's refusals are worded in the page's language, with their numbers", async () => {
  const { errorText } = await import('../../static/js/room/ui.js');
  const { translator } = await import('../../static/js/core/i18n.js');
  const { readFileSync } = await import('node:fs');
  const ru = translator(JSON.parse(readFileSync(new URL('../../static/locales/lecture/ru.json', import.meta.url))));
  const answer = (detail) => new Response(JSON.stringify({ detail }), { status: 503 });
  const full = await errorText(answer([{ msg: '200 live rooms are open already; try again later', type: 'rooms_full', ctx: { limit: 200 } }]), ru);
  assert.match(full, /200/);
  assert.doesNotMatch(full, /[A-Za-z]{3,}/); // no English left
  assert.match(await errorText(answer([{ msg: "no room 'X'", type: 'no_room', ctx: {} }]), ru), /Такой трансляции нет/);
  // A kind with no words here keeps the server's own sentence.
  assert.equal(await errorText(answer([{ msg: 'something new', type: 'brand_new' }]), ru), 'something new');
});

test('paced: at most one run per interval, the newest value each time, a first poke at once', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let clock = 0;
  const seen = [];
  let value = 0;
  const paced = new Paced(() => seen.push([clock, value]), 250, () => clock);
  // 60 pokes a second for two seconds, as a player's frames.
  for (let frame = 0; frame < 120; frame++) {
    value = frame;
    paced.poke();
    clock += 1000 / 60;
    t.mock.timers.tick(1000 / 60);
  }
  assert.ok(seen.length >= 8 && seen.length <= 9, `${seen.length} runs in 2 s`);
  assert.deepEqual(seen[0], [0, 0]); // the first at once
  for (let i = 1; i < seen.length; i++) {
    assert.ok(seen[i][0] - seen[i - 1][0] >= 250 - 1e-9, 'never closer than the interval');
    assert.ok(seen[i][1] > seen[i - 1][1], 'always a newer value');
  }
  // A waiting run is dropped by cancel (the URL was published instead).
  value = 999;
  paced.poke();
  paced.cancel();
  clock += 1000;
  t.mock.timers.tick(1000);
  assert.ok(!seen.some(([, v]) => v === 999));
});
