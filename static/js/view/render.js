/**
 * The one render path: frame = f(model, step, hover).
 *
 * A model (built once per answer: `buildModel` here for the forward pass,
 * backward.js's for the backward one) is a list of grids and a list of stages.
 * A stage says which grids its steps fill (`outs`), which grid its window reads
 * (`src`) and how to describe its step n (`describe`). `describeFrame` says, for
 * one step and one hover target, what every grid shows (pure: tested in Node);
 * `Stage` draws a description. Play, step, scrub, hover and keyboard focus all end
 * in the same `Stage.draw(describeFrame(...))`; with nothing hovered the frame is
 * drawn as if the animated cell were hovered (ezyang's trick), so there is no
 * second copy of the frame logic to drift out of step.
 */

import { LOOK, gridKind, paletteOf, pictureRange, scaleFor } from './colormap.js';
import { cellName } from './equations.js';
import { activationLine, convSumLines, fmt, poolSumLines, prefixLast } from '../core/format.js';
import { transposedWeight } from '../core/api.js';
import { GridView } from './gridview.js';
import { shapeOf } from '../core/tensor.js';
import { derive } from '../model/correlate.js';
import { locate, totalSteps } from '../core/trace.js';

/** @param {number[][]} g */
export function flat2d(g) {
  const rows = g.length;
  const cols = rows ? g[0].length : 0;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(g[r], r * cols);
  return { values: out, rows, cols };
}

/**
 * A non-negative input with values past 1 is a picture (pixels 0..255, an
 * upload or the byte scheme): drawn in grey from black at 0 to white at 255.
 */
export function pictureScale(scale) {
  return scale.kind === 'sequential' && scale.max > 1 ? { kind: 'grey', min: 0, max: Math.max(255, scale.max) } : scale;
}

export function scaleOf(channels, kind = null) {
  return scaleFor((function* all() {
    for (const ch of channels) yield* ch.values;
  })(), kind);
}

/**
 * How a model's grids are drawn: the input's value scheme (state.js `sch`; unknown:
 * its values decide), the activation and its slope (which fix the palettes of the
 * maps after it, colormap.js gridKind), and `heat`, the page's "show pictures as
 * heat maps" switch.
 * @typedef {{scheme?: string, activation?: string, slope?: number, heat?: boolean}} Look
 */

/**
 * Whether an input (its grid's channels) is a picture: the byte scheme, or, with
 * no scheme given, non-negative values past 1 (pixels 0..255).
 * @param {Look} look
 */
export function isPicture(channels, look = {}) {
  const kind = gridKind('input', look);
  return kind === 'grey' || (kind === null && pictureScale(scaleOf(channels)).kind === 'grey');
}

/**
 * The scale of an input grid: a picture in grey from black at 0 to white at
 * 255, or, with three channels (`rgb` allowed), in its true colours; on the
 * heat map's sequential palette when `look.heat`; a lecture input on its
 * scheme's palette.
 */
export function inputScale(channels, look = {}, rgb = false) {
  const kind = gridKind('input', look);
  if (!isPicture(channels, look)) return kind ? scaleOf(channels, kind) : scaleOf(channels);
  if (look.heat) return scaleOf(channels, 'sequential');
  const max = Math.max(255, scaleOf(channels, 'sequential').max);
  return { kind: rgb && channels.length === 3 ? 'rgb' : 'grey', min: 0, max };
}

/**
 * The scale of a map of the forward pass (output, act, pool): its kind fixed
 * per grid (colormap.js gridKind); over a picture, a picture itself (grey,
 * clamped to pictureRange), unless the heat-map switch is on.
 * @param {Look & {picture?: boolean}} look
 */
export function mapScale(id, channels, look = {}) {
  const range = look.picture && !look.heat ? pictureRange(id, look.activation, look.slope) : null;
  if (range) return { kind: 'grey', min: range[0], max: range[1] };
  const kind = gridKind(id, look);
  return kind ? scaleOf(channels, kind) : scaleOf(channels);
}

/**
 * A stage whose steps slide a window over the grid `src` (a convolution, a
 * pooling, or a gradient computed as one), each step derived when it is shown.
 * @param {object} o
 * @param {string} o.stage id; `o.label` its name's locale key
 * @param {object | null} o.steps the deriver (model/derive.js), null: no answer
 * @param {string} o.src grid the window reads; `o.offset` = deriver grid - view cell
 * @param {string[]} o.outs grids whose cells the steps fill, in step order
 * @param {object} [o.kernel] the kernel grid, its channels dimmed when
 *   `o.dim(channel, outChannel)` says they take no part in the step
 * @param {string} [o.products] grid that shows the step's products, one block per kernel channel
 * @param {(s: object, t: Function) => string[]} [o.lines] the worked sum of step s (default: convSumLines)
 * @param {(s: object) => string[]} [o.more] lines after it
 */
