/**
 * The X/O network page's pure parts: its view state (kept in the URL like the
 * visualizer's), and what a shift changes (slide 4: the feature maps move with the
 * glyph while the pooled features and the vote mostly hold). Tested in Node.
 */

import { bool, int, oneOf, tensorOrName } from './state.js';

/** [dy, dx], each -8..8: "0,1" (written only when not 0,0). */
const shift = {
  encode: (v) => v.join(','),
  decode(s) {
    const v = s.split(',').map(Number);
    if (v.length !== 2 || !v.every((n) => Number.isInteger(n) && Math.abs(n) <= 8)) throw new RangeError('expected two integers -8..8');
    return v;
  },
};

/** The network page's state, declared as the visualizer's is (state.js). */
/** Glyphs one default training run sees per epoch (512 training + 256 held out). */
export const XO_GLYPHS = 768;
/** Most glyph passes of one run (app/api/limits.py MAX_XO_SAMPLE_EPOCHS; tests/api checks). */
export const MAX_XO_SAMPLE_EPOCHS = 40000;
/** Most epochs the server accepts for the default run: the page's field stops there. */
export const MAX_EPOCHS = Math.floor(MAX_XO_SAMPLE_EPOCHS / XO_GLYPHS);

export const NET_PROPS = [
  { name: 'lang', key: 'lang', def: 'en', codec: oneOf(['en', 'ru']), push: true },
  // The glyph: a preset by name or the drawn numbers, (1, 9, 9).
  { name: 'glyph', key: 'in', def: 'x', codec: tensorOrName(3), push: true },
  { name: 'shift', key: 'sh', def: [0, 0], codec: shift, push: true },
  // Which weights vote: the lecture's, or those trained here (re-trained on load:
  // the same seed and settings give the same network).
  { name: 'params', key: 'net', def: 'lecture', codec: oneOf(['lecture', 'trained']), push: true },
  { name: 'epochs', key: 'ep', def: 15, codec: int(1, MAX_EPOCHS), push: true },
  // Milliseconds between two epochs as they stream: 250 makes the default run last
  // about 4 s, slow enough to watch the bar and the curves grow (0: full speed).
  { name: 'pace', key: 'pace', def: 250, codec: int(0, 1000), push: false },
  { name: 'seed', key: 'seed', def: 0, codec: int(0, 2 ** 32 - 1), push: true },
  { name: 'init', key: 'init', def: 'random', codec: oneOf(['random', 'lecture']), push: true },
  { name: 'trainFilters', key: 'tf', def: true, codec: bool, push: true },
];

/**
 * Which pooled features a shift changed: `{same, n, changed}` with `changed` the
 * (channel, row, column) of each number that differs by more than `tol`.
 * @param {number[][][]} a @param {number[][][]} b (K, 4, 4) each
 */
export function pooledChanges(a, b, tol = 1e-6) {
  const changed = [];
  let n = 0;
  a.forEach((g, k) => g.forEach((row, r) => row.forEach((v, c) => {
    n++;
    if (Math.abs(v - b[k][r][c]) > tol) changed.push([k, r, c]);
  })));
  return { same: n - changed.length, n, changed };
}

/** A probability to three decimals, so 0.9996 does not read as a certain 1. */
export function prob(p) {
  return p.toFixed(3);
}

/** "X 0.883": the predicted class and its probability. */
export function voteText(answer) {
  const i = answer.classes.indexOf(answer.prediction);
  return `${answer.prediction} ${prob(answer.probabilities[i])}`;
}

/**
 * The training request for the state (the server's defaults for the rest).
 * @param {Record<string, any>} s
 */
export function trainBody(s) {
  return { seed: s.seed, epochs: s.epochs, init: s.init, train_filters: s.trainFilters, delay_ms: s.pace };
}

/** A percentage for a progress bar's text: 0.875 -> "88%". */
export function percent(x) {
  return `${Math.round(x * 100)}%`;
}
