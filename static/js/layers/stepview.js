/**
 * The step view of one map (/stack and /digits): for one output cell of the map, the
 * window it reads on every input map of its group (outlined on each), the kernel's
 * slice for that map, the products, each map's partial sum, and their total plus the
 * bias, which is the cell's value. A pooling shows its window and the max or mean;
 * an activation the value before and after. Every number comes from the page's one
 * derivation (model/derive.js, through mapstep.js) and the worked sum is the main
 * page's own (format.js). The step (which cell) is the one source of truth: the page
 * keeps it in the URL; arrow keys, the slider and a click on the map all change it
 * through `onStep`.
 */

import { convSumLines, fmt, poolSumLines, prefixLast } from '../core/format.js';
import { cellName } from '../view/equations.js';
import { layerDeriver, mapStep } from './mapstep.js';
import { greyCanvas, rangeOf, zoomed } from './maps.js';

/** Input maps shown in full; the others only by their partial sums. */
const FULL_CHANNELS = 4;

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

/**
 * A small table of numbers, (rows, cols), with a caption; with `edit`, each cell is a
 * number field and `edit(k, value)` gets a changed one.
 */
function numbers(caption, values, rows, cols, mark = () => '', edit = null, cls = '') {
  const table = el('table', `numbers small ${cls}`.trim());
  table.createCaption().textContent = caption;
  const body = table.createTBody();
  for (let r = 0; r < rows; r++) {
    const tr = body.insertRow();
    for (let c = 0; c < cols; c++) {
      const td = tr.insertCell();
      const k = r * cols + c;
      if (edit) {
        const input = el('input');
        input.type = 'number';
        input.step = '0.1';
        input.value = String(values[k]);
        input.setAttribute('aria-label', `${caption} ${r + 1}, ${c + 1}`);
        input.addEventListener('change', () => {
          const v = Number(input.value);
          if (input.value.trim() !== '' && Number.isFinite(v)) edit(k, v);
        });
        td.append(input);
        continue;
      }
      td.textContent = values[k] === null ? '·' : fmt(values[k]);
      const cls = mark(k);
      if (cls) td.className = cls;
    }
  }
  return table;
}

export class StepView {
  /**
   * @param {HTMLElement} root @param {() => Function} t the current translator
   * @param {(step: number) => void} onStep @param {() => void} onClose
   */
  constructor(root, t, onStep, onClose) {
    this.root = root;
    this.t = t;
    this.onStep = onStep;
    this.onClose = onClose;
    this.spec = null;
    this.step = 0;
  }

  /** Cells of the open map. */
  get count() {
    const [, H, W] = this.shape();
    return H * W;
  }

  shape() {
    const o = this.spec.output;
    return [o.length, o[0].length, o[0][0].length];
  }

  /**
   * @param {{kind: 'conv' | 'pool' | 'act', title: string, geometry: object, input: number[][][],
   *   output: number[][][], q: number, weight?: number[][][][], bias?: number[] | null,
   *   indices?: number[][][] | null, fn?: string, extras?: (step: number) => HTMLElement[],
   *   onEdit?: (m: number, i: number, j: number, v: number) => void}} spec  onEdit: the kernel
   *   is typed in; extras: links and buttons under the work (the main page, the GIF)
   */
  show(spec, step) {
    const was = this.spec;
    if (!was || ['geometry', 'input', 'weight', 'bias', 'indices'].some((k) => spec[k] !== was[k])) {
      // One deriver per opened map (its tensors flattened once); each step is O(taps).
      this.deriver = layerDeriver(spec.geometry, { input: spec.input, weight: spec.weight, bias: spec.bias, indices: spec.indices });
    }
    this.spec = spec;
    this.step = Math.max(0, Math.min(step, this.count - 1));
    this.root.hidden = false;
    this.render();
  }

  hide() {
    this.spec = null;
    this.root.hidden = true;
    this.root.replaceChildren();
  }

  go(step) {
    const n = Math.max(0, Math.min(step, this.count - 1));
    if (n !== this.step) this.onStep(n);
  }

