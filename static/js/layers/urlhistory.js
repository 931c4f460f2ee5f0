import { fromQuery, needsPush, toQuery } from '../core/state.js';

/**
 * The layer pages' view state in the URL, one copy for /stack and /digits: `commit`
 * writes `app.state` (a history entry of its own when `mode` is 'push', or when
 * 'auto' finds a change worth one), and Back/Forward read it back, then call
 * `restore(previousLang)` so the page redraws and recomputes.
 * @param {{state: object}} app
 * @param {object[]} props the page's URL properties (core/state.js's form)
 * @param {(previousLang: string) => void} restore
 * @returns {(mode?: 'auto' | 'push' | 'replace') => void} commit
 */
export function urlHistory(app, props, restore) {
  let written = structuredClone(app.state);
  window.addEventListener('popstate', () => {
    const lang = app.state.lang;
    app.state = fromQuery(location.search, props).state;
    written = structuredClone(app.state);
    restore(lang);
  });
  return function commit(mode = 'auto') {
    const push = mode === 'push' || (mode === 'auto' && needsPush(written, app.state, props));
    written = structuredClone(app.state);
    const url = location.pathname + toQuery(app.state, props);
    if (url === location.pathname + location.search) return;
    if (push) history.pushState(null, '', url);
    else history.replaceState(null, '', url);
  };
}
