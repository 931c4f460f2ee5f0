/**
 * Live rooms, the pure part (tests/js/room.test.mjs): which view a page publishes,
 * where a follower goes for a published view, the join code in a link, and the
 * lecturer's sender, which keeps one request in flight and sends only the latest.
 *
 * A view is the page's address: the path and the query state.js writes. Both ends
 * pass it through state.js's own parser (fromQuery) and writer (toQuery): what is
 * published is exactly what a link would hold, and a follower's page reads it as
 * if it had opened that link.
 */

import { fromQuery, toQuery } from '../core/state.js';

/** The key in sessionStorage: this tab's room, `{role: 'lead'|'follow', code, ...}`. */
export const SESSION_KEY = 'convviz.room';

/** The embed view publishes as the visualizer: followers get the full page. */
const PAGE_OF = { '/embed': '/' };

/**
 * What a page at `pathname` + `search` publishes: `{path, query}`, the query
 * written by state.js (unknown keys, such as the embed's options, dropped).
 * `step`, when given, replaces the URL's: while the player plays, the page draws
 * steps without writing them into the URL (main.js), and says which ("convviz:step").
 * @param {string} pathname @param {string} search @param {number} [step]
 */
export function publishedView(pathname, search, step) {
  const { state } = fromQuery(search);
  if (step !== undefined) state.step = step;
  return { path: PAGE_OF[pathname] ?? pathname, query: toQuery(state) };
}

/**
 * The address a follower opens for `view`, in the follower's own language `lang`.
 * @param {{path: string, query: string}} view @param {string} lang
 */
export function followerURL(view, lang) {
  const { state } = fromQuery(view.query);
  state.lang = lang;
  return view.path + toQuery(state);
}

/**
 * Whether two views are the same state on the same page, the language aside (a
 * follower reads the lecturer's view in its own): has the follower moved away?
 * @param {{path: string, query: string}} a @param {{path: string, query: string}} b
 */
export function sameView(a, b) {
  const strip = (v) => {
    const { state } = fromQuery(v.query);
    state.lang = 'en';
    return `${v.path}${toQuery(state)}`;
  };
  return strip(a) === strip(b);
}

const CODE = /^[0-9A-HJKMNP-TV-Z]{8}$/;

/** The room code of a join link's fragment (`#join=K7QM4XPD`), or null. */
export function joinCode(hash) {
  const m = /(?:^#|&)join=([^&]*)/.exec(hash || '');
  const code = m ? decodeURIComponent(m[1]).toUpperCase().replace(/-/g, '') : '';
  return CODE.test(code) ? code : null;
}

/** `K7QM4XPD` -> `K7QM-4XPD`, as the projector shows it. */
export function displayCode(code) {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * Sends values one at a time with `send(value)` (a promise), and of the values
 * pushed while one is in flight only the last: a lecturer clicking through ten
 * steps a second on a slow link sends the newest view, never a queue of old ones.
 */
export class Latest {
  constructor(send) {
    this.send = send;
    this.pending = undefined;
    this.busy = false;
  }

  push(value) {
    this.pending = value;
    if (!this.busy) this.drain();
  }

  async drain() {
    this.busy = true;
    try {
      while (this.pending !== undefined) {
        const value = this.pending;
        this.pending = undefined;
        try {
          await this.send(value);
        } catch {
          // The caller's send reports its own failures; the next value still goes.
        }
      }
    } finally {
      this.busy = false;
    }
  }
}

/**
 * Runs `run()` at most once every `everyMs`, at the end of the wait, however often
 * it is poked: `run` reads what is newest then, so the steps drawn while the player
 * plays (60 a second at most) reach followers about `1000 / everyMs` a second.
 * A first poke after a quiet spell runs at once. `cancel()` drops a waiting run
 * (the page wrote its URL, which is published at once instead).
 */
export class Paced {
  /** @param {() => void} run @param {number} everyMs @param {() => number} [now] */
  constructor(run, everyMs, now = () => performance.now()) {
    this.run = run;
    this.everyMs = everyMs;
    this.now = now;
    this.last = -Infinity;
    this.timer = 0;
  }

  poke() {
    if (this.timer) return;
    const wait = this.last + this.everyMs - this.now();
    if (wait <= 0) this.fire();
    else this.timer = setTimeout(() => this.fire(), wait);
  }

  fire() {
    this.timer = 0;
    this.last = this.now();
    this.run();
  }

  cancel() {
    clearTimeout(this.timer);
    this.timer = 0;
  }
}
