/**
 * Stepping through traces. The player's only state is one integer, the global
 * step; this module says what that integer means. Steps run over the stages in
 * order: first every output cell of the convolution, then every cell of the
 * pooling (when there is one). Within a stage, step n is the n-th output cell in
 * row-major order (channel, row, column), as the API's trace lists them.
 */

/**
 * @typedef {{stage: string, n: number}} Location
 */

/**
 * Split a global step into its stage and the step within it.
 * @param {number} step
 * @param {{stage: string, count: number}[]} stages
 * @returns {Location | null} null when there are no steps at all
 */
export function locate(step, stages) {
  let s = Math.max(0, Math.floor(step));
  for (const { stage, count } of stages) {
    if (s < count) return { stage, n: s };
    s -= count;
  }
  const last = [...stages].reverse().find((x) => x.count > 0);
  return last ? { stage: last.stage, n: last.count - 1 } : null;
}

/** Inverse of {@link locate}. */
export function globalStep(stage, n, stages) {
  let offset = 0;
  for (const s of stages) {
    if (s.stage === stage) return offset + n;
    offset += s.count;
  }
  return -1;
}

/** Total number of steps. */
export function totalSteps(stages) {
  return stages.reduce((a, s) => a + s.count, 0);
}

const key = (c, r, col) => `${c},${r},${col}`;
const outIndexCache = new WeakMap();
const feedCache = new WeakMap();

/**
 * The step that computes output cell (c, r, col), or -1.
 * @param {object} trace
 */
export function stepOfCell(trace, c, r, col) {
  let m = outIndexCache.get(trace);
  if (!m) {
    m = new Map(trace.out_index.map((o, n) => [key(o[0], o[1], o[2]), n]));
    outIndexCache.set(trace, m);
  }
  const n = m.get(key(c, r, col));
  return n === undefined ? -1 : n;
}

/**
 * Every step whose window reads grid cell (c, r, col): the output cells an input
 * cell feeds. Built once per trace (N*T work), then each hover is a lookup.
 * @returns {number[]}
 */
export function stepsReading(trace, c, r, col) {
  let m = feedCache.get(trace);
  if (!m) {
    m = new Map();
    trace.cells.forEach((taps, n) => {
      taps.forEach((cell, k) => {
        if (trace.mask && !trace.mask[n][k]) return;
        const id = key(cell[0], cell[1], cell[2]);
        const list = m.get(id);
        if (list) {
          if (list[list.length - 1] !== n) list.push(n);
        } else m.set(id, [n]);
      });
    });
    feedCache.set(trace, m);
  }
  return m.get(key(c, r, col)) || [];
}

/**
 * The taps of step n that count, as {cell: [c, r, col], k}.
 */
export function taps(trace, n) {
  const out = [];
  trace.cells[n].forEach((cell, k) => {
    if (!trace.mask || trace.mask[n][k]) out.push({ cell, k });
  });
  return out;
}

/**
 * Bounding box of step n's window in grid rows and columns, per channel read:
 * [{channel, r0, c0, r1, c1}] (inclusive), for the window outline. With
 * dilation the taps are spaced out; the box spans all of them.
 */
export function windowBoxes(trace, n) {
  const boxes = new Map();
  for (const [c, r, col] of trace.cells[n]) {
    const b = boxes.get(c);
    if (!b) boxes.set(c, { channel: c, r0: r, c0: col, r1: r, c1: col });
    else {
      b.r0 = Math.min(b.r0, r);
      b.c0 = Math.min(b.c0, col);
      b.r1 = Math.max(b.r1, r);
      b.c1 = Math.max(b.c1, col);
    }
  }
  return [...boxes.values()];
}

/**
 * Player arithmetic: where the step should be after `elapsedMs` of play at
 * `speed` steps per second, carrying the fractional remainder so slow speeds
 * still advance. Stops at the last step.
 * @returns {{step: number, carry: number, done: boolean}}
 */
export function advance(step, carry, elapsedMs, speed, total) {
  const due = carry + (elapsedMs / 1000) * speed;
  const whole = Math.floor(due);
  const next = Math.min(step + whole, Math.max(0, total - 1));
  return { step: next, carry: due - whole, done: next >= total - 1 };
}