export function windowStage(o) {
  const d = o.steps;
  const [oy, ox] = o.offset || [0, 0];
  // describeFrame asks for the step it shows once per frame; hover and play ask
  // for the same one again and again.
  let last = null;
  const stepOf = (n) => (last && last.n === n ? last.s : (last = { n, s: d.step(n) }).s);
  return {
    stage: o.stage,
    label: o.label,
    section: o.section,
    count: d ? d.count : 0,
    shape: d ? d.outShape : null,
    steps: d,
    src: o.src,
    offset: o.offset,
    outs: o.outs,
    products: o.products,
    describe(n, mark, t) {
      const s = stepOf(n);
      const [oc, r, c] = s.out;
      // A window of thousands of taps (dE/dW of a photo) gets no "×w" labels: none would fit.
      const subs = s.weights && s.cells.length <= 400;
      s.cells.forEach(([ch, gr, gc], k) => {
        if (!s.mask[k]) return;
        const m = mark(`${o.src}:${ch}`);
        (m.taps ??= []).push([gr - oy, gc - ox]);
        if (subs) (m.subs ??= []).push([gr - oy, gc - ox, `×${fmt(s.weights[k])}`]);
        if (s.argmax === k) m.winner = [gr - oy, gc - ox];
      });
      for (const b of d.windowBoxes(n)) {
        const m = mark(`${o.src}:${b.channel}`);
        (m.boxes ??= []).push([b.r0 - oy, b.c0 - ox, b.r1 - oy, b.c1 - ox]);
        // With dilation the window's box holds cells it skips: mark each tap too.
        m.spaced = d.spaced;
      }
      if (o.kernel && o.kernel.channels.length > 1) o.kernel.channels.forEach((k, i) => {
        if (o.dim(k, oc)) mark(`${o.kernel.id}:${i}`).dim = true;
      });
      for (const id of o.outs) mark(`${id}:${oc}`).current = [r, c];
      let products = null;
      if (o.products && s.products) {
        const per = d.kernelShape[0] * d.kernelShape[1];
        products = [];
        for (let j = 0; j * per < s.products.length; j++) products.push(Float64Array.from(s.products.slice(j * per, (j + 1) * per)));
      }
      const lines = o.lines ? o.lines(s, t) : convSumLines(s, t);
      if (o.more) lines.push(...o.more(s));
      return { products, lines };
    },
  };
}

/**
 * Grids and stages of the forward pass, for one set of answers.
 * @param {object} o
 * @param {number[][][]} o.input (C, H, W) as the state holds it
 * @param {number[][][][]} o.weight (C_out, C_in/groups, kH, kW), as sent
 * @param {number[] | null} [o.bias] as sent
 * @param {object | null} o.conv conv2d answer (null: none yet, or it failed)
 * @param {object | null} o.act activation answer
 * @param {object | null} o.pool pooling answer
 * @param {string} o.activation "none" or the function's name
 * @param {string} o.poolKind "none", "max" or "avg"
 * @param {string} [o.scheme] the input's value scheme (state.js `sch`)
 * @param {number} [o.slope] LeakyReLU's negative slope
 * @param {boolean} [o.heat] pictures as heat maps (default: the page's switch, colormap.js LOOK)
 */
