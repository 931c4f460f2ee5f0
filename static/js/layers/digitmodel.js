/**
 * The digit page's pure parts: its state in the URL, example drawings of each digit
 * (so the network can be tried from the keyboard), and the vote's text. Tested in
 * Node (tests/js/layers-digits.test.mjs).
 */

import { bool, oneOf } from '../core/state.js';
import { openCodec } from './stackmodel.js';
import { decodeStrokes } from './strokes.js';

export const DIGIT_PROPS = [
  { name: 'lang', key: 'lang', def: 'en', codec: oneOf(['en', 'ru']), push: true },
  // The drawing, as strokes (strokes.js); '' is an empty pad.
  {
    name: 'ink',
    key: 'ink',
    def: '',
    codec: {
      encode: String,
      decode(s) {
        decodeStrokes(s); // throws on a malformed drawing
        return s;
      },
    },
    push: true,
  },
  { name: 'open', key: 'at', def: null, codec: openCodec, push: false },
  { name: 'embed', key: 'embed', def: false, codec: bool, push: true },
];

/** Points along an ellipse arc, angles in turns (0 = right, 0.25 = down). */
export function arc(cx, cy, rx, ry, from, to, n = 16) {
  return Array.from({ length: n + 1 }, (_, i) => {
    const a = 2 * Math.PI * (from + ((to - from) * i) / n);
    return [cx + rx * Math.cos(a), cy + ry * Math.sin(a)];
  });
}

/** One stroke crossing itself in the middle, from the top (a lemniscate of Gerono). */
export function figureEight(cx, cy, w, h, n = 32) {
  return Array.from({ length: n + 1 }, (_, i) => {
    const t = (2 * Math.PI * i) / n;
    return [cx - w * Math.sin(t) * Math.cos(t), cy - h * Math.cos(t)];
  });
}

/** One drawing of each digit, in pad units (0..1), as a person might draw it. */
export const EXAMPLES = {
  0: [arc(0.5, 0.5, 0.22, 0.34, -0.25, 0.75, 24)],
  1: [[[0.42, 0.26], [0.52, 0.16], [0.52, 0.84]]],
  2: [[...arc(0.5, 0.34, 0.2, 0.18, 0.5, 1.1, 12), [0.3, 0.82], [0.72, 0.82]]],
  3: [[...arc(0.48, 0.32, 0.18, 0.16, 0.55, 1.25, 12), ...arc(0.48, 0.66, 0.2, 0.18, 0.75, 1.45, 12)]],
  4: [[[0.6, 0.16], [0.28, 0.6], [0.76, 0.6]], [[0.62, 0.36], [0.62, 0.86]]],
  5: [[[0.7, 0.18], [0.36, 0.18], [0.33, 0.46], ...arc(0.5, 0.63, 0.2, 0.19, 0.65, 1.35, 12)]],
  6: [[[0.64, 0.16], ...arc(0.52, 0.64, 0.2, 0.2, 0.6, 1.6, 20).slice(0)]],
  7: [[[0.28, 0.2], [0.72, 0.2], [0.48, 0.86]], [[0.4, 0.52], [0.7, 0.52]]],
  8: [figureEight(0.5, 0.5, 0.34, 0.34)],
  9: [[...arc(0.5, 0.34, 0.19, 0.17, 0, 1, 16), [0.69, 0.34], [0.66, 0.86]]],
};

/** "3, with probability 0.97" pieces: the predicted class and its probability. */
export function vote(answer) {
  const i = answer.classes.indexOf(answer.prediction);
  return { digit: answer.prediction, p: answer.probabilities[i].toFixed(3) };
}
