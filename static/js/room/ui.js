/**
 * What the lecturer's panel and the follower's banner share: this tab's room in
 * sessionStorage (so a page change keeps it, and it leaves with the tab), their
 * stylesheet, and the lecture strings (static/locales/lecture/<lang>.json).
 */

import { lectureT } from '../core/lecture-i18n.js';
import { SESSION_KEY } from './live.js';

/** This tab's room, or null. The lecturer's secret lives here and nowhere else. */
export function loadSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
  } catch {
    return null;
  }
}

export function saveSession(session) {
  if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_KEY);
}

let css = null;
/** room.css, once; resolves when loaded (or failed: the panel still works unstyled). */
export function loadCSS() {
  css ??= new Promise((resolve) => {
    const href = '/static/css/room.css';
    document.head.append(Object.assign(document.createElement('link'), { rel: 'stylesheet', href, onload: resolve, onerror: resolve }));
  });
  return css;
}

/** The page's language now (a language switched in place included). */
export function pageLang() {
  const app = window.convviz && window.convviz.app;
  return (app && app.state.lang) || document.documentElement.lang || 'en';
}

/** The lecture strings of the page's language, as a translator. */
export function strings() {
  return lectureT(pageLang());
}

/**
 * An error answer of the rooms API in the page's words (`room.err.<type>`, with
 * the answer's numbers), the server's English only for what has no words here.
 * @param {Response} res @param {(key: string, params?: object) => string} L
 */
export async function errorText(res, L) {
  try {
    const body = await res.json();
    return body.detail.map((d) => {
      const key = `room.err.${d.type}`;
      const text = L(key, { ...(d.ctx || {}), message: d.msg });
      return text === key ? d.msg : text;
    }).join(' ');
  } catch {
    return `HTTP ${res.status}`;
  }
}
