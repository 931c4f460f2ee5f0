/** The embed view's options, the share panel's snippets, the scenes' small sums. */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { embedDefaults, embedQuery, parseEmbed } from '../../static/js/core/embed-options.js';
import { exportQuery } from '../../static/js/panels/exporter.js';
import { featureCount, largest, positiveInt, weightCases } from '../../static/js/core/scenemath.js';
import { SIZES, embedURL, escAttr, iframeSnippet, localCurl, revealSnippet } from '../../static/js/core/snippets.js';
import { defaults, fromQuery } from '../../static/js/core/state.js';

test('embed options: defaults, every option, and what a broken link holds', () => {
  assert.deepEqual(parseEmbed('').options, { controls: true, autoplay: false, loop: false, theme: 'light', fontScale: 1 });
  const { options, warnings } = parseEmbed('?controls=0&autoplay=1&loop=1&theme=high-contrast&fs=1.5&in=x');
  assert.deepEqual(options, { controls: false, autoplay: true, loop: true, theme: 'high-contrast', fontScale: 1.5 });
  assert.deepEqual(warnings, []);
  const bad = parseEmbed('?controls=yes&theme=neon&fs=9');
  assert.deepEqual(bad.options, embedDefaults());
  assert.deepEqual(bad.warnings.map((w) => w.key), ['controls', 'theme', 'fs']);
});

test('embed options: only what differs is written, and it reads back', () => {
  assert.equal(embedQuery(embedDefaults()), '');
  const o = { ...embedDefaults(), controls: false, theme: 'dark', fontScale: 1.25 };
  assert.equal(embedQuery(o), 'controls=0&theme=dark&fs=1.25');
  assert.deepEqual(parseEmbed(`?${embedQuery(o)}`).options, o);
});

test('the embed address: the view state, then the options; the state reads back', () => {
  const state = { ...defaults(), pool: 'max', ceil: true, step: 5, speed: 2, lang: 'ru' };
  const url = embedURL('http://127.0.0.1:8000', state, { ...embedDefaults(), autoplay: true, theme: 'dark' });
  assert.equal(url, 'http://127.0.0.1:8000/embed?lang=ru&pool=max&pc=1&sp=2&step=5&autoplay=1&theme=dark');
  const back = fromQuery(new URL(url).search).state;
  assert.deepEqual(back, state);
  assert.equal(embedURL('http://h', defaults(), embedDefaults()), 'http://h/embed');
  assert.equal(embedURL('http://h', defaults(), { ...embedDefaults(), loop: true }), 'http://h/embed?loop=1');
});

test('snippets: an iframe and a reveal.js slide, attributes escaped', () => {
  const url = 'http://h/embed?pool=max&pc=1';
  const [width, height] = SIZES['16:9'];
  const html = iframeSnippet(url, { width, height, title: 'A "quoted" <title>' });
  assert.equal(html, '<iframe src="http://h/embed?pool=max&amp;pc=1" width="960" height="540" title="A &quot;quoted&quot; &lt;title&gt;" style="border:0;max-width:100%" allow="fullscreen"></iframe>');
  const reveal = revealSnippet(url, { width: 800, height: 600, title: 't' });
  assert.match(reveal, /^<section>\n {2}<iframe data-src="http:\/\/h\/embed\?pool=max&amp;pc=1" data-preload width="800" height="600"/);
  assert.match(reveal, /<\/iframe>\n<\/section>$/);
  assert.deepEqual(SIZES['4:3'], [800, 600]);
  assert.equal(escAttr('&<>"'), '&amp;&lt;&gt;&quot;');
});

test('the curl command gets the page\'s own origin', () => {
  const curl = "curl -sS -X POST http://10.0.0.5:8000/api/conv2d -H 'Content-Type: application/json' -d '{\"input\": [[1]]}'";
  assert.equal(localCurl(curl, 'https://convviz.example'), "curl -sS -X POST https://convviz.example/api/conv2d -H 'Content-Type: application/json' -d '{\"input\": [[1]]}'");
  const quoted = "curl -sS -X POST 'http://a:1/api/max_pool2d' -d '{}'";
  assert.equal(localCurl(quoted, 'http://b:2'), "curl -sS -X POST 'http://b:2/api/max_pool2d' -d '{}'");
});

test('export queries carry only what each endpoint takes', () => {
  const p = { frameMs: 700, holdMs: 2000, width: 1280, theme: 'dark', step: 3 };
  assert.equal(exportQuery('gif', p), 'width=1280&theme=dark&frame_ms=700&hold_ms=2000');
  assert.equal(exportQuery('png', p), 'width=1280&theme=dark&step=3');
  assert.equal(exportQuery('gif', { ...p, per: 'row' }), 'width=1280&theme=dark&frame_ms=700&hold_ms=2000&per=row');
  assert.equal(exportQuery('png', { ...p, per: 'row' }), 'width=1280&theme=dark&step=3', 'one frame: no per');
  assert.equal(exportQuery('png', { ...p, lang: 'ru' }), 'width=1280&theme=dark&lang=ru&step=3');
  assert.equal(exportQuery('png', { ...p, lang: 'en' }), 'width=1280&theme=dark&step=3');
});

test('the scenes\' sums', () => {
  assert.equal(featureCount(128, 128, 3), 49152);
  assert.deepEqual(weightCases(4, 5, 16), { one: 100, rgb: 300, d: 1600, bias: 4 });
  assert.deepEqual(largest([[0, 2], [2, 1]]), { value: 2, r: 0, c: 1 });
  assert.equal(positiveInt(' 12 ', 100), 12);
  assert.equal(positiveInt('0', 100), null);
  assert.equal(positiveInt('1.5', 100), null);
  assert.equal(positiveInt('', 100), null);
});
