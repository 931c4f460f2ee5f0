/**
 * The one render path: frame = f(model, step, hover).
 *
 * `buildModel` turns the API's answers into grids (once per answer);
 * `describeFrame` says, for one step and one hover target, what every grid shows
 * (pure: tested in Node); `Stage` draws a description. Play, step, scrub, hover and
 * keyboard focus all end in the same `Stage.draw(describeFrame(...))`; with nothing
 * hovered the frame is drawn as if the animated cell were hovered (ezyang's trick),
 * so there is no second copy of the frame logic to drift out of step.
 */

import { DIVERGING, SEQUENTIAL, scaleFor } from './colormap.js';
import { activationLine, convSumLines, fmt, poolSumLines } from './format.js';
import { GridView } from './gridview.js';
import { shapeOf } from './tensor.js';
import { locate, stepOfCell, stepsReading, totalSteps, windowBoxes } from './trace.js';

/** @param {number[][]} g */
function flat2d(g) {
  const rows = g.length;
  const cols = rows ? g[0].length : 0;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(g[r], r * cols);
  return { values: out, rows, cols };
}

function scaleOf(channels) {
  return scaleFor((function* all() {
    for (const ch of channels) yield* ch.values;
  })());
}

/**
 * Grids and traces for one set of answers.
 * @param {object} o
 * @param {number[][][]} o.input (C, H, W) as the state holds it
 * @param {number[][][][]} o.weight (C_out, C_in/groups, kH, kW)
 * @param {object | null} o.conv conv2d answer (null: none yet, or it failed)
 * @param {object | null} o.act activation answer
 * @param {object | null} o.pool pooling answer
 * @param {string} o.activation "none" or the function's name
 * @param {string} o.poolKind "none", "max" or "avg"
 */
export function buildModel({ input, weight, conv, act, pool, activation = 'none', poolKind = 'none' }) {
  const [C, H, W] = shapeOf(input);
  const [cOut, cG, kH, kW] = shapeOf(weight);
  const trace = conv && conv.trace;
  const grids = [];

  // Input: the padded grid the window slides over, with the state's own numbers
  // inside it (so a painted cell shows before the server has answered).
  let inputChannels;
  const fits = trace && trace.grid.length === C && trace.grid[0].length >= trace.grid_origin[0] + H &&
    trace.grid[0][0].length >= trace.grid_origin[1] + W;
  if (fits) {
    const [r0, c0] = trace.grid_origin;
    inputChannels = trace.grid.map((g, c) => {
      const ch = flat2d(g);
      for (let r = 0; r < H; r++) ch.values.set(input[c][r], (r + r0) * ch.cols + c0);
      // `inner`: where the input sits; null when there is no padding to set apart.
      ch.inner = ch.rows !== H || ch.cols !== W ? { r0, c0, rows: H, cols: W } : null;
      return ch;
    });
  } else {
    inputChannels = input.map(flat2d);
  }
  grids.push({ id: 'input', channels: inputChannels, editable: true, scale: scaleOf(inputChannels) });

  const kernelChannels = [];
  weight.forEach((filter, o) => filter.forEach((k, c) => kernelChannels.push({ ...flat2d(k), o, c })));
  grids.push({ id: 'kernel', channels: kernelChannels, scale: scaleOf(kernelChannels), cOut, cG });

  if (trace && trace.products) {
    const chans = [];
    for (let c = 0; c < cG; c++) chans.push({ values: new Float64Array(kH * kW), rows: kH, cols: kW, c });
    const scale = scaleFor(trace.products.flat());
    grids.push({ id: 'products', channels: chans, scale });
  }

  const convOut = conv ? conv.output.map(flat2d) : [];
  if (conv) grids.push({ id: 'output', channels: convOut, scale: scaleOf(convOut) });
  const actOut = act && activation !== 'none' ? act.output.map(flat2d) : null;
  if (actOut) grids.push({ id: 'act', channels: actOut, scale: scaleOf(actOut) });
  const poolOut = pool && poolKind !== 'none' ? pool.output.map(flat2d) : null;
  if (poolOut) grids.push({ id: 'pool', channels: poolOut, scale: scaleOf(poolOut) });

  const stages = [{ stage: 'conv', count: trace ? trace.out_index.length : 0 }];
  if (poolOut) stages.push({ stage: 'pool', count: pool.trace ? pool.trace.out_index.length : 0 });
  return {
    grids,
    conv,
    trace,
    act: actOut ? act : null,
    activation,
    pool: poolOut ? pool : null,
    poolKind,
    poolSource: actOut ? 'act' : 'output',
    stages,
    total: totalSteps(stages),
    kernel: [kH, kW],
    // With dilation the window's box holds cells it skips: mark each tap too.
    dilated: trace && trace.cells.length ? trace.cells[0].length < boxArea(trace) : false,
  };
}