export function buildModel({ input, weight, bias = null, conv, act, pool, activation = 'none', poolKind = 'none', scheme, slope = 0.01, heat = LOOK.heat }) {
  const look = { scheme, activation, slope, heat };
  const geo = conv && conv.geometry;
  // Transposed: the window slides over the input spread out by the stride and
  // padded ("tin"), with each filter turned 180 degrees (model/gradients.js).
  const transposed = !!geo && geo.op === 'conv_transpose2d';
  const d = !geo ? null : transposed
    ? derive(geo.op, geo, { input, weight: transposedWeight(weight, geo.groups), bias })
    : derive('conv2d', geo, { input, weight, bias });
  const grids = [inputGrid(input, transposed ? null : d, 'input', look), kernelGrid('kernel', weight, { noTable: true })];
  look.picture = isPicture(grids[0].channels, look);
  if (transposed) {
    const channels = gridChannels(d);
    const [r0, c0] = d.gridOrigin;
    const [, H, W] = shapeOf(input);
    const inner = { r0, c0, rows: (H - 1) * geo.stride[0] + 1, cols: (W - 1) * geo.stride[1] + 1 };
    for (const ch of channels) ch.inner = inner.rows !== ch.rows || inner.cols !== ch.cols ? inner : null;
    grids.splice(1, 0, { id: 'tin', channels, scale: inputScale(channels, look) });
  }
  const [kH, kW] = shapeOf(weight).slice(2);
  if (d) grids.push(productsGrid('products', shapeOf(weight)[1], kH, kW, d));

  const mapGrid = (id, t3) => {
    const channels = t3.map(flat2d);
    return { id, channels, scale: mapScale(id, channels, look), label: 'filter' };
  };
  // The convolution's output may be signed: one diverging palette, centred on 0
  // (over a picture, a picture: grey, clamped to 0..255).
  if (conv) grids.push(mapGrid('output', conv.output));
  const actOn = !!act && activation !== 'none';
  if (actOn) grids.push(mapGrid('act', act.output));
  const poolOn = !!pool && poolKind !== 'none';
  if (poolOn) grids.push(mapGrid('pool', pool.output));

  const kernel = grids.find((g) => g.id === 'kernel');
  // The step's sum opens with the cell's name, counted from 1 as in the formulas (equations.js).
  const outName = (s) => `${cellName(actOn ? 'Z' : 'O', s.out[0], s.out[1], s.out[2], (conv ? conv.output.length : 1) > 1)} = `;
  const stages = [windowStage({
    stage: 'conv',
    steps: d,
    src: transposed ? 'tin' : 'input',
    outs: actOn ? ['output', 'act'] : ['output'],
    kernel,
    dim: (k, o) => k.o !== o,
    products: 'products',
    lines: (s, t) => prefixLast(convSumLines(s, t), outName(s), t('sum.total')),
    more: actOn ? (s) => [activationLine(activation, s.result, act.output[s.out[0]][s.out[1]][s.out[2]])] : null,
  })];
  if (poolOn) {
    // model/pool.js is loaded with the pooling's answer (pipeline.js).
    const pd = pool.geometry ? derive(`${poolKind}_pool2d`, pool.geometry, { input: actOn ? act.output : conv.output, indices: pool.indices }) : null;
    stages.push(windowStage({
      stage: 'pool',
      steps: pd,
      src: actOn ? 'act' : 'output',
      offset: pd ? pd.gridOrigin : [0, 0],
      outs: ['pool'],
      lines: (s, t) => poolSumLines(s, poolKind, t),
    }));
  }
  return { grids, stages, total: totalSteps(stages) };
}

/** A deriver's grid as views' channels ({values, rows, cols}), cell by cell. */
export function gridChannels(d) {
  const [C, H, W] = d.gridShape;
  return Array.from({ length: C }, (_, c) => {
    const values = new Float64Array(H * W);
    for (let r = 0; r < H; r++) for (let col = 0; col < W; col++) values[r * W + col] = d.gridValue(c, r, col);
    return { values, rows: H, cols: W };
  });
}

/**
 * The input as the window sees it: the padded grid of deriver `d` (when it
 * fits), with the state's own numbers inside it (so a painted cell shows before
 * the server has answered); `inner` marks where the input sits.
 */
export function inputGrid(input, d, id = 'input', look = {}) {
  const [C, H, W] = shapeOf(input);
  let channels;
  const fits = d && d.gridShape[0] === C && d.gridShape[1] >= d.gridOrigin[0] + H && d.gridShape[2] >= d.gridOrigin[1] + W;
  if (fits) {
    const [r0, c0] = d.gridOrigin;
    channels = gridChannels(d).map((ch, c) => {
      for (let r = 0; r < H; r++) ch.values.set(input[c][r], (r + r0) * ch.cols + c0);
      // `inner`: null when there is no padding to set apart.
      ch.inner = ch.rows !== H || ch.cols !== W ? { r0, c0, rows: H, cols: W } : null;
      return ch;
    });
  } else {
    channels = input.map(flat2d);
  }
  // A colour photo is one true-colour picture (its channels stay in the tables
  // and, with the heat-map switch, three maps).
  const scale = inputScale(channels, look, true);
  return { id, channels, editable: id === 'input', scale, rgb: scale.kind === 'rgb' };
}

/** A weight-shaped tensor (C_out, C_in/groups, kH, kW), one small view per (filter, channel). */
export function kernelGrid(id, weight, extra = {}) {
  const channels = [];
  weight.forEach((filter, o) => filter.forEach((k, c) => channels.push({ ...flat2d(k), o, c })));
  const [cOut, cG] = shapeOf(weight);
  // Weights are signed: diverging, whatever today's kernel holds.
  return { id, channels, scale: scaleOf(channels, 'diverging'), cOut, cG, small: true, label: 'filterChannel', ...extra };
}

