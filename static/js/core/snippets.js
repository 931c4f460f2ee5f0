/**
 * What the share panel hands out: the embed view's address and the HTML to paste
 * into a page or a reveal.js deck. Pure string building (tested in Node).
 */

import { embedQuery } from './embed-options.js';
import { toQuery } from './state.js';

/** Iframe sizes for the two slide shapes. */
export const SIZES = { '16:9': [960, 540], '4:3': [800, 600] };

/** Escape text for an HTML attribute value in double quotes. */
export function escAttr(s) {
  return String(s).replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]);
}

/**
 * The embed view of `state` with `options` (embed-options.js), on `origin`.
 * The state's `step` is where it starts and its `speed` how fast it plays; the
 * language, like every other part of the state, is the state's own.
 * @param {string} origin e.g. "http://127.0.0.1:8000"
 * @param {Record<string, any>} state
 * @param {Record<string, any>} options
 */
export function embedURL(origin, state, options) {
  const q = toQuery(state);
  const extra = embedQuery(options);
  const sep = q ? '&' : '?';
  return `${origin}/embed${q}${extra ? sep + extra : ''}`;
}

/**
 * An iframe for any web page or slide tool that takes HTML.
 * @param {string} url @param {{width: number, height: number, title: string}} o
 */
export function iframeSnippet(url, { width, height, title }) {
  return `<iframe src="${escAttr(url)}" width="${width}" height="${height}" title="${escAttr(title)}"`
    + ' style="border:0;max-width:100%" allow="fullscreen"></iframe>';
}

/**
 * A reveal.js slide: the iframe's `data-src` is loaded when the slide comes near
 * (reveal.js's lazy loading), `data-preload` starts it a slide early.
 * @param {string} url @param {{width: number, height: number, title: string}} o
 */
export function revealSnippet(url, { width, height, title }) {
  return `<section>\n  <iframe data-src="${escAttr(url)}" data-preload width="${width}" height="${height}"`
    + ` title="${escAttr(title)}" style="border:0"></iframe>\n</section>`;
}

/**
 * The export endpoint's curl command with this page's origin: the server writes
 * the address it was asked on, which behind a proxy is not the one the user sees.
 * @param {string} curl @param {string} origin
 */
export function localCurl(curl, origin) {
  return curl.replace(/(-X POST '?)https?:\/\/[^\s'/]+/, `$1${origin}`);
}
