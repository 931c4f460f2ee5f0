/**
 * The one way a page's view state changes, for every page that has one (/, /network,
 * /stack, /digits): the page supplies its state's URL properties (the codec, see
 * core/state.js), its compute hook and its redraw, and the store does the rest.
 *
 * Every change goes through `update`: it applies the change, writes the URL (a new
 * history entry for a real change, else a replacement: the URL stays the single
 * source of a view), redraws, and asks the API again. Back and Forward read the
 * state from the URL again and go the same way (without a new entry). Nothing else
 * assigns `app.state` or starts a computation (tests/js/imports.test.mjs checks),
 * so a change can never reach the page without reaching the link, or the other way.
 *
 * The computation runs one request chain at a time and the newest state wins:
 * a change made while an answer is on its way is computed after it, and the
 * stale answer is dropped (`stale()` tells the page's compute hook to stop).
 */

import { fromQuery, needsPush, toQuery } from './state.js';

/** A copy to compare the next state with; the input (never changed in place) is shared. */
const snapshot = (s) => ({ ...structuredClone({ ...s, input: null }), input: s.input });

/**
 * @typedef {object} Hooks
 * @property {() => Promise<void>|void} compute ask the API for app.state and show the answer
 * @property {(opts?: object) => void} [rebuild] redraw from the state and the last answers
 * @property {() => void} [sync] write the state into the controls
 * @property {(previous: any) => Promise<void>|void} [restore] Back or Forward read a
 *   state from the URL (`previous` is the one it replaced): what the page does before
 *   it is redrawn and computed, e.g. load another language
 * @property {() => void} [restored] ... and after its answer is in
 */

/**
 * @param {{state: any}} app the page's shared object; `app.state` is set here only
 * @param {Hooks} hooks
 * @param {object} [props] the page's URL properties (state.js PROPS by default)
 */
export function createStore(app, hooks, props) {
  let written = null;
  let busy = false;
  let again = false;

  /** Read the state from a query (the page's first load, and the back button). */
  function load(search = location.search) {
    const parsed = fromQuery(search, props);
    app.state = parsed.state;
    written = snapshot(app.state);
    return parsed;
  }

  /** Write the state into the URL: 'push' a new history entry, 'replace', or 'auto'. */
  function commit(mode = 'auto') {
    const push = mode === 'push' || (mode === 'auto' && needsPush(written, app.state, props));
    written = snapshot(app.state);
    const url = location.pathname + toQuery(app.state, props);
    if (url === location.pathname + location.search) return;
    if (push) history.pushState(null, '', url);
    else history.replaceState(null, '', url);
    document.dispatchEvent(new Event('convviz:state'));
  }

  async function recompute() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        await hooks.compute();
      } while (again);
    } finally {
      busy = false;
    }
  }

  /**
   * Change the state. `change` is an object of fields to set, or a function that
   * edits the state in place or returns the next state whole.
   * @param {object|((s: any) => any)} change
   * @param {{changed?: string|null, history?: 'auto'|'push'|'replace'|false,
   *   sync?: boolean, rebuild?: boolean|object, compute?: boolean}} [opts]
   *   changed: the control the next answer's errors belong to;
   *   history: how the URL records it (false: not at all, e.g. the step while playing);
   *   sync: write the state back into the controls (when it changed elsewhere).
   */
  function update(change, { changed, history = 'auto', sync = false, rebuild = true, compute = true } = {}) {
    const next = typeof change === 'function' ? change(app.state) : Object.assign(app.state, change);
    if (next && next !== app.state) app.state = next;
    if (changed !== undefined) app.lastChanged = changed;
    if (history) commit(history);
    if (sync && hooks.sync) hooks.sync();
    if (rebuild && hooks.rebuild) hooks.rebuild(rebuild === true ? {} : rebuild);
    return compute ? recompute() : Promise.resolve();
  }

  /**
   * Back or Forward: the URL's state, drawn and computed as any change, recorded
   * nowhere. When only the step moved (a room's follower watching the lecturer
   * play, several times a second), the page only shows that step: nothing is
   * rebuilt or asked again, and the rest of the state stays as it was.
   */
  async function back() {
    const previous = app.state;
    load();
    if (stepOnly(previous, app.state)) {
      previous.step = app.state.step;
      app.state = previous;
      written = snapshot(app.state);
      if (hooks.restored) hooks.restored();
      return;
    }
    if (hooks.restore) await hooks.restore(previous);
    await update({}, { history: false, sync: true });
    if (hooks.restored) hooks.restored();
  }
  window.addEventListener('popstate', back);

  /** Whether `next` is `previous` at another step, as the URL says it. */
  function stepOnly(previous, next) {
    return !!previous && previous.step !== next.step && toQuery({ ...previous, step: next.step }, props) === toQuery(next, props);
  }

  return { load, commit, update, stale: () => again };
}
