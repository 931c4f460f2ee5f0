/**
 * The lecturer's side of a live room: open it, publish the page's view each time
 * the page writes its URL, and show the room on a small panel (code, join link,
 * QR code, how many follow, end) with a full-screen version for the projector.
 *
 * The view is the URL: main.js (or embed.js) writes it and says so with the
 * "convviz:state" event; this reads it back (publishedView) and sends it with the
 * secret, one request at a time, newest only (Latest). The secret stays in this
 * tab's sessionStorage.
 *
 * While the player plays, the page draws each step without writing the URL (a
 * history write per frame would be refused by the browser) and says which step
 * with "convviz:step"; those are published at most PLAY_EVERY_MS apart, the
 * newest each time (Paced), so followers watch the play at about four steps a
 * second, and the step where it stops goes out when the URL is written.
 */

import { copyText } from '../core/clip.js';
import { applyLecture } from '../core/lecture-i18n.js';
import { Latest, Paced, displayCode, publishedView } from './live.js';
import { errorText, loadCSS, loadSession, pageLang, saveSession, strings } from './ui.js';

/** How often the panel asks how many follow (a GET any replica answers from the store). */
const COUNT_EVERY_MS = 3000;

/**
 * While playing, a step is published at most this often (4 a second). The server
 * has no publish rate limit (app/api/limits.py); this keeps a played lecture at a
 * few small requests a second, under the 10 a second benchmarks/rooms.py measures.
 */
const PLAY_EVERY_MS = 250;

const HTML = `
<div class="room-head">
  <h2 id="room-title" data-l="room.title"></h2>
  <button type="button" data-act="fold" aria-expanded="true" aria-controls="room-body" data-l="room.fold"></button>
</div>
<div class="room-body" id="room-body">
  <p class="room-code"><span data-l="room.code"></span> <strong data-room="code"></strong></p>
  <img class="room-qr" data-room="qr" width="168" height="168" data-l-attr="alt:room.qrAlt">
  <div class="copyrow"><input data-room="link" type="text" readonly data-l-attr="aria-label:room.link"><button type="button" data-act="copy" data-l="share.copy"></button></div>
  <p class="room-count" data-room="count" aria-live="polite"></p>
  <div class="room-acts">
    <button type="button" data-act="project" data-l="room.project"></button>
    <button type="button" data-act="end" class="danger" data-l="room.end"></button>
  </div>
  <p class="note" data-room="idle"></p>
  <p class="room-status" data-room="status" role="status"></p>
</div>`;

const PROJECTOR = `
<div class="room-big-inner">
  <p class="room-big-scan" data-l="room.scan"></p>
  <img data-room="qr" data-l-attr="alt:room.qrAlt">
  <p class="room-big-link" data-room="link"></p>
  <p class="room-big-code" data-room="code"></p>
  <p class="room-count" data-room="count"></p>
  <button type="button" data-act="unproject" data-l="room.close"></button>
</div>`;

let room = null; // {session, panel, big, sender, paced, step, L, last, timer}

/** The Live button: show the panel of this tab's room, or open one. */
export async function open() {
  const session = loadSession();
  if (session && session.role === 'lead') return resume(session);
  const L = await strings();
  const res = await fetch('/api/rooms', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(publishedView(location.pathname, location.search)),
  }).catch((e) => ({ ok: false, status: 0, json: async () => ({ detail: [{ msg: e.message, type: 'offline' }] }) }));
  if (!res.ok) {
    alertPanel(L('room.failed', { message: await errorText(res, L) }));
    return;
  }
  const body = await res.json();
  const fresh = { role: 'lead', code: body.code, secret: body.secret, join: body.join_url, qr: body.qr_url, idle: body.idle_seconds };
  saveSession(fresh);
  return resume(fresh, true);
}

/** Carry on leading `session` on this page (after a page change, or just opened). */
export async function resume(session, opened = false) {
  if (room) {
    room.panel.hidden = false;
    return;
  }
  const [L] = await Promise.all([strings(), loadCSS()]);
  const panel = Object.assign(document.createElement('section'), { className: 'room-panel', innerHTML: HTML });
  panel.setAttribute('aria-labelledby', 'room-title');
  // In the flow under the page's header, so it covers neither the settings nor the
  // player; where there is no header (an embed in a slide), a small foldable overlay.
  const header = document.querySelector('body > header');
  if (header) {
    panel.classList.add('docked');
    header.after(panel);
  } else document.body.append(panel);
  room = { session, panel, big: null, L, lang: pageLang(), last: opened ? JSON.stringify(publishedView(location.pathname, location.search)) : '', timer: 0 };
  room.sender = new Latest(send);
  room.paced = new Paced(publishStep, PLAY_EVERY_MS);
  fill(panel);
  panel.addEventListener('click', onClick);
  document.addEventListener('convviz:state', publish);
  document.addEventListener('convviz:step', onStep);
  window.addEventListener('popstate', publish);
  window.addEventListener('pageshow', republish);
  document.addEventListener('convviz:state', relabel);
  publish(); // a page change: the new page's view
  poll();
}