/** The products of the current step, one kH x kW block per channel the window reads. */
export function productsGrid(id, channels, kH, kW, d) {
  const chans = [];
  for (let c = 0; c < channels; c++) chans.push({ values: new Float64Array(kH * kW), rows: kH, cols: kW, c });
  return { id, channels: chans, scale: scaleFor(d.productRange(), 'diverging'), small: true, dynamic: true };
}

/**
 * What each view shows for one frame.
 * @param {{grids: object[], stages: object[]}} model
 * @param {number} step the player's step (global, over all stages)
 * @param {{grid: string, ch: number, r: number, c: number} | null} hover
 * @param {(key: string, params?: object) => string} t
 * @returns {{views: Record<string, object>, products: Float64Array[] | null, sum: string[],
 *   focus: {stage: string, n: number} | null, progress: {stage: string, n: number} | null}}
 */
export function describeFrame(model, step, hover, t) {
  const views = {};
  const mark = (id) => (views[id] ??= {});
  const { stages } = model;
  const progress = locate(step, stages);
  const gridOf = (id) => model.grids.find((g) => g.id === id);

  // The veil: cells the animation has not reached yet. Within the stage being
  // played, cells up to the step are done; a later stage has none done, an
  // earlier one all. A stage that fills its cells out of order says which are left.
  if (progress) {
    const at = stages.findIndex((s) => s.stage === progress.stage);
    stages.forEach((s, i) => {
      if (i < at) return;
      const n = i === at ? progress.n : -1;
      if (s.cover) {
        for (const [id, cells] of Object.entries(s.cover(n))) if (cells.length) mark(id).hide = cells;
        return;
      }
      for (const id of s.outs) {
        const g = gridOf(id);
        if (!g) continue;
        g.channels.forEach((ch, c) => {
          const per = ch.rows * ch.cols;
          const done = n - c * per;
          if (done < per - 1) mark(`${id}:${c}`).veil = Math.max(-1, done);
        });
      }
    });
  }

  let focus = progress;
  let sum = [];
  if (hover) {
    mark(`${hover.grid}:${hover.ch}`).cursor = [hover.r, hover.c];
    // The stage that fills the hovered cell shows how; the stages that read it
    // outline what it feeds.
    const owner = stages.find((s) => s.count && (s.outs.includes(hover.grid) || (s.hoverGrids || []).includes(hover.grid)));
    const readers = stages.filter((s) => s.steps && s.src === hover.grid);
    for (const s of readers) {
      const [oy, ox] = s.offset || [0, 0];
      const steps = s.steps.stepsReading(hover.ch, hover.r + oy, hover.c + ox);
      for (const n of steps) {
        const [o, r, c] = s.steps.outOf(n);
        for (const id of s.outs) (mark(`${id}:${o}`).fed ??= []).push([r, c]);
      }
      if (!owner) sum = [t('hover.feeds', { n: steps.length })];
    }
    if (owner) {
      const n = owner.stepAt ? owner.stepAt(hover) : owner.steps ? owner.steps.stepOfCell(hover.ch, hover.r, hover.c) : cellStep(gridOf(hover.grid), hover);
      focus = { stage: owner.stage, n };
    }
    else if (readers.length) focus = null;
  }
  if (focus && focus.n < 0) focus = null;

  let products = null;
  const s = focus && stages.find((x) => x.stage === focus.stage);
  if (s && s.describe && focus.n < s.count) ({ products, lines: sum } = s.describe(focus.n, mark, t));
  return { views, products, sum, focus, progress };
}

/** Row-major step of a hovered cell in a grid filled cell by cell. */
function cellStep(g, { ch, r, c }) {
  const x = g.channels[0];
  return ch * x.rows * x.cols + r * x.cols + c;
}
/** Escape text for HTML. */
function esc(s) {
  return String(s).replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]);
}

/** Most rows and columns a numeric table shows (a 256x256 photo would be 65k cells). */
export const TABLE_LIMIT = 64;
/** Past this many cells in all, the tables are written after the first frame. */
const TABLE_NOW = 4096;

/**
 * The numeric alternative of one grid: an HTML table named `name`, row and column
 * numbers as headers (like the deck's "Inputs (4, 4)" tables).
 * @param {{values: ArrayLike<number>, rows: number, cols: number, inner?: object | null}} ch
 */
