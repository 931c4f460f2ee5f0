/**
 * How numbers and sums are written on the page. Pure string building: the
 * arithmetic was done by the server; this only lays the trace's numbers out the
 * way a lecturer writes them on the board ("0*2 + 0*0 + ... = 1").
 */

/**
 * A number as the page shows it: at most two decimals, no trailing zeros, no "-0".
 * Rounds (7/9 -> "0.78"), unlike the deck, which truncated to 0.77.
 * @param {number} v
 */
export function fmt(v) {
  if (v === null || v === undefined) return '';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : v < 0 ? '-∞' : 'NaN';
  const a = Math.abs(v);
  if (a < 5e-7) return '0';
  let s;
  if (a < 0.005) s = v.toPrecision(2);
  else s = v.toFixed(2);
  if (s.includes('.') && !s.includes('e')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

/** A factor inside a product: negatives in parentheses, "1*(-1)". */
export function factor(v) {
  const s = fmt(v);
  return s.startsWith('-') ? `(${s})` : s;
}

/**
 * Join terms with " + ", eliding the middle of long sums so one line stays
 * readable: the first `head` and last `tail` terms survive, with the count.
 * @param {string[]} terms
 * @param {(key: string, params?: object) => string} t translator
 */
export function joinTerms(terms, t, max = 12, head = 6, tail = 2) {
  if (terms.length <= max) return terms.join(' + ');
  const omitted = terms.length - head - tail;
  return [...terms.slice(0, head), t('sum.more', { n: omitted }), ...terms.slice(-tail)].join(' + ');
}

/**
 * The taps of trace step `n` grouped by input channel: each channel's terms and
 * partial sum (what "several channels: each channel's partial sum" shows).
 * Taps outside the mask (cut by ceil_mode) are left out.
 * @returns {{channel: number, taps: number[], sum: number}[]}
 */
export function channelGroups(trace, n) {
  const groups = new Map();
  const cells = trace.cells[n];
  for (let k = 0; k < cells.length; k++) {
    if (trace.mask && !trace.mask[n][k]) continue;
    const c = cells[k][0];
    if (!groups.has(c)) groups.set(c, { channel: c, taps: [], sum: 0 });
    const g = groups.get(c);
    g.taps.push(k);
    g.sum += trace.products ? trace.products[n][k] : trace.values[n][k];
  }
  return [...groups.values()];
}

/**
 * The worked sum of one convolution step, as lines of text.
 * One channel: `(1*1 + (-1)*(-1) + ...) / 9 = 0.78`. Several: one line per
 * channel with its partial sum, then the total (divided for "mean") plus the bias.
 * @param {object} trace the API's conv trace
 * @param {number} n step
 * @param {(key: string, params?: object) => string} t translator
 * @returns {string[]}
 */
export function convSumLines(trace, n, t) {
  const groups = channelGroups(trace, n);
  const term = (k) => `${factor(trace.values[n][k])}*${factor(trace.weights[n][k])}`;
  const divisor = trace.divisor ? trace.divisor[n] : null;
  const bias = trace.bias ? trace.bias[n] : null;
  const tail = (expr) => {
    let s = divisor !== null && divisor !== 1 ? `(${expr}) / ${fmt(divisor)}` : expr;
    if (bias !== null) s += bias < 0 ? ` - ${fmt(-bias)}` : ` + ${fmt(bias)}`;
    return `${s} = ${fmt(trace.result[n])}`;
  };
  if (groups.length <= 1) {
    const terms = groups.length ? groups[0].taps.map(term) : ['0'];
    return [tail(joinTerms(terms, t))];
  }
  const lines = groups.map(
    (g) => `${t('sum.channel', { n: g.channel + 1 })}: ${joinTerms(g.taps.map(term), t)} = ${fmt(g.sum)}`,
  );
  lines.push(`${t('sum.total')}: ${tail(joinTerms(groups.map((g) => fmt(g.sum)), t))}`);
  return lines;
}

/**
 * The worked result of one pooling step: `max(0.78, -0.11, 1, 0.33) = 1` or
 * `(0.78 + -0.11 + 1 + 0.33) / 4 = 0.5`.
 * @param {'max' | 'avg'} kind
 */
export function poolSumLines(trace, n, kind, t) {
  const values = [];
  for (let k = 0; k < trace.values[n].length; k++) {
    if (!trace.mask || trace.mask[n][k]) values.push(fmt(trace.values[n][k]));
  }
  if (kind === 'max') return [`max(${joinTerms(values, t).replaceAll(' + ', ', ')}) = ${fmt(trace.result[n])}`];
  const divisor = trace.divisor ? trace.divisor[n] : values.length;
  return [`(${joinTerms(values.map((v) => (v.startsWith('-') ? `(${v})` : v)), t)}) / ${fmt(divisor)} = ${fmt(trace.result[n])}`];
}

/** Names of the activations as written in formulas. */
export const ACTIVATION_NAMES = { relu: 'ReLU', leaky_relu: 'LeakyReLU', sigmoid: 'sigmoid', tanh: 'tanh' };

/** `ReLU(-0.11) = 0` */
export function activationLine(fn, x, y) {
  return `${ACTIVATION_NAMES[fn]}(${fmt(x)}) = ${fmt(y)}`;
}