  render() {
    const t = this.t();
    const s = this.spec;
    const [, H, W] = this.shape();
    const y = Math.floor(this.step / W);
    const x = this.step % W;
    const value = s.output[s.q][y][x];
    const head = el('div', 'step-head');
    const title = el('h2', null, s.title);
    title.id = 'step-title';
    const close = el('button', 'step-close', t('lab.step.close'));
    close.type = 'button';
    close.addEventListener('click', () => this.onClose());
    head.append(title, close);

    const nav = el('div', 'step-nav');
    const prev = el('button', null, '←');
    prev.type = 'button';
    prev.setAttribute('aria-label', t('player.back'));
    prev.addEventListener('click', () => this.go(this.step - 1));
    const next = el('button', null, '→');
    next.type = 'button';
    next.setAttribute('aria-label', t('player.forward'));
    next.addEventListener('click', () => this.go(this.step + 1));
    const slider = el('input');
    slider.type = 'range';
    slider.min = '0';
    slider.max = String(this.count - 1);
    slider.value = String(this.step);
    slider.setAttribute('aria-label', t('lab.step.slider'));
    slider.addEventListener('input', () => this.go(Number(slider.value)));
    const status = el('p', 'step-status', t('lab.step.status', { y, x, n: this.step + 1, total: this.count, v: fmt(value) }));
    status.setAttribute('aria-live', 'polite');
    status.id = 'step-status';
    nav.append(prev, slider, next, status);

    // The map itself, the cell outlined; click or arrow keys to move.
    const [lo, hi] = rangeOf(s.output);
    const mapCanvas = zoomed(greyCanvas(s.output[s.q], lo, hi), 160, [y, y, x, x]);
    mapCanvas.tabIndex = 0;
    mapCanvas.className = 'step-map';
    mapCanvas.setAttribute('role', 'img');
    mapCanvas.setAttribute('aria-label', t('lab.step.map', { h: H, w: W }));
    mapCanvas.addEventListener('click', (e) => {
      const r = mapCanvas.getBoundingClientRect();
      const cy = Math.floor(((e.clientY - r.top) / r.height) * H);
      const cx = Math.floor(((e.clientX - r.left) / r.width) * W);
      this.go(cy * W + cx);
    });
    mapCanvas.addEventListener('keydown', (e) => {
      const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -W, ArrowDown: W, Home: -this.step, End: this.count };
      if (!(e.key in moves)) return;
      e.preventDefault();
      this.go(this.step + moves[e.key]);
    });
    const mapFig = el('figure', 'step-fig');
    mapFig.append(mapCanvas, el('figcaption', null, t('lab.step.thisMap')));