export function tableHTML(name, ch, note = '') {
  const i = ch.inner || { r0: 0, c0: 0, rows: ch.rows, cols: ch.cols };
  const rows = Math.min(i.rows, TABLE_LIMIT);
  const cols = Math.min(i.cols, TABLE_LIMIT);
  let h = `<table class="numbers" aria-label="${esc(name)}">`;
  if (note) h += `<caption>${esc(note)}</caption>`;
  h += '<thead><tr><td></td>';
  // Rows and columns counted from 1, as the lecture and the formulas count.
  for (let c = 0; c < cols; c++) h += `<th scope="col">${c + 1}</th>`;
  h += '</tr></thead><tbody>';
  for (let r = 0; r < rows; r++) {
    h += `<tr><th scope="row">${r + 1}</th>`;
    const base = (r + i.r0) * ch.cols + i.c0;
    for (let c = 0; c < cols; c++) h += `<td>${fmt(ch.values[base + c])}</td>`;
    h += '</tr>';
  }
  return `${h}</tbody></table>`;
}

/** Legend: the palette as a gradient strip between the range's ends. */
function legendHTML(scale) {
  const p = paletteOf(scale);
  const stops = [0, 64, 128, 191, 255].map((i) => `rgb(${p[i * 4]},${p[i * 4 + 1]},${p[i * 4 + 2]})`);
  return `<span class="legend"><span>${esc(fmt(scale.min))}</span><span class="bar" style="background:linear-gradient(to right,${stops.join(',')})"></span><span>${esc(fmt(scale.max))}</span></span>`;
}

export { esc, legendHTML };

/**
 * Draws models and frames into the page: one figure per grid (a caption with the
 * size and the colour legend, one view per channel, the numeric tables). A model
 * with `sections` gets one titled row per section; small grids (kernels,
 * products) share a column between the big ones of their row.
 */