function boxArea(trace) {
  return windowBoxes(trace, 0).reduce((a, b) => a + (b.r1 - b.r0 + 1) * (b.c1 - b.c0 + 1), 0);
}

/**
 * What each view shows for one frame.
 * @param {ReturnType<typeof buildModel>} model
 * @param {number} step the player's step (global, over all stages)
 * @param {{grid: string, ch: number, r: number, c: number} | null} hover
 * @param {(key: string, params?: object) => string} t
 * @returns {{views: Record<string, object>, products: Float64Array[] | null, sum: string[],
 *   focus: {stage: string, n: number} | null, progress: {stage: string, n: number} | null}}
 */
export function describeFrame(model, step, hover, t) {
  const views = {};
  const mark = (id) => (views[id] ??= {});
  const progress = locate(step, model.stages);
  const trace = model.trace;
  const poolTrace = model.pool && model.pool.trace;

  // The veil: output cells the animation has not reached yet. Within the stage
  // being played, cells up to the step are done; a later stage has none done, an
  // earlier one all.
  const order = (stage) => model.stages.findIndex((s) => s.stage === stage);
  const veil = (grid, stage) => {
    const g = model.grids.find((x) => x.id === grid);
    if (!g || !progress) return;
    g.channels.forEach((ch, i) => {
      const per = ch.rows * ch.cols;
      let done;
      if (progress.stage === stage) done = progress.n - i * per;
      else done = order(stage) > order(progress.stage) ? -1 : per;
      if (done < per - 1) mark(`${grid}:${i}`).veil = Math.max(-1, done);
    });
  };
  veil('output', 'conv');
  if (model.act) veil('act', 'conv');
  if (model.pool) veil('pool', 'pool');

  let focus = null;
  let sum = [];
  if (hover) mark(`${hover.grid}:${hover.ch}`).cursor = [hover.r, hover.c];
  if (hover && hover.grid === 'input') {
    if (trace) {
      const steps = stepsReading(trace, hover.ch, hover.r, hover.c);
      for (const n of steps) {
        const [o, r, c] = trace.out_index[n];
        (mark(`output:${o}`).fed ??= []).push([r, c]);
        if (model.act) (mark(`act:${o}`).fed ??= []).push([r, c]);
      }
      sum = [t('hover.feeds', { n: steps.length })];
    }
  } else if (hover && (hover.grid === 'output' || hover.grid === 'act') && trace) {
    focus = { stage: 'conv', n: stepOfCell(trace, hover.ch, hover.r, hover.c) };
    if (poolTrace && hover.grid === model.poolSource) {
      const [oy, ox] = poolTrace.grid_origin;
      for (const n of stepsReading(poolTrace, hover.ch, hover.r + oy, hover.c + ox)) {
        const [o, r, c] = poolTrace.out_index[n];
        (mark(`pool:${o}`).fed ??= []).push([r, c]);
      }
    }
  } else if (hover && hover.grid === 'pool' && poolTrace) {
    focus = { stage: 'pool', n: stepOfCell(poolTrace, hover.ch, hover.r, hover.c) };
  } else if (!hover || hover.grid === 'kernel' || hover.grid === 'products') {
    focus = progress;
  }
  if (focus && focus.n < 0) focus = null;

  let products = null;
  if (focus && focus.stage === 'conv' && trace) {
    const n = focus.n;
    const [o, r, c] = trace.out_index[n];
    trace.cells[n].forEach(([ch, gr, gc], k) => {
      const m = mark(`input:${ch}`);
      (m.taps ??= []).push([gr, gc]);
      if (trace.weights) (m.subs ??= []).push([gr, gc, `×${fmt(trace.weights[n][k])}`]);
    });
    for (const b of windowBoxes(trace, n)) {
      const m = mark(`input:${b.channel}`);
      (m.boxes ??= []).push([b.r0, b.c0, b.r1, b.c1]);
      m.spaced = model.dilated;
    }
    const kg = model.grids.find((g) => g.id === 'kernel');
    if (kg.cOut > 1) kg.channels.forEach((k, i) => {
      if (k.o !== o) mark(`kernel:${i}`).dim = true;
    });
    mark(`output:${o}`).current = [r, c];
    if (model.act) mark(`act:${o}`).current = [r, c];
    if (trace.products) {
      const [kH, kW] = model.kernel;
      const per = kH * kW;
      const cG = trace.products[n].length / per;
      products = [];
      for (let j = 0; j < cG; j++) products.push(Float64Array.from(trace.products[n].slice(j * per, (j + 1) * per)));
    }
    sum = convSumLines(trace, n, t);
    if (model.act) {
      const y = model.act.output[o][r][c];
      sum.push(activationLine(model.activation, trace.result[n], y));
    }
  } else if (focus && focus.stage === 'pool' && poolTrace) {
    const n = focus.n;
    const [oy, ox] = poolTrace.grid_origin;
    const src = model.poolSource;
    poolTrace.cells[n].forEach(([ch, gr, gc], k) => {
      if (poolTrace.mask && !poolTrace.mask[n][k]) return;
      const m = mark(`${src}:${ch}`);
      (m.taps ??= []).push([gr - oy, gc - ox]);
      if (poolTrace.argmax && poolTrace.argmax[n] === k) m.winner = [gr - oy, gc - ox];
    });
    for (const b of windowBoxes(poolTrace, n)) {
      (mark(`${src}:${b.channel}`).boxes ??= []).push([b.r0 - oy, b.c0 - ox, b.r1 - oy, b.c1 - ox]);
    }
    const [o, r, c] = poolTrace.out_index[n];
    mark(`pool:${o}`).current = [r, c];
    sum = poolSumLines(poolTrace, n, model.poolKind, t);
  }
  return { views, products, sum, focus, progress };
}