function fill(root) {
  const { session, L } = room;
  applyLecture(root, L);
  for (const el of root.querySelectorAll('[data-room="code"]')) el.textContent = displayCode(session.code);
  for (const el of root.querySelectorAll('[data-room="qr"]')) el.src = session.qr;
  for (const el of root.querySelectorAll('[data-room="link"]')) {
    if (el.tagName === 'INPUT') el.value = session.join;
    else el.textContent = session.join.replace(/^https?:\/\//, '');
  }
  const idle = root.querySelector('[data-room="idle"]');
  if (idle) idle.textContent = L('room.idle', { min: Math.round(session.idle / 60) });
}

/** The language switched in place: the panel's strings follow. */
async function relabel() {
  if (!room || pageLang() === room.lang) return;
  room.lang = pageLang();
  const L = await strings();
  room.L = L;
  fill(room.panel);
  if (room.big) fill(room.big);
  count(room.followers);
}

/** The page wrote its URL (or Back moved it): publish it now, over any step waiting. */
function publish() {
  if (!room) return;
  room.paced.cancel();
  push(publishedView(location.pathname, location.search));
}

/** Back to this page from the browser's cache: the room has moved on since, publish it again. */
function republish(ev) {
  if (!room || !ev.persisted) return;
  room.last = '';
  publish();
}

/** The player drew `detail.step` without writing the URL: publish it, paced. */
function onStep(ev) {
  if (!room) return;
  room.step = ev.detail.step;
  room.paced.poke();
}

function publishStep() {
  if (room) push(publishedView(location.pathname, location.search, room.step));
}

function push(view) {
  const key = JSON.stringify(view);
  if (key === room.last) return;
  room.last = key;
  room.sender.push(view);
}

async function send(view) {
  const { session, L } = room;
  const res = await fetch(`/api/rooms/${session.code}/state`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${session.secret}` },
    body: JSON.stringify(view),
  }).catch(() => null);
  if (!room) return;
  if (res && res.status === 404) return ended();
  status(res && res.ok ? '' : L('room.publishFailed', { message: res ? await errorText(res, L) : L('room.offline') }));
  if (res && res.ok) count((await res.json()).followers);
}

async function poll() {
  if (!room) return;
  clearTimeout(room.timer);
  const res = await fetch(`/api/rooms/${room.session.code}`).catch(() => null);
  if (!room) return;
  if (res && res.status === 404) return ended();
  if (res && res.ok) count((await res.json()).followers);
  room.timer = setTimeout(poll, COUNT_EVERY_MS);
}

function count(n) {
  if (!room || n === undefined) return;
  room.followers = n;
  const text = room.L('room.followers', { n });
  for (const root of [room.panel, room.big]) if (root) root.querySelector('[data-room="count"]').textContent = text;
}

function status(text) {
  room.panel.querySelector('[data-room="status"]').textContent = text;
}

function onClick(ev) {
  const act = ev.target.closest('[data-act]')?.dataset.act;
  if (act === 'copy') {
    const field = room.panel.querySelector('[data-room="link"]');
    copyText(field.value, field).then((ok) => status(room.L(ok ? 'share.copied' : 'share.copyFailed')));
  } else if (act === 'fold') {
    const body = room.panel.querySelector('.room-body');
    body.hidden = !body.hidden;
    ev.target.setAttribute('aria-expanded', String(!body.hidden));
    ev.target.textContent = room.L(body.hidden ? 'room.unfold' : 'room.fold');
  } else if (act === 'project') project(true);
  else if (act === 'unproject') project(false);
  else if (act === 'end') end();
}

/** The projector view: the QR code and the link as large as the screen allows. */
function project(on) {
  if (!on) {
    room.big?.remove();
    room.big = null;
    room.panel.querySelector('[data-act="project"]').focus();
    return;
  }
  const big = Object.assign(document.createElement('div'), { className: 'room-big', innerHTML: PROJECTOR });
  big.setAttribute('role', 'dialog');
  big.setAttribute('aria-modal', 'true');
  big.setAttribute('aria-label', room.L('room.title'));
  big.addEventListener('click', onClick);
  big.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') project(false);
  });
  document.body.append(big);
  room.big = big;
  fill(big);
  count(room.followers);
  big.querySelector('button').focus();
}

async function end() {
  const { session } = room;
  await fetch(`/api/rooms/${session.code}/end`, { method: 'POST', headers: { authorization: `Bearer ${session.secret}` } }).catch(() => null);
  close();
}

function ended() {
  const { L } = room;
  close();
  alertPanel(L('room.ended'));
}

function close() {
  clearTimeout(room.timer);
  room.paced.cancel();
  document.removeEventListener('convviz:state', publish);
  document.removeEventListener('convviz:step', onStep);
  window.removeEventListener('popstate', publish);
  window.removeEventListener('pageshow', republish);
  document.removeEventListener('convviz:state', relabel);
  room.big?.remove();
  room.panel.remove();
  room = null;
  saveSession(null);
}

/** A one-line notice where the panel would be (the room failed to open, or ended). */
async function alertPanel(text) {
  await loadCSS();
  const note = Object.assign(document.createElement('p'), { className: 'room-panel room-alert', textContent: text });
  note.setAttribute('role', 'alert');
  document.body.append(note);
  setTimeout(() => note.remove(), 8000);
}