export class Stage {
  /**
   * @param {HTMLElement} root where the figures go
   * @param {HTMLElement} sumEl where the worked sum goes
   * @param {(ev: object) => void} onEvent pointer and key events, in cell coordinates
   */
  constructor(root, sumEl, onEvent) {
    this.root = root;
    this.sumEl = sumEl;
    this.onEvent = onEvent;
    /** @type {Map<string, import('./gridview.js').GridView>} */
    this.views = new Map();
    this.figs = new Map();
    this.rows = new Map(); // section id -> {el, head, grids, middle}
    this.t = (k) => k;
    this.lastSum = '';
    this.sumHeight = 0;
    this.tableTimer = 0;
    this.tableRun = 0; // tables being written one by one stop when a new model comes
    // The worked sum never shrinks while the model stays: a shorter one (a hover,
    // another step) would pull the grids up under the pointer, which would then
    // hover another cell. Observed, not measured per frame: reading offsetHeight
    // after writing the text would force a layout in every frame.
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(([entry]) => {
        const h = entry.borderBoxSize ? entry.borderBoxSize[0].blockSize : entry.target.offsetHeight;
        if (h > this.sumHeight + 0.5) {
          this.sumHeight = h;
          this.sumEl.style.minHeight = `${h}px`;
        }
      }).observe(sumEl);
    }
  }

  /** The container of a section's figures ('' : the root itself). */
  row(id) {
    let row = this.rows.get(id);
    if (row) return row;
    const middle = document.createElement('div');
    middle.className = 'middle';
    if (!id) row = { el: this.root, grids: this.root, middle };
    else {
      const el = document.createElement('section');
      el.className = 'gsec';
      el.dataset.section = id;
      el.innerHTML = '<h3></h3><p class="note"></p><div class="grids"></div>';
      row = { el, head: el.firstChild, note: el.children[1], grids: el.lastChild, middle };
    }
    this.rows.set(id, row);
    return row;
  }

  /**
   * Show a model: create, reuse or drop figures and views, set their data.
   * @param {{grids: object[], sections?: {id: string, title: string, note?: string}[]}} model
   * @param {(key: string, params?: object) => string} t
   * @param {{deferTables?: boolean}} [opts] painting defers the tables, which a
   *   64x64 grid makes costly, until the stroke pauses
   */
  setModel(model, t, { deferTables = false } = {}) {
    this.model = model;
    this.t = t;
    const keep = new Set();
    const rowsKept = new Set(['']);
    const placed = new Set();
    // `place` puts an element right after the last one placed in its parent this pass.
    const last = new Map();
    const place = (parent, el, key) => {
      const prev = last.get(key);
      const at = prev ? prev.nextSibling : parent.firstChild;
      if (at !== el) parent.insertBefore(el, at);
      last.set(key, el);
    };
    for (const s of model.sections || []) {
      const row = this.row(s.id);
      rowsKept.add(s.id);
      row.head.textContent = s.title;
      row.note.textContent = s.note || '';
      row.note.hidden = !s.note;
      place(this.root, row.el, this.root);
    }
    for (const [id, row] of this.rows) {
      if (!rowsKept.has(id)) {
        row.el.remove();
        this.rows.delete(id);
      }
    }
    for (const g of model.grids) {
      keep.add(g.id);
      const fig = this.figure(g.id);
      fig.title.textContent = t(g.title || `grid.${g.id}`);
      const ch0 = g.channels[0];
      const inner = ch0 && ch0.inner;
      const dims = ch0 ? `${inner ? inner.rows : ch0.rows}×${inner ? inner.cols : ch0.cols}` : '';
      const kernelDims = g.cOut * g.cG > 1 ? `${g.cOut}×${g.cG}×${dims}` : dims;
      fig.dims.textContent = g.cOut ? kernelDims : g.channels.length > 1 ? `${g.channels.length}×${dims}` : dims;
      fig.legend.innerHTML = g.rgb ? `<span class="legend">${esc(t('legend.rgb'))}</span>` : legendHTML(g.scale);
      // One view per channel (a colour picture: one view of its three channels);
      // ids are stable so hover and focus survive a recompute.
      const ids = new Set();
      (g.rgb ? g.channels.slice(0, 1) : g.channels).forEach((ch, i) => {
        const id = `${g.id}:${i}`;
        ids.add(id);
        let view = this.views.get(id);
        if (!view) {
          view = new GridView({ id, editable: !!g.editable, onEvent: (ev) => this.forward(ev) });
          const wrap = document.createElement('div');
          wrap.className = 'chan';
          const label = document.createElement('div');
          label.className = 'chan-label';
          wrap.append(label, view.el);
          view.wrap = wrap;
          view.label = label;
          this.views.set(id, view);
        }
        if (view.wrap.parentNode !== fig.chans || fig.chans.children[i] !== view.wrap) fig.chans.append(view.wrap);
        view.label.textContent = g.rgb ? t('grid.rgb') : this.channelLabel(g, ch, i);
        view.label.hidden = g.channels.length < 2;
        const name = g.rgb ? `${t(g.title || `grid.${g.id}`)}, ${t('grid.rgb')}` : this.tableName(g, ch, i);
        view.el.setAttribute('aria-label', t(g.editable ? 'grid.hintEdit' : 'grid.hint', { name, rows: ch.rows, cols: ch.cols }));
        view.name = name;
        view.setData(ch.values, ch.rows, ch.cols, g.scale, ch.inner || null, g.rgb ? g.channels.map((x) => x.values) : null);
      });
      for (const [id, view] of this.views) {
        if (id.startsWith(`${g.id}:`) && !ids.has(id)) {
          view.wrap.remove();
          this.views.delete(id);
        }
      }
      // Small grids (kernels, products) share a column between the big ones;
      // figures go in model order, moved only when out of place (moving a node
      // would take the keyboard focus from a grid being painted).
      const row = this.row(g.section || '');
      if (g.small) {
        if (!placed.has(row)) place(row.grids, row.middle, row);
        placed.add(row);
        place(row.middle, fig.el, row.middle);
      } else place(row.grids, fig.el, row);
    }
    for (const [id, fig] of this.figs) {
      if (!keep.has(id)) {
        fig.el.remove();
        this.figs.delete(id);
        for (const vid of [...this.views.keys()]) if (vid.startsWith(`${id}:`)) this.views.delete(vid);
      }
    }
    this.lastSum = null; // redraw the sum even when the new one is empty
    if (this.modelShape !== modelShape(model)) {
      this.modelShape = modelShape(model);
      this.sumHeight = 0;
      this.sumEl.style.minHeight = '';
    }
    // Sized before the tables go in: laying out thousands of table cells (16 maps
    // of 62x62) took seconds when the sizing read the layout with them in it. Many
    // cells are written after the first frame, a table a task, so that an answer
    // arriving meanwhile is drawn at once.
    this.layout();
    clearTimeout(this.tableTimer);
    const cells = model.grids.reduce((a, g) => a + (g.noTable ? 0 : g.channels.reduce((b, ch) => b + ch.rows * ch.cols, 0)), 0);
    if (deferTables) this.tableTimer = setTimeout(() => this.renderTables(), 250);
    else if (cells > TABLE_NOW) {
      const mine = ++this.tableRun;
      requestAnimationFrame(() => mine === this.tableRun && this.renderTables(true));
    } else this.renderTables();
  }

  channelLabel(g, ch, i) {
    if (g.names) return g.names[i];
    if (g.label === 'filterChannel') return this.t('grid.filterChannel', { o: ch.o + 1, c: ch.c + 1 });
    if (g.label === 'filter') return this.t('grid.filter', { n: i + 1 });
    return this.t('grid.channel', { n: (ch.c ?? i) + 1 });
  }

  /** The accessible name of a channel's table: "Input", or "Input, channel 2". */
  tableName(g, ch, i) {
    const base = this.t(g.title || `grid.${g.id}`);
    return g.channels.length > 1 ? `${base}, ${this.channelLabel(g, ch, i)}` : base;
  }

  figure(id) {
    let fig = this.figs.get(id);
    if (fig) return fig;
    const el = document.createElement('figure');
    el.className = `fig fig-${id}`;
    el.dataset.grid = id;
    el.innerHTML = '<figcaption><span class="title"></span> <span class="dims"></span> <span class="lg"></span></figcaption><div class="chans"></div><div class="tables"></div>';
    fig = {
      el,
      title: el.querySelector('.title'),
      dims: el.querySelector('.dims'),
      legend: el.querySelector('.lg'),
      chans: el.querySelector('.chans'),
      tables: el.querySelector('.tables'),
    };
    this.figs.set(id, fig);
    return fig;
  }

  /** The numeric tables (the forward kernel's are its editor, in the settings); `oneByOne`: a table a task. */
  renderTables(oneByOne = false) {
    if (!this.model) return;
    const jobs = [];
    for (const g of this.model.grids) {
      const fig = this.figs.get(g.id);
      if (!fig || g.noTable) continue;
      if (!oneByOne) fig.tables.innerHTML = g.channels.map((ch, i) => this.channelTable(g, ch, i)).join('');
      else {
        fig.tables.replaceChildren();
        g.channels.forEach((ch, i) => jobs.push(() => fig.tables.insertAdjacentHTML('beforeend', this.channelTable(g, ch, i))));
      }
    }
    const mine = ++this.tableRun;
    const next = () => {
      if (mine !== this.tableRun || !jobs.length) return;
      jobs.shift()();
      this.tableTimer = setTimeout(next, 0);
    };
    next();
  }

  channelTable(g, ch, i) {
    const inner = ch.inner || { rows: ch.rows, cols: ch.cols };
    const cut = inner.rows > TABLE_LIMIT || inner.cols > TABLE_LIMIT;
    const note = cut
      ? this.t('table.note', { rows: Math.min(inner.rows, TABLE_LIMIT), cols: Math.min(inner.cols, TABLE_LIMIT), h: inner.rows, w: inner.cols })
      : '';
    return tableHTML(this.tableName(g, ch, i), ch, note);
  }

  /**
   * Fit the views to the space there is. The big maps of a row share one cell
   * size, so a window and the cell it makes look alike; on a wide screen they
   * share one row (the small grids' column between them), on a phone each gets
   * the width. Kernels and products stay small.
   */
  layout() {
    if (!this.model) return;
    const width = Math.max(240, this.root.clientWidth || 800);
    const narrow = width < 640;
    const size = (g) => [g.channels[0].rows, g.channels[0].cols];
    const top = this.root.getBoundingClientRect().top + (typeof scrollY === 'number' ? scrollY : 0);
    const viewH = typeof innerHeight === 'number' ? innerHeight : 800;
    // Tall enough for the first channel of each map below the controls above it
    // (a page of sections scrolls: each row gets most of the window).
    const maxH = narrow ? 440 : this.model.sections ? Math.max(220, viewH * 0.62) : Math.max(220, viewH - Math.min(top, viewH / 2) - 48);
    const cells = new Map();
    const rowsOf = new Map();
    for (const g of this.model.grids) {
      if (g.small || !g.channels.length) continue;
      const key = g.section || '';
      if (!rowsOf.has(key)) rowsOf.set(key, []);
      rowsOf.get(key).push(g);
    }
    // Small grids first, a 3x3 at 30 px a cell, big ones down to 16 px (numbers
    // from 18); then the big maps of each row share what their column leaves.
    const smallBox = (g) => g.box || Math.min(240, Math.max(120, 22 * Math.max(...size(g))));
    const bigIds = new Set([...rowsOf.values()].flat().map((g) => g.id));
    for (const [id, view] of this.views) {
      if (bigIds.has(grid(id))) continue;
      const g = this.model.grids.find((x) => x.id === grid(id));
      const box = g && g.channels.length ? smallBox(g) : 150;
      view.fit([box, box, 30]);
    }
    for (const [key, big] of rowsOf) {
      let cell;
      if (narrow) cell = Math.min(40, ...big.map((g) => (width - 8) / size(g)[1]));
      else {
        // The small grids' column is as wide as its widest caption: measured, once per model.
        const row = this.rows.get(key);
        const mid = row && row.middle.isConnected && row.middle.childElementCount ? row.middle.offsetWidth + 24 : 0;
        cell = Math.min(40, (width - 24 * big.length - mid) / big.reduce((a, g) => a + size(g)[1], 0));
      }
      cell = Math.min(cell, ...big.map((g) => maxH / size(g)[0]));
      for (const g of big) cells.set(g.id, cell);
    }
    for (const [id, view] of this.views) {
      const cell = cells.get(grid(id));
      if (cell !== undefined) view.fit([view.cols * cell || width, view.rows * cell || maxH, cell]);
    }
    this.lastSum = null;
  }

  forward(ev) {
    const [grid, ch] = ev.view.id.split(':');
    // A colour picture's one view stands for its three channels.
    const g = this.model && this.model.grids.find((x) => x.id === grid);
    this.onEvent({ ...ev, grid, ch: Number(ch), all: !!(g && g.rgb) });
  }

  /** Draw one frame description (see {@link describeFrame}). */
  draw(desc) {
    const model = this.model;
    const focused = model && desc.focus && model.stages.find((s) => s.stage === desc.focus.stage);
    const live = focused && desc.products ? focused.products : null;
    for (const g of model ? model.grids : []) {
      if (!g.dynamic) continue;
      const sig = g.id === live ? `${desc.focus.stage}:${desc.focus.n}` : '';
      if (g.sig === sig) continue;
      g.sig = sig;
      g.channels.forEach((ch, j) => {
        const view = this.views.get(`${g.id}:${j}`);
        ch.values = sig && desc.products[j] ? desc.products[j] : new Float64Array(ch.rows * ch.cols);
        if (view) view.setData(ch.values, ch.rows, ch.cols, g.scale, null);
      });
      const fig = this.figs.get(g.id);
      const table = () => fig && (fig.tables.innerHTML = g.channels.map((ch, i) => this.channelTable(g, ch, i)).join(''));
      // A big one (the products of dE/dW over a photo) waits until the steps pause.
      clearTimeout(g.timer);
      if (g.channels[0].values.length > 400) g.timer = setTimeout(table, 200);
      else table();
    }
    for (const [id, view] of this.views) {
      const g0 = model && model.grids.find((x) => x.id === grid(id));
      // A colour picture's one view shows the marks of its three channels.
      const m = g0 && g0.rgb ? mergeMarks(g0.channels.map((_, j) => desc.views[`${g0.id}:${j}`])) : desc.views[id] || {};
      const g = model && model.grids.find((x) => x.id === grid(id));
      if (g && g.dynamic && g.id !== live) m.dim = true;
      view.drawMarks(m);
    }
    const sum = desc.sum.join('\n');
    if (sum !== this.lastSum) {
      this.lastSum = sum;
      this.sumEl.replaceChildren(...desc.sum.map((line) => {
        const div = document.createElement('div');
        div.textContent = line;
        return div;
      }));
    }
  }
}

