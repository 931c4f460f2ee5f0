/**
 * Loads the share, export and code panels (share.js, exporter.js, codepanel.js)
 * and their strings when one is first opened. `mount(body, {app, L})` returns
 * `{update(L)}`, called after main.js writes the URL or gets answers.
 */

import '../room/hook.js';

const LOAD = { share: () => import('./share.js'), export: () => import('./exporter.js'), code: () => import('./codepanel.js') };
const mounted = new Map();
const app = () => window.convviz && window.convviz.app;
let css = null;

async function open(d) {
  if (!d.open || !app()) return;
  const { lectureT } = await import('../core/lecture-i18n.js');
  const L = await lectureT(app().state.lang);
  if (mounted.has(d)) return mounted.get(d).update(L);
  if (d.dataset.loading) return;
  d.dataset.loading = '1';
  css ??= new Promise((resolve) => {
    const href = '/static/css/lecture.css';
    if (document.querySelector(`link[href="${href}"]`)) return resolve();
    document.head.append(Object.assign(document.createElement('link'), { rel: 'stylesheet', href, onload: resolve, onerror: resolve }));
  });
  const [mod] = await Promise.all([LOAD[d.dataset.extra](), css]);
  mounted.set(d, mod.mount(d.querySelector('.extra-body'), { app: app(), L }));
}

const opened = (d) => open(d).catch((e) => {
  d.querySelector('.extra-body').textContent = String(e.message || e);
});
for (const d of document.querySelectorAll('details[data-extra]')) d.addEventListener('toggle', () => opened(d));

let timer = 0;
const refresh = () => {
  clearTimeout(timer);
  timer = setTimeout(() => mounted.forEach((_, d) => opened(d)), 120);
  const a = document.getElementById('lecture-link'); // follows the language
  if (a && app()) a.href = `/lecture${app().state.lang === 'ru' ? '?lang=ru' : ''}`;
};
for (const ev of ['convviz:state', 'convviz:computed']) document.addEventListener(ev, refresh);
window.addEventListener('popstate', refresh);

for (const a of document.querySelectorAll('a[href="#more"]')) {
  a.addEventListener('click', (ev) => {
    ev.preventDefault();
    const d = document.getElementById('sec-share');
    d.open = true;
    d.scrollIntoView();
  });
}
