/**
 * Slides 12 and 13 written out: every output of a convolution as a sum of
 * products of named weights and inputs (O₁₁ = W₁₁·X₁₁ + W₁₂·X₁₂ + ...), and the
 * gradients the same way (dE/dW₁₁ = dE/dO₁₁·X₁₁ + ...; dE/dX₁₁ = dE/dO₁₁·W₁₁).
 * Names count from 1, as the slides do; cells of the padding are written as
 * their numbers. Built from the derived steps (model/derive.js, held to the
 * server's traces), only as many as are shown. Pure.
 */

import { fmt, joinTerms } from '../core/format.js';

const SUB = '₀₁₂₃₄₅₆₇₈₉';

/** Subscript digits: 12 -> "₁₂". */
export function sub(n) {
  return [...String(n)].map((d) => SUB[Number(d)]).join('');
}

/**
 * The name of a cell: `cellName('O', 0, 0, 1)` -> "O₁₂". With several channels
 * the channel goes in brackets ("X[2]₁₁", "W[1,2]₁₁" for filter 1, channel 2);
 * past the ninth row or column the two indices get a comma ("X₁₀,₁₁").
 */
export function cellName(sym, ch, r, c, multi = false, ch2 = null) {
  const pos = r < 9 && c < 9 ? sub(r + 1) + sub(c + 1) : `${sub(r + 1)},${sub(c + 1)}`;
  const chan = !multi ? '' : ch2 === null ? `[${ch + 1}]` : `[${ch + 1},${ch2 + 1}]`;
  return `${sym}${chan}${pos}`;
}

/** Past this many terms an equation shows its first and last ones and a count. */
export const MAX_TERMS = 18;

/** "… 12 more", in the page's language when a translator is given. */
const MORE = (key, { n }) => `… ${n}`;

/**
 * `count` terms, of which only those a long equation shows (the first 9 and the
 * last 3) are written: dE/dW of a 64x64 photo has 3,844 terms per equation.
 */
function shownTerms(count, write) {
  const out = new Array(count);
  for (let k = 0; k < count; k++) {
    if (count > MAX_TERMS && k === 9) k = count - 3;
    out[k] = write(k);
  }
  return out;
}

function wrap(terms, divisor, t = MORE) {
  let s = terms.length ? joinTerms(terms, t, MAX_TERMS, 9, 3) : '0';
  if (divisor !== null && divisor !== 1 && terms.length) s = `(${s}) / ${fmt(divisor)}`;
  return s;
}

/** The input cell under tap k of step `s`, by name, or its number when it is padding. */
function inputName(d, s, k, shape, multi) {
  const [ch, gr, gc] = s.cells[k];
  const r = gr - d.gridOrigin[0];
  const c = gc - d.gridOrigin[1];
  if (r < 0 || c < 0 || r >= shape[1] || c >= shape[2]) return fmt(s.values[k]);
  return cellName('X', ch, r, c, multi);
}

/**
 * The first `max` steps of `d` that `write` gives an equation for (it returns
 * null to skip one), and how many it would give in all (`count(d)`, or every step).
 */
function list(d, max, write, count = d.count) {
  const items = [];
  for (let n = 0; n < d.count && items.length < max; n++) {
    const text = write(d.step(n), n);
    if (text !== null) items.push({ n, text });
  }
  return { items, total: count };
}

/**
 * Slide 12: each output cell of the forward convolution.
 * @param {object} d the conv2d deriver (model/derive.js)
 * @param {object} o
 * @param {number[]} o.weight the weight's shape (C_out, C_in/groups, kH, kW)
 * @param {number[]} o.input the input's shape (C, H, W)
 * @param {string} [o.out] the output's symbol ("O"; "Z" before an activation)
 * @param {Function} [o.t] translator, for "… n more" in a long equation
 * @param {number} [max] most equations written (a 64x64 layer has thousands)
 * @returns {{items: {n: number, text: string}[], total: number}}
 */
export function forwardEquations(d, { weight, input, out = 'O', t }, max = Infinity) {
  const [cOut, cG, kH, kW] = weight;
  const per = kH * kW;
  return list(d, max, (s, n) => {
    const [o, r, c] = s.out;
    const all = shownTerms(s.cells.length, (k) => {
      const ci = Math.floor(k / per);
      const i = Math.floor((k % per) / kW);
      const f = cellName('W', o, i, k % kW, cOut * cG > 1, ci);
      return `${f}·${inputName(d, s, k, input, input[0] > 1)}`;
    });
    let rhs = wrap(all, s.divisor, t);
    if (s.bias !== null) rhs += ` + b${cOut > 1 ? sub(o + 1) : ''}`;
    return `${cellName(out, o, r, c, cOut > 1)} = ${rhs}`;
  });
}

/**
 * Slide 13, dE/dW = conv(X, dE/dO): each weight's gradient.
 * @param {object} d the conv2d_grad_weight deriver
 * @param {object} o as for {@link forwardEquations}, plus `dOut` = dE/dO's shape (C_out, H_out, W_out)
 */
export function weightEquations(d, { weight, input, dOut, out = 'O', t }, max = Infinity) {
  const [cOut, cG] = weight;
  const wOut = dOut[2];
  return list(d, max, (s) => {
    const [oc, r, c] = s.out;
    const o = Math.floor(oc / cG);
    const all = shownTerms(s.cells.length, (k) => {
      const g = cellName(`dE/d${out}`, o, Math.floor(k / wOut), k % wOut, cOut > 1);
      return `${g}·${inputName(d, s, k, input, input[0] > 1)}`;
    });
    return `${cellName('dE/dW', o, r, c, cOut * cG > 1, oc % cG)} = ${wrap(all, s.divisor, t)}`;
  });
}

/**
 * Slide 13, dE/dX: each input cell's gradient (the full correlation with the
 * kernel turned 180°), the zeros of padding and dilation left out, so each term
 * pairs an output's gradient with the weight that used this input. Padding cells
 * of the input are skipped.
 * @param {object} d the conv2d_grad_input deriver
 * @param {object} o as for {@link weightEquations}, plus `pad` = [top, left] (where
 *   the input sits in the padded grid) and `stride` = [sH, sW]
 */
export function inputEquations(d, { weight, input, dOut, pad, stride, out = 'O', t }, max = Infinity) {
  const [cOut, cG, kH, kW] = weight;
  const per = kH * kW;
  const [r0, c0] = d.gridOrigin;
  return list(d, max, (s) => {
    const [c, r, col] = s.out;
    const xr = r - pad[0];
    const xc = col - pad[1];
    if (xr < 0 || xc < 0 || xr >= input[1] || xc >= input[2]) return null;
    const terms = [];
    s.cells.forEach(([o, gr, gc], k) => {
      const dr = (gr - r0) / stride[0];
      const dc = (gc - c0) / stride[1];
      if (!Number.isInteger(dr) || !Number.isInteger(dc) || dr < 0 || dc < 0 || dr >= dOut[1] || dc >= dOut[2]) return;
      const tap = k % per;
      const i = kH - 1 - Math.floor(tap / kW);
      const j = kW - 1 - (tap % kW);
      const f = cellName('W', o, i, j, cOut * cG > 1, c % cG);
      terms.push(`${cellName(`dE/d${out}`, o, dr, dc, cOut > 1)}·${f}`);
    });
    return `${cellName('dE/dX', c, xr, xc, input[0] > 1)} = ${wrap(terms, s.divisor, t)}`;
  }, input[0] * input[1] * input[2]);
}
