/**
 * How numbers and sums are written on the page. Pure string building: this only
 * lays one step's numbers (model/derive.js) out the way a lecturer writes them
 * on the board ("0*2 + 0*0 + ... = 1").
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
 * The taps of step `s` grouped by input channel: each channel's terms and
 * partial sum (what "several channels: each channel's partial sum" shows).
 * Taps outside the mask (cut by ceil_mode) are left out.
 * @param {object} s a derived step (model/derive.js)
 * @returns {{channel: number, taps: number[], sum: number}[]}
 */
export function channelGroups(s) {
  const groups = new Map();
  for (let k = 0; k < s.cells.length; k++) {
    if (!s.mask[k]) continue;
    const c = s.cells[k][0];
    if (!groups.has(c)) groups.set(c, { channel: c, taps: [], sum: 0 });
    const g = groups.get(c);
    g.taps.push(k);
    g.sum += s.products ? s.products[k] : s.values[k];
  }
  return [...groups.values()];
}

/**
 * The worked sum of one convolution step, as lines of text.
 * One channel: `(1*1 + (-1)*(-1) + ...) / 9 = 0.78`. Several: one line per
 * channel with its partial sum, then the total (divided for "mean") plus the bias.
 * @param {object} step a derived convolution step (model/derive.js)
 * @param {(key: string, params?: object) => string} t translator
 * @returns {string[]}
 */
export function convSumLines(step, t) {
  const groups = channelGroups(step);
  const term = (k) => `${factor(step.values[k])}*${factor(step.weights[k])}`;
  const { divisor, bias } = step;
  const tail = (expr) => {
    let s = divisor !== null && divisor !== 1 ? `(${expr}) / ${fmt(divisor)}` : expr;
    if (bias !== null) s += bias < 0 ? ` - ${fmt(-bias)}` : ` + ${fmt(bias)}`;
    return `${s} = ${fmt(step.result)}`;
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
export function poolSumLines(step, kind, t) {
  const values = step.values.filter((_, k) => step.mask[k]).map(fmt);
  if (kind === 'max') return [`max(${joinTerms(values, t).replaceAll(' + ', ', ')}) = ${fmt(step.result)}`];
  const divisor = step.divisor ?? values.length;
  return [`(${joinTerms(values.map((v) => (v.startsWith('-') ? `(${v})` : v)), t)}) / ${fmt(divisor)} = ${fmt(step.result)}`];
}

/** Names of the activations as written in formulas. */
export const ACTIVATION_NAMES = { relu: 'ReLU', leaky_relu: 'LeakyReLU', sigmoid: 'sigmoid', tanh: 'tanh' };

/** `ReLU(-0.11) = 0` */
export function activationLine(fn, x, y) {
  return `${ACTIVATION_NAMES[fn]}(${fmt(x)}) = ${fmt(y)}`;
}

/**
 * `name` before the last line (the total, when a sum has a line per channel),
 * after its label (`label`: "total: O₁₁ = 54 + 18 = 72") when it has one.
 */
export function prefixLast(lines, name, label = null) {
  const last = lines[lines.length - 1];
  const head = label && lines.length > 1 && last.startsWith(`${label}: `) ? `${label}: ` : '';
  lines[lines.length - 1] = head + name + last.slice(head.length);
  return lines;
}
