/**
 * Server-sent events over fetch: the training endpoints stream their progress
 * (docs/TRAINING_API.md), and EventSource only does GET, so a POST is read with a
 * reader that splits the text on blank lines. Aborting the fetch (its `signal`)
 * closes the connection, which stops the work on the server.
 */

import { ApiError, answer } from './api.js';

/**
 * Split event-stream text into complete events; `rest` is the unfinished tail
 * to prepend to the next chunk. Events without data (comments, keep-alives) are dropped.
 * @param {string} text
 * @returns {{events: {event: string, id: string | null, data: string}[], rest: string}}
 */
export function parseSSE(text) {
  const blocks = text.replace(/\r\n?/g, '\n').split('\n\n');
  const rest = blocks.pop();
  const events = [];
  for (const block of blocks) {
    const ev = { event: 'message', id: null, data: '' };
    const data = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') ev.event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') ev.id = value;
    }
    if (!data.length) continue;
    ev.data = data.join('\n');
    events.push(ev);
  }
  return { events, rest };
}

/**
 * The ApiError an `error` event carries (`{msg, type}`, docs/TRAINING_API.md): the
 * stream stopped without finishing, and the page says why.
 * @param {number} status @param {any} data
 */
export function streamError(status, data) {
  const msg = data && typeof data === 'object' ? data.msg ?? data.message : data;
  return new ApiError(status, [{ field: null, message: String(msg ?? 'the stream stopped') }]);
}

/**
 * POST `body` to `path` and call `onEvent(name, data)` for each event as it
 * arrives (data decoded from JSON). Resolves when the stream ends; rejects with
 * an ApiError for an error answer (a 422 comes before the stream starts) or an
 * `error` event (the stream is then closed), and with an AbortError when `signal`
 * aborts.
 */
export async function postStream(path, body, onEvent, signal) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok) return answer(res);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
    const { events, rest } = parseSSE(done ? `${buffer}\n\n` : buffer);
    buffer = rest;
    for (const ev of events) {
      const data = JSON.parse(ev.data);
      if (ev.event === 'error') {
        await reader.cancel();
        throw streamError(res.status, data);
      }
      onEvent(ev.event, data);
    }
    if (done) return;
  }
}
