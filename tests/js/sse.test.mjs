import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ApiError } from '../../static/js/core/api.js';
import { postStream, streamError } from '../../static/js/core/sse.js';

/** A fetch answering 200 with `text` as an event stream, in two chunks. */
function streamingFetch(text) {
  const bytes = new TextEncoder().encode(text);
  const half = Math.floor(bytes.length / 2);
  return async () =>
    new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(bytes.slice(0, half));
          controller.enqueue(bytes.slice(half));
          controller.close();
        },
      }),
      { status: 200, headers: { 'content-type': 'text/event-stream' } },
    );
}

test('an error event rejects the stream with its message, after the events before it', async () => {
  const saved = globalThis.fetch;
  globalThis.fetch = streamingFetch(
    'event: epoch\ndata: {"epoch":1}\n\nevent: error\ndata: {"msg":"training stopped: busy","type":"busy"}\n\nevent: epoch\ndata: {"epoch":2}\n\n',
  );
  const seen = [];
  try {
    await assert.rejects(postStream('/api/xo/train', {}, (name, d) => seen.push([name, d])), (e) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.message, 'training stopped: busy');
      return true;
    });
  } finally {
    globalThis.fetch = saved;
  }
  assert.deepEqual(seen, [['epoch', { epoch: 1 }]]);
});

test('a stream without errors resolves after every event', async () => {
  const saved = globalThis.fetch;
  globalThis.fetch = streamingFetch('event: step\ndata: {"i":0}\n\nevent: done\ndata: {"i":1}\n\n');
  const seen = [];
  try {
    await postStream('/api/descent/stream', {}, (name) => seen.push(name));
  } finally {
    globalThis.fetch = saved;
  }
  assert.deepEqual(seen, ['step', 'done']);
});

test('streamError reads msg, message or a bare string', () => {
  assert.equal(streamError(200, { msg: 'a' }).message, 'a');
  assert.equal(streamError(200, { message: 'b' }).message, 'b');
  assert.equal(streamError(200, 'c').message, 'c');
  assert.equal(streamError(200, null).message, 'the stream stopped');
});
