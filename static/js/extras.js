/**
 * The share, export and code panels (share.js, exporter.js, codepanel.js), loaded
 * with their strings when one is first opened, so the page does not carry them.
 * A panel's `mount(body, {app, L})` returns `{update(L)}`, called again after
 * main.js writes the URL ("convviz:state") or gets answers ("convviz:computed").
 */

const LOAD = { share: () => import('./share.js'), export: () => import('./exporter.js'), code: () => import('./codepanel.js') };
const mounted = new Map();
const app = () => window.convviz && window.convviz.app;
let css = null;

async function open(d) {
  if (!d.open || !app()) return;
  const { lectureT } = await import('./lecture-i18n.js');
  const L = await lectureT(app().state.lang);
  if (mounted.has(d)) return mounted.get(d).update(L);
  if (d.dataset.loading) return;
  d.dataset.loading = '1';
  css ??= new Promise((resolve) => {
    const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href: '/static/css/lecture.css', onload: resolve, onerror: resolve });
    if (document.querySelector(`link[href="${link.getAttribute('href')}"]`)) resolve();
    else document.head.append(link);
  });
  const [mod] = await Promise.all([LOAD[d.dataset.extra](), css]);
  mounted.set(d, mod.mount(d.querySelector('.extra-body'), { app: app(), L }));
}

function opened(d) {
  open(d).catch((e) => {
    d.querySelector('.extra-body').textContent = String(e.message || e);
  });
}

for (const d of document.querySelectorAll('details[data-extra]')) d.addEventListener('toggle', () => opened(d));

let timer = 0;
const refresh = () => {
  clearTimeout(timer);
  timer = setTimeout(() => mounted.forEach((_, d) => opened(d)), 120);
};
for (const ev of ['convviz:state', 'convviz:computed']) document.addEventListener(ev, refresh);
// The header's link to the lecture follows a language switched in place.
document.addEventListener('convviz:state', () => {
  const a = document.getElementById('lecture-link');
  if (a && app()) a.href = `/lecture${app().state.lang === 'ru' ? '?lang=ru' : ''}`;
});
window.addEventListener('popstate', refresh);

// The header's link opens the first panel.
for (const a of document.querySelectorAll('a[href="#more"]')) {
  a.addEventListener('click', (ev) => {
    ev.preventDefault();
    const d = document.getElementById('sec-share');
    d.open = true;
    d.scrollIntoView();
  });
}