    const body = el('div', 'step-body');
    body.append(mapFig);
    const work = el('div', 'step-work');
    if (s.kind === 'conv') this.convWork(work, t, y, x);
    else if (s.kind === 'pool') this.poolWork(work, t, y, x);
    else this.actWork(work, t, value);
    if (s.extras) work.append(...s.extras(this.step));
    body.append(work);
    const focused = this.root.contains(document.activeElement) ? document.activeElement.className : null;
    this.root.replaceChildren(head, nav, body);
    // Keep the keyboard where it was across a redraw.
    if (focused === 'step-map') mapCanvas.focus();
    else if (document.activeElement === document.body && focused !== null) slider.focus();
  }

  /** The open cell's step, from derive (model/derive.js). */
  derived() {
    return mapStep(this.deriver, this.spec.geometry, this.spec.q, this.step);
  }

  convWork(work, t, y, x) {
    const s = this.spec;
    const g = s.geometry;
    const d = this.derived();
    const raw = this.deriver.step(this.spec.q * this.count + this.step);
    const [kH, kW] = g.kernel_size;
    const [lo, hi] = rangeOf(s.input);
    const spaced = this.deriver.spaced;
    const maps = el('div', 'step-chans');
    d.channels.forEach((ch, m) => {
      if (m >= FULL_CHANNELS) return;
      const box = el('div', 'step-chan');
      const pic = zoomed(greyCanvas(s.input[ch.c], lo, hi), 96, d.box, spaced ? ch.cells.filter((_, k) => ch.onInput[k]) : null);
      pic.setAttribute('role', 'img');
      pic.setAttribute('aria-label', t('lab.step.inputMap', { c: ch.c + 1 }));
      box.append(el('h3', null, t('lab.step.inputMap', { c: ch.c + 1 })), pic);
      const row = el('div', 'step-tables');
      const pad = (k) => (ch.onInput[k] ? '' : 'off');
      row.append(
        numbers(t('lab.step.window'), ch.values, kH, kW, pad, null, 'step-window'),
        numbers(t('lab.step.kernel'), ch.weights, kH, kW, () => '', s.onEdit ? (k, v) => s.onEdit(m, Math.floor(k / kW), k % kW, v) : null, 'step-kernel'),
        numbers(t('lab.step.products'), ch.products, kH, kW, pad, null, 'step-products'),
      );
      box.append(row, el('p', 'step-partial', t('lab.step.partial', { c: ch.c + 1, v: fmt(ch.partial) })));
      maps.append(box);
    });
    work.append(maps);
    if (d.channels.length > FULL_CHANNELS) {
      const list = el('p', 'step-partials');
      list.textContent = t('lab.step.partials', { list: d.channels.map((ch) => `${ch.c + 1}: ${fmt(ch.partial)}`).join(', ') });
      work.append(list);
    }
    // The main page's worked sum, channel by channel, then the total and the bias.
    const lines = el('div', 'step-lines');
    lines.setAttribute('aria-hidden', 'true'); // the total below says it in words
    // Named as the main page names it: O₂₃, counted from 1 (view/equations.js).
    const name = `${cellName('O', s.q, y, x, s.output.length > 1)} = `;
    for (const line of prefixLast(convSumLines(raw, t), name, t('sum.total'))) lines.append(el('p', 'step-line', line));
    work.append(lines);
    work.append(el('p', 'step-sum', t('lab.step.total', { n: d.channels.length, sum: fmt(d.sum), b: fmt(d.bias ?? 0), r: fmt(d.result), v: fmt(s.output[s.q][y][x]) })));
  }

  poolWork(work, t, y, x) {
    const s = this.spec;
    const g = s.geometry;
    const d = this.derived();
    const raw = this.deriver.step(this.spec.q * this.count + this.step);
    const ch = d.channels[0];
    const [kH, kW] = g.kernel_size;
    const [lo, hi] = rangeOf(s.input);
    const box = el('div', 'step-chan');
    const pic = zoomed(greyCanvas(s.input[s.q], lo, hi), 96, d.box);
    pic.setAttribute('role', 'img');
    pic.setAttribute('aria-label', t('lab.step.inputMap', { c: s.q + 1 }));
    box.append(el('h3', null, t('lab.step.inputMap', { c: s.q + 1 })), pic);
    const mark = (k) => (k === d.argmax ? 'win' : ch.counted[k] ? '' : 'off');
    box.append(numbers(t('lab.step.window'), ch.values.map((v, k) => (ch.counted[k] ? v : null)), kH, kW, mark, null, 'step-window'));
    work.append(box);
    const max = g.op === 'max_pool2d';
    const lines = el('div', 'step-lines');
    lines.setAttribute('aria-hidden', 'true');
    for (const line of poolSumLines(raw, max ? 'max' : 'avg', t)) lines.append(el('p', 'step-line', line));
    work.append(lines);
    work.append(el('p', 'step-sum', t(max ? 'lab.step.max' : 'lab.step.mean', { r: fmt(d.result), n: d.divisor, v: fmt(s.output[s.q][y][x]) })));
  }

  actWork(work, t, value) {
    const d = this.derived();
    work.append(el('p', 'step-sum', t('lab.step.act', { fn: this.spec.fn, a: fmt(d.channels[0].values[0]), b: fmt(value) })));
  }
}