const grid = (id) => id.split(':')[0];

/**
 * The marks of several channels drawn on one view (a colour picture): each
 * list joined without repeats, the first channel's single marks kept.
 */
export function mergeMarks(list) {
  const out = {};
  for (const m of list) {
    if (!m) continue;
    for (const [k, v] of Object.entries(m)) {
      if (!Array.isArray(v) || !Array.isArray(v[0])) {
        if (!(k in out)) out[k] = v;
        continue;
      }
      const seen = new Set((out[k] ??= []).map((x) => x.join()));
      for (const x of v) if (!seen.has(x.join())) {
        seen.add(x.join());
        out[k].push(x);
      }
    }
  }
  // A cell's "×w" label: one weight per cell, or none where the channels weigh it
  // differently (three labels on one cell would cover each other; the products
  // grid shows each channel's).
  if (out.subs) {
    const texts = new Map();
    for (const [r, c, text] of out.subs) texts.set(`${r},${c}`, texts.has(`${r},${c}`) ? null : text);
    out.subs = [...texts].filter(([, text]) => text !== null).map(([at, text]) => [...at.split(',').map(Number), text]);
  }
  return out;
}

/** What decides how long a worked sum is: the grids and their sizes. */
function modelShape(model) {
  return model.grids.map((g) => `${g.id}:${g.channels.length}:${g.channels[0] ? g.channels[0].rows : 0}`).join(',');
}
