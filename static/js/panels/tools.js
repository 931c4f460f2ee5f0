/**
 * The input's tools (the settings' buttons: clear, invert, mirror, shift), loaded
 * with the first click (controls.js). Pure: each returns a new tensor.
 */

import { background, SCHEMES } from './editors.js';
import { flip2d, map, shift2d } from '../core/tensor.js';

/** Swap dark and light within the scheme's range. */
export function invert(t, scheme) {
  const { lo, hi } = SCHEMES[scheme];
  return map(t, (v) => lo + hi - v);
}

/** Every channel shifted by (dr, dc), bringing in `fill`. */
export function shiftInput(input, dr, dc, fill) {
  return input.map((g) => shift2d(g, dr, dc, fill));
}

/** Every channel mirrored. */
export function flipInput(input, horizontal) {
  return input.map((g) => flip2d(g, horizontal));
}

/** Each tool by its button's data-tool: (input, scheme) -> new input. */
export const TOOLS = {
  clear: (x, scheme) => x.map((g) => g.map((row) => row.map(() => background(scheme)))),
  invert: (x, scheme) => invert(x, scheme),
  fliph: (x) => flipInput(x, true),
  flipv: (x) => flipInput(x, false),
  up: (x, scheme) => shiftInput(x, -1, 0, background(scheme)),
  down: (x, scheme) => shiftInput(x, 1, 0, background(scheme)),
  left: (x, scheme) => shiftInput(x, 0, -1, background(scheme)),
  right: (x, scheme) => shiftInput(x, 0, 1, background(scheme)),
};