/** Escape text for HTML. */
function esc(s) {
  return String(s).replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]);
}

/** Most rows and columns a numeric table shows (a 256x256 photo would be 65k cells). */
export const TABLE_LIMIT = 64;

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
  for (let c = 0; c < cols; c++) h += `<th scope="col">${c}</th>`;
  h += '</tr></thead><tbody>';
  for (let r = 0; r < rows; r++) {
    h += `<tr><th scope="row">${r}</th>`;
    const base = (r + i.r0) * ch.cols + i.c0;
    for (let c = 0; c < cols; c++) h += `<td>${fmt(ch.values[base + c])}</td>`;
    h += '</tr>';
  }
  return `${h}</tbody></table>`;
}

/** Legend: the palette as a gradient strip between the range's ends. */
function legendHTML(scale) {
  const p = scale.kind === 'diverging' ? DIVERGING : SEQUENTIAL;
  const stops = [0, 64, 128, 191, 255].map((i) => `rgb(${p[i * 4]},${p[i * 4 + 1]},${p[i * 4 + 2]})`);
  return `<span class="legend"><span>${esc(fmt(scale.min))}</span><span class="bar" style="background:linear-gradient(to right,${stops.join(',')})"></span><span>${esc(fmt(scale.max))}</span></span>`;
}

export { esc, legendHTML };

