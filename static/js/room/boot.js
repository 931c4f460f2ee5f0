/**
 * Live rooms on a page (loaded by hook.js only when wanted): a join link's
 * `#join=CODE` makes this tab a follower; a room this tab already leads or follows
 * (sessionStorage) carries on after a page change; the Live button opens a room.
 */

import { joinCode } from './live.js';
import { loadSession, saveSession } from './ui.js';

export async function start() {
  const code = joinCode(location.hash);
  if (code) {
    saveSession({ role: 'follow', code, detached: false });
    history.replaceState(history.state, '', location.pathname + location.search); // the code stays out of shared links
  }
  const session = loadSession();
  if (!session) return;
  if (session.role === 'lead') (await import('./lead.js')).resume(session);
  else (await import('./follow.js')).follow(session);
}

/** The Live button: this tab's room panel, opening a room first if there is none. */
export async function lead() {
  const session = loadSession();
  if (session && session.role === 'follow') (await import('./follow.js')).stop();
  await (await import('./lead.js')).open();
}
