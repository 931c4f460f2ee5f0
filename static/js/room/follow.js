/**
 * The follower's side of a live room: receive the lecturer's views over
 * server-sent events and show each as if its link had been opened; a banner says
 * whether this page follows, and lets the student leave to explore and come back.
 *
 * A view for this page is applied through the page's own URL loading: the address
 * is replaced and a "popstate" event sent, which the store answers exactly as it
 * answers the Back button (state.js parses the query, the page recomputes). A view
 * of another page (the lecturer moved to the next scene) is opened as a link; this
 * tab's room (sessionStorage) carries on there. EventSource reconnects by itself,
 * and the server starts each connection with the room's latest view.
 */

import { displayCode, followerURL, sameView } from './live.js';
import { loadCSS, pageLang, saveSession, strings } from './ui.js';

/** The paths a room's view may lead to (the server checks the same). */
const PAGE = /^\/(lecture(\/[a-z0-9-]{1,64})?)?$/;

let live = null; // {session, es, latest, applied, banner, L, mode}

export async function follow(session) {
  if (live) return;
  const [L] = await Promise.all([strings(), loadCSS()]);
  const banner = Object.assign(document.createElement('div'), { className: 'room-banner' });
  banner.setAttribute('role', 'status');
  banner.innerHTML = '<span class="room-dot" aria-hidden="true"></span><span class="room-text"></span><span class="room-acts"></span>';
  document.body.prepend(banner);
  const mode = session.detached ? 'detached' : 'connecting'; // a reload keeps the choice
  live = { session, es: null, latest: null, applied: null, banner, L, lang: pageLang(), mode };
  document.addEventListener('convviz:state', onPageChange);
  connect();
  render();
}

/** Stop following altogether (this tab now leads, or the student left the room). */
export function stop() {
  if (!live) return saveSession(null);
  live.es?.close();
  live.banner.remove();
  document.body.classList.remove('room-following');
  document.removeEventListener('convviz:state', onPageChange);
  live = null;
  saveSession(null);
}

function connect() {
  const es = new EventSource(`/api/rooms/${live.session.code}/events`);
  live.es = es;
  es.addEventListener('state', (ev) => {
    if (!live) return;
    live.latest = JSON.parse(ev.data);
    if (live.mode !== 'detached') {
      live.mode = 'following';
      apply(live.latest);
    }
    render();
  });
  es.addEventListener('end', () => ended());
  es.addEventListener('error', () => {
    if (!live) return;
    if (es.readyState === EventSource.CLOSED) return check(); // an error answer: 404 or 503
    if (live.mode === 'following') live.mode = 'reconnecting';
    render();
  });
  es.addEventListener('open', () => {
    if (live && live.mode === 'reconnecting') live.mode = 'following';
    render();
  });
}

/** The stream was refused: the room ended (404), or the server is full (retry). */
async function check() {
  const res = await fetch(`/api/rooms/${live.session.code}`).catch(() => null);
  if (!live) return;
  if (res && res.status === 404) return ended();
  live.mode = live.mode === 'detached' ? 'detached' : 'reconnecting';
  render();
  setTimeout(() => live && connect(), 3000);
}

function ended() {
  if (!live) return;
  live.es.close();
  live.mode = 'ended';
  document.body.classList.remove('room-following');
  saveSession(null);
  render();
}

/** Show `view` here: in place on this page, or by opening the other page. */
function apply(view) {
  if (!PAGE.test(view.path)) return;
  const url = followerURL(view, pageLang());
  live.applied = view;
  if (view.path !== location.pathname) {
    saveSession({ ...live.session, detached: false });
    location.assign(url);
    return;
  }
  if (url === location.pathname + location.search) return;
  history.replaceState(history.state, '', url);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** The page wrote its URL: the student changed something, so they left the live view. */
function onPageChange() {
  if (!live) return;
  if (live.lang !== pageLang()) {
    live.lang = pageLang();
    strings().then((L) => {
      live.L = L;
      render();
    });
  }
  if (live.mode !== 'following' || !live.applied) return;
  if (sameView(live.applied, { path: location.pathname, query: location.search })) return;
  detach();
}

/** Leave the live view to explore; the stream stays open, so rejoining is instant. */
function detach() {
  live.mode = 'detached';
  saveSession({ ...live.session, detached: true });
  render();
}

/** Back to the lecturer's latest view, in one tap. */
function rejoin() {
  live.mode = 'following';
  saveSession({ ...live.session, detached: false });
  if (live.latest) apply(live.latest);
  render();
}

function button(key, action, primary = false) {
  const b = Object.assign(document.createElement('button'), { type: 'button', textContent: live.L(key) });
  if (primary) b.className = 'primary';
  b.addEventListener('click', action);
  return b;
}

function render() {
  if (!live) return;
  const { banner, L, mode, session } = live;
  const code = displayCode(session.code);
  banner.dataset.mode = mode;
  document.body.classList.toggle('room-following', mode === 'following' || mode === 'reconnecting');
  const text = {
    connecting: L('room.connecting', { code }),
    following: L('room.following', { code }),
    reconnecting: L('room.reconnecting'),
    detached: L('room.detached'),
    ended: L('room.ended'),
  }[mode];
  banner.querySelector('.room-text').textContent = text;
  const acts = banner.querySelector('.room-acts');
  if (mode === 'detached') acts.replaceChildren(button('room.rejoin', rejoin, true), button('room.leave', stop));
  else if (mode === 'ended') acts.replaceChildren(button('room.close', stop));
  else acts.replaceChildren(button('room.detach', detach));
}