/**
 * Draws models and frames into the page: one figure per grid (a caption with the
 * size and the colour legend, one view per channel, the numeric tables).
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
    this.t = (k) => k;
    this.lastSum = '';
    this.lastProducts = '';
    this.sumHeight = 0;
    this.tableTimer = 0;
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
    this.middle = document.createElement('div');
    this.middle.className = 'middle';
  }

  /**
   * Show a model: create, reuse or drop figures and views, set their data.
   * @param {ReturnType<typeof buildModel>} model
   * @param {(key: string, params?: object) => string} t
   * @param {{deferTables?: boolean}} [opts] painting defers the tables, which a
   *   64x64 grid makes costly, until the stroke pauses
   */
  setModel(model, t, { deferTables = false } = {}) {
    this.model = model;
    this.t = t;
    const keep = new Set();
    for (const g of model.grids) {
      keep.add(g.id);
      const fig = this.figure(g.id);
      fig.title.textContent = t(`grid.${g.id}`);
      const ch0 = g.channels[0];
      const inner = ch0 && ch0.inner;
      const dims = ch0 ? `${inner ? inner.rows : ch0.rows}×${inner ? inner.cols : ch0.cols}` : '';
      const kernelDims = g.cOut * g.cG > 1 ? `${g.cOut}×${g.cG}×${dims}` : dims;
      fig.dims.textContent = g.id === 'kernel' ? kernelDims : g.channels.length > 1 ? `${g.channels.length}×${dims}` : dims;
      fig.legend.innerHTML = legendHTML(g.scale);
      // One view per channel; ids are stable so hover and focus survive a recompute.
      const ids = new Set();
      g.channels.forEach((ch, i) => {
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
        view.label.textContent = this.channelLabel(g, ch, i);
        view.label.hidden = g.channels.length < 2;
        const name = this.tableName(g, ch, i);
        view.el.setAttribute('aria-label', t(g.editable ? 'grid.hintEdit' : 'grid.hint', { name, rows: ch.rows, cols: ch.cols }));
        view.name = name;
        view.setData(ch.values, ch.rows, ch.cols, g.scale, ch.inner || null);
      });
      for (const [id, view] of this.views) {
        if (id.startsWith(`${g.id}:`) && !ids.has(id)) {
          view.wrap.remove();
          this.views.delete(id);
        }
      }
      // Kernel and products share a column between input and output.
      if (g.id === 'kernel' || g.id === 'products') {
        if (!this.middle.isConnected || this.middle.previousSibling !== this.figs.get('input').el) this.root.append(this.middle);
        this.middle.append(fig.el);
      } else this.root.append(fig.el); // keeps figures in model order
    }
    for (const [id, fig] of this.figs) {
      if (!keep.has(id)) {
        fig.el.remove();
        this.figs.delete(id);
        for (const vid of [...this.views.keys()]) if (vid.startsWith(`${id}:`)) this.views.delete(vid);
      }
    }
    this.lastSum = null; // redraw the sum even when the new one is empty
    this.lastProducts = '';
    if (this.modelShape !== modelShape(model)) {
      this.modelShape = modelShape(model);
      this.sumHeight = 0;
      this.sumEl.style.minHeight = '';
    }
    clearTimeout(this.tableTimer);
    if (deferTables) this.tableTimer = setTimeout(() => this.renderTables(), 250);
    else this.renderTables();
    this.layout();
  }

  channelLabel(g, ch, i) {
    if (g.id === 'kernel') return this.t('grid.filterChannel', { o: ch.o + 1, c: ch.c + 1 });
    if (g.id === 'output' || g.id === 'act' || g.id === 'pool') return this.t('grid.filter', { n: i + 1 });
    return this.t('grid.channel', { n: (ch.c ?? i) + 1 });
  }

  /** The accessible name of a channel's table: "Input", or "Input, channel 2". */
  tableName(g, ch, i) {
    const base = this.t(`grid.${g.id}`);
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

  /** The numeric tables (the kernel's are its editor, in the settings). */
  renderTables() {
    if (!this.model) return;
    for (const g of this.model.grids) {
      const fig = this.figs.get(g.id);
      if (!fig || g.id === 'kernel') continue;
      fig.tables.innerHTML = g.channels.map((ch, i) => this.channelTable(g, ch, i)).join('');
    }
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
   * Fit the views to the space there is. Input, output, activated and pooled maps
   * share one cell size, so a window and the cell it makes look alike; on a wide
   * screen they share one row (the kernel column between them), on a phone each
   * gets the width. Kernel and products stay small.
   */
  layout() {
    if (!this.model) return;
    const width = Math.max(240, this.root.clientWidth || 800);
    const narrow = width < 640;
    const big = this.model.grids.filter((g) => g.id !== 'kernel' && g.id !== 'products' && g.channels.length);
    const size = (g) => [g.channels[0].rows, g.channels[0].cols];
    const top = this.root.getBoundingClientRect().top + (typeof scrollY === 'number' ? scrollY : 0);
    const viewH = typeof innerHeight === 'number' ? innerHeight : 800;
    // Tall enough for the first channel of each map below the controls above it.
    const maxH = narrow ? 440 : Math.max(220, viewH - Math.min(top, viewH / 2) - 48);
    let cell;
    if (narrow) cell = Math.min(40, ...big.map((g) => (width - 8) / size(g)[1]));
    else {
      const gaps = 24 * big.length + (this.model.grids.some((g) => g.id === 'kernel') ? 160 : 0);
      cell = Math.min(40, (width - gaps) / big.reduce((a, g) => a + size(g)[1], 0));
    }
    cell = Math.min(cell, ...big.map((g) => maxH / size(g)[0]));
    for (const [id, view] of this.views) {
      const g = grid(id);
      if (g === 'kernel' || g === 'products') view.fit([150, 150, 30]);
      else view.fit([view.cols * cell || width, view.rows * cell || maxH, cell]);
    }
    this.lastSum = null;
  }

  forward(ev) {
    const [grid, ch] = ev.view.id.split(':');
    this.onEvent({ ...ev, grid, ch: Number(ch) });
  }

  /** Draw one frame description (see {@link describeFrame}). */
  draw(desc) {
    const products = this.model && this.model.grids.find((g) => g.id === 'products');
    if (products) {
      const sig = desc.focus && desc.focus.stage === 'conv' ? desc.focus.n : -1;
      if (sig !== this.lastProducts) {
        this.lastProducts = sig;
        products.channels.forEach((ch, j) => {
          const view = this.views.get(`products:${j}`);
          if (!view) return;
          ch.values = desc.products ? desc.products[j] : new Float64Array(ch.rows * ch.cols);
          view.setData(ch.values, ch.rows, ch.cols, products.scale, null);
        });
        const fig = this.figs.get('products');
        if (fig) fig.tables.innerHTML = products.channels.map((ch, i) => this.channelTable(products, ch, i)).join('');
      }
    }
    for (const [id, view] of this.views) {
      const m = desc.views[id] || {};
      if (grid(id) === 'products' && !desc.products) m.dim = true;
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

/** What decides how long a worked sum is: the grids and their sizes. */
function modelShape(model) {
  return model.grids.map((g) => `${g.id}:${g.channels.length}:${g.channels[0] ? g.channels[0].rows : 0}`).join(',');
}
