/**
 * Slides 12 and 13 written out: every output of a convolution as a sum of
 * products of named weights and inputs (O₁₁ = F₁₁·X₁₁ + F₁₂·X₁₂ + ...), and the
 * gradients the same way (dE/dF₁₁ = dE/dO₁₁·X₁₁ + ...; dE/dX₁₁ = dE/dO₁₁·F₁₁).
 * Names count from 1, as the slides do; cells of the padding are written as
 * their numbers. Built from the API's step traces (docs/TRAINING_API.md: "step n
 * writes output out_index[n] as the sum over taps t of weights[n][t] *
 * values[n][t]"), so the equations are the ones the server computed. Pure.
 */

import { fmt, joinTerms } from './format.js';

const SUB = '₀₁₂₃₄₅₆₇₈₉';

/** Subscript digits: 12 -> "₁₂". */
export function sub(n) {
  return [...String(n)].map((d) => SUB[Number(d)]).join('');
}

/**
 * The name of a cell: `cellName('O', 0, 0, 1)` -> "O₁₂". With several channels
 * the channel goes in brackets ("X[2]₁₁", "F[1,2]₁₁" for filter 1, channel 2);
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

function wrap(terms, n, trace, t = MORE) {
  let s = terms.length ? joinTerms(terms, t, MAX_TERMS, 9, 3) : '0';
  const d = trace.divisor ? trace.divisor[n] : 1;
  if (d !== 1 && terms.length) s = `(${s}) / ${fmt(d)}`;
  return s;
}

/** The input cell under a tap, by name, or its number when it is padding. */
function inputName(trace, n, k, shape, multi) {
  const [ch, gr, gc] = trace.cells[n][k];
  const [oy, ox] = trace.grid_origin;
  const r = gr - oy;
  const c = gc - ox;
  if (r < 0 || c < 0 || r >= shape[1] || c >= shape[2]) return fmt(trace.values[n][k]);
  return cellName('X', ch, r, c, multi);
}

/**
 * Slide 12: each output cell of the forward trace.
 * @param {object} trace the conv trace
 * @param {object} o
 * @param {number[]} o.weight the weight's shape (C_out, C_in/groups, kH, kW)
 * @param {number[]} o.input the input's shape (C, H, W)
 * @param {string} [o.out] the output's symbol ("O"; "Z" before an activation)
 * @param {Function} [o.t] translator, for "… n more" in a long equation
 * @returns {{n: number, text: string}[]}
 */
export function forwardEquations(trace, { weight, input, out = 'O', t }) {
  const [cOut, cG, kH, kW] = weight;
  const per = kH * kW;
  return trace.out_index.map(([o, r, c], n) => {
    const terms = trace.cells[n].map((_, k) => {
      const ci = Math.floor(k / per);
      const i = Math.floor((k % per) / kW);
      const f = cellName('F', o, i, k % kW, cOut * cG > 1, ci);
      return `${f}·${inputName(trace, n, k, input, input[0] > 1)}`;
    });
    let rhs = wrap(terms, n, trace, t);
    if (trace.bias) rhs += ` + b${cOut > 1 ? sub(o + 1) : ''}`;
    return { n, text: `${cellName(out, o, r, c, cOut > 1)} = ${rhs}` };
  });
}

/**
 * Slide 13, dE/dF = conv(X, dE/dO): each weight's gradient from the dE/dW trace.
 * @param {object} trace the grad_weight_trace
 * @param {object} o as for {@link forwardEquations}, plus `dOut` = dE/dO's shape (C_out, H_out, W_out)
 */
export function weightEquations(trace, { weight, input, dOut, out = 'O', t }) {
  const [cOut, cG] = weight;
  const wOut = dOut[2];
  return trace.out_index.map(([oc, r, c], n) => {
    const o = Math.floor(oc / cG);
    const terms = trace.cells[n].map((_, k) => {
      const g = cellName(`dE/d${out}`, o, Math.floor(k / wOut), k % wOut, cOut > 1);
      return `${g}·${inputName(trace, n, k, input, input[0] > 1)}`;
    });
    return { n, text: `${cellName('dE/dF', o, r, c, cOut * cG > 1, oc % cG)} = ${wrap(terms, n, trace, t)}` };
  });
}

/**
 * Slide 13, dE/dX: each input cell's gradient from the dE/dX trace (the full
 * correlation with the kernel turned 180°), the zeros of padding and dilation
 * left out, so each term pairs an output's gradient with the weight that used
 * this input. Padding cells of the input are skipped.
 * @param {object} trace the grad_input_trace
 * @param {object} o as for {@link weightEquations}, plus `pad` = [top, left] (where
 *   the input sits in the padded grid) and `stride` = [sH, sW]
 */
export function inputEquations(trace, { weight, input, dOut, pad, stride, out = 'O', t }) {
  const [cOut, cG, kH, kW] = weight;
  const per = kH * kW;
  const [r0, c0] = trace.grid_origin;
  const eqs = [];
  trace.out_index.forEach(([c, r, col], n) => {
    const xr = r - pad[0];
    const xc = col - pad[1];
    if (xr < 0 || xc < 0 || xr >= input[1] || xc >= input[2]) return;
    const terms = [];
    trace.cells[n].forEach(([o, gr, gc], k) => {
      const dr = (gr - r0) / stride[0];
      const dc = (gc - c0) / stride[1];
      if (!Number.isInteger(dr) || !Number.isInteger(dc) || dr < 0 || dc < 0 || dr >= dOut[1] || dc >= dOut[2]) return;
      const t = k % per;
      const i = kH - 1 - Math.floor(t / kW);
      const j = kW - 1 - (t % kW);
      const f = cellName('F', o, i, j, cOut * cG > 1, c % cG);
      terms.push(`${cellName(`dE/d${out}`, o, dr, dc, cOut > 1)}·${f}`);
    });
    eqs.push({ n, text: `${cellName('dE/dX', c, xr, xc, input[0] > 1)} = ${wrap(terms, n, trace, t)}` });
  });
  return eqs;
}
