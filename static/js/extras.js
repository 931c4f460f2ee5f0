/**
 * The share, export and code panels under the visualizer, loaded when one is
 * first opened: watching a convolution needs none of them, so the main page does
 * not carry their code or their strings. Each panel module exports
 * `mount(body, {app, L})`, returning `{update(L)}`, called again whenever the view
 * state is written to the URL (main.js's "convviz:state" event) or the history
 * moves, with the lecture strings of the current language.
 */

import { lectureT } from './lecture-i18n.js';

const LOADERS = {
  share: () => import('./share.js'),
  export: () => import('./exporter.js'),
  code: () => import('./codepanel.js'),
};

/** @type {Map<HTMLDetailsElement, {update: Function}>} */
const mounted = new Map();
let css = null;

const app = () => window.convviz && window.convviz.app;

function stylesheet() {
  if (document.querySelector('link[href="/static/css/lecture.css"]')) return Promise.resolve();
  css ??= new Promise((resolve) => {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = '/static/css/lecture.css';
    link.onload = resolve;
    link.onerror = resolve;
    document.head.append(link);
  });
  return css;
}

async function open(d) {
  if (!d.open || !app()) return;
  const L = await lectureT(app().state.lang);
  if (mounted.has(d)) {
    mounted.get(d).update(L);
    return;
  }
  if (d.dataset.loading) return;
  d.dataset.loading = '1';
  const [mod] = await Promise.all([LOADERS[d.dataset.extra](), stylesheet()]);
  mounted.set(d, mod.mount(d.querySelector('.extra-body'), { app: app(), L }));
}

for (const d of document.querySelectorAll('details[data-extra]')) {
  d.addEventListener('toggle', () => open(d).catch(showError(d)));
}

function showError(d) {
  return (e) => {
    const body = d.querySelector('.extra-body');
    body.textContent = String(e.message || e);
    body.classList.add('err');
  };
}

let timer = 0;
function refresh() {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    for (const d of mounted.keys()) if (d.open) await open(d).catch(showError(d));
  }, 120);
}
document.addEventListener('convviz:state', refresh);
document.addEventListener('convviz:computed', refresh);
window.addEventListener('popstate', refresh);

// The header's link opens the first panel.
for (const a of document.querySelectorAll('a[href="#more"]')) {
  a.addEventListener('click', (ev) => {
    ev.preventDefault();
    const d = document.getElementById('sec-share');
    d.open = true;
    d.scrollIntoView({ block: 'start' });
    d.querySelector('summary').focus({ preventScroll: true });
  });
}
