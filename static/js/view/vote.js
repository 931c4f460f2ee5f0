/**
 * A classifier's vote, drawn the same on /network (X or O) and /digits (0-9): a bar
 * per class for the eye, and a table of logits and probabilities that says the
 * same in words (the bars are hidden from screen readers).
 */

/** A probability to three decimals, so 0.9996 does not read as a certain 1. */
const prob = (p) => p.toFixed(3);

/**
 * @param {HTMLElement} bars the bars' box
 * @param {HTMLTableElement} table
 * @param {{classes: string[], logits: number[], probabilities: number[], prediction: string}} a the answer
 * @param {string[]} heads the table's column names: class, logit, probability
 * @param {{rowClass?: (c: string, k: number) => string, logit?: (v: number) => string}} [how]
 *   extra classes of a bar's row; how a logit is written
 */
export function drawVote(bars, table, a, heads, { rowClass = () => '', logit = (v) => v.toFixed(3) } = {}) {
  bars.replaceChildren(...a.classes.map((c, k) => {
    const row = document.createElement('div');
    row.className = `bar-row ${rowClass(c, k)}`.trim();
    row.innerHTML = '<span class="cls"></span><span class="track"><span class="fill"></span></span><span class="val"></span>';
    row.querySelector('.cls').textContent = c;
    row.querySelector('.fill').style.width = `${(a.probabilities[k] * 100).toFixed(1)}%`;
    row.querySelector('.val').textContent = prob(a.probabilities[k]);
    row.setAttribute('aria-hidden', 'true'); // the table says the same, in words
    return row;
  }));
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const h of heads) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  a.classes.forEach((c, k) => {
    const row = body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = c;
    row.append(th);
    row.insertCell().textContent = logit(a.logits[k]);
    row.insertCell().textContent = prob(a.probabilities[k]);
  });
}
