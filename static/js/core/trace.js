/**
 * Stepping through stages. The player's only state is one integer, the global
 * step; this module says what that integer means. Steps run over the stages in
 * order: first every output cell of the convolution, then every cell of the
 * pooling (when there is one). Within a stage, step n is the n-th output cell in
 * row-major order (channel, row, column); model/derive.js says what it computes.
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

/**
 * The step a jump by one output row (`unit` "row") or one channel ("channel")
 * lands on, `dir` = +1 or -1: the same column (and row) of the next row (or
 * channel) of the stage being played, or the stage's first or last step when
 * there is no such one (then on into the next or previous stage). `shape` of a
 * stage is [C, H, W] of what its steps fill (row-major), default one row.
 */
export function jumpStep(stages, step, unit, dir) {
  const at = locate(step, stages);
  const total = totalSteps(stages);
  if (!at) return 0;
  const s = stages.find((x) => x.stage === at.stage);
  const [, H, W] = s.shape || [1, 1, s.count];
  const by = unit === 'row' ? W : H * W;
  const n = at.n + dir * by;
  const first = globalStep(at.stage, 0, stages);
  if (n >= 0 && n < s.count) return first + n;
  // Past the stage's edge: its first or last step, or, from there, the next stage.
  const edge = dir > 0 ? first + s.count - 1 : first;
  return step === edge ? Math.max(0, Math.min(total - 1, step + dir)) : edge;
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
