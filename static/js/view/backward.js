/**
 * The backward pass as a model for the one render path (render.js): grids in
 * titled sections and stages the player steps through, built from one
 * /api/backprop answer. Pure (tested in Node). The order is the order in which
 * backprop computes:
 *
 *   loss     dE/dO, cell by cell (MSE: 2 (O - T) / N)
 *   route    pooling: each dE/dP cell goes back to its window's maximum (max) or
 *            is split evenly over the window (average)
 *   gate     activation: dE/dZ = dE/dA * f'(Z) (ReLU: the gate 1 where Z > 0)
 *   gradw    dE/dW = conv(X, dE/dZ): dE/dZ slides over the padded input
 *   gradb    dE/db = the sum of dE/dZ over each filter's map
 *   gradx    dE/dX: the full correlation of the zero-padded (stride-dilated)
 *            dE/dZ with the kernel turned 180 degrees
 */

import { ACTIVATION_NAMES, convSumLines, factor, fmt, joinTerms, prefixLast } from '../core/format.js';
import { derive } from '../model/derive.js';
import { flat2d, gridChannels, inputGrid, kernelGrid, productsGrid, scaleOf, windowStage } from './render.js';
import { LOOK, gridKind } from './colormap.js';
import { shapeOf } from '../core/tensor.js';
import { totalSteps } from '../core/trace.js';
import { cellName } from './equations.js';

/**
 * The teacher filter an MSE target comes from: the named kernel preset when it
 * has the kernel's size, else the first preset that has; null for a map (drawn,
 * or "zero": T = 0, also when no preset has the size).
 * @param {string | number[][][]} target the state's
 * @param {Record<string, {weight: number[][]}>} kernels the presets
 */
export function teacherName(target, kernels, [kh, kw]) {
  if (Array.isArray(target) || target === 'zero') return null;
  const fits = (n) => !!kernels[n] && kernels[n].weight.length === kh && kernels[n].weight[0].length === kw;
  if (target && fits(target)) return target;
  return Object.keys(kernels).find(fits) || null;
}

/** The page's look while a model is built (buildBackwardModel sets it): fixes each grid's palette. */
let look = {};

/** A (C, H, W) map as a big grid of a section, on its grid's fixed palette (colormap.js gridKind). */
function mapGrid(id, t3, section, extra = {}) {
  const channels = t3.map(flat2d);
  const kind = gridKind(id, look);
  return { id, title: `bw.grid.${id}`, channels, scale: kind ? scaleOf(channels, kind) : scaleOf(channels), label: 'filter', section, ...extra };
}

/** Turn every kernel 180 degrees. */
export function rot180(weight) {
  return weight.map((f) => f.map((k) => [...k].reverse().map((row) => [...row].reverse())));
}

/** The row-major cell (channel, row, column) of step n over (C, H, W) maps shaped like `t3`. */
export function cellOf(t3, n) {
  const [, H, W] = shapeOf(t3);
  return [Math.floor(n / (H * W)), Math.floor(n / W) % H, n % W];
}

/**
 * The derivers of one /api/backprop answer (model/derive.js): the forward conv,
 * dE/dW, dE/dX, and the pooling's routing; null where the answer has no geometry.
 * @param {object} bp @param {number[][][]} input @param {number[][][][]} weight as sent
 * @param {number[] | null} [bias]
 */
export function backpropDerivers(bp, input, weight, bias = null) {
  const g = bp.conv && bp.conv.geometry;
  const grads = { input, weight, grad_output: bp.conv && bp.conv.grad_output };
  const pool = bp.pool;
  const src = pool && (bp.activation ? bp.activation.output : bp.conv.output);
  return {
    conv: g ? derive('conv2d', g, { input, weight, bias }) : null,
    gradw: g ? derive('conv2d_grad_weight', g, grads) : null,
    gradx: g ? derive('conv2d_grad_input', g, grads) : null,
    pool: pool && pool.geometry ? derive(`${pool.kind}_pool2d`, pool.geometry, { input: src, indices: pool.indices }) : null,
  };
}

/**
 * The backward model.
 * @param {object} o
 * @param {object | null} o.bp the /api/backprop answer (null: none yet)
 * @param {number[][][]} o.input (C, H, W) as the state holds it
 * @param {number[][][][]} o.weight (C_out, C_in/groups, kH, kW)
 * @param {number[] | null} [o.bias] as sent
 * @param {number} o.groups
 * @param {{target?: boolean, gout?: boolean}} [o.editable] grids the user paints
 * @param {string} [o.scheme] the input's value scheme; `o.activation`, `o.slope`
 *   the activation's (they fix the palettes: colormap.js gridKind)
 * @param {(key: string, params?: object) => string} t
 */
export function buildBackwardModel({ bp, input, weight, bias = null, groups = 1, editable = {}, scheme, activation, slope = 0.01, heat = LOOK.heat }, t) {
  look = { scheme, activation: activation ?? (bp && bp.activation ? bp.activation.function : 'none'), slope, heat };
  const [cOut, cG, kH, kW] = shapeOf(weight);
  if (!bp) {
    const grids = [inputGrid(input, null, 'input', look), kernelGrid('kernel', weight, { noTable: true })];
    return { grids, stages: [], total: 0 };
  }
  const conv = bp.conv;
  const act = bp.activation;
  const pool = bp.pool;
  const derivers = backpropDerivers(bp, input, weight, bias);
  const after = !!(act || pool);
  const Z = after ? 'Z' : 'O'; // the convolution's output, as the equations name it
  const grids = [];
  const sections = [];
  const stages = [];
  const section = (id, params = {}, note = '') => sections.push({ id, title: t(`bw.sec.${id}`, params), note });
  const gridOf = (id) => grids.find((g) => g.id === id);

  // 1. The loss and dE/dO.
  const N = shapeOf(bp.output).reduce((a, b) => a * b, 1);
  const lossNote = bp.loss_kind === 'grad_output' ? t('bw.loss.hand')
    : t(`bw.loss.${bp.loss_kind}`, { e: fmt(bp.loss), n: N });
  section('loss', {}, lossNote);
  grids.push(mapGrid('o', bp.output, 'loss'));
  if (bp.target) grids.push(mapGrid('t', bp.target, 'loss', { editable: !!editable.target }));
  grids.push(mapGrid('go', bp.grad_output, 'loss', { editable: !!editable.gout }));
  if (bp.loss_kind === 'mse') {
    stages.push({
      stage: 'loss',
      label: 'bw.stage.loss',
      section: 'loss',
      count: N,
      shape: shapeOf(bp.output),
      outs: ['go'],
      hoverGrids: ['o', 't'],
      describe(n, mark) {
        const [c, r, col] = cellOf(bp.output, n);
        for (const id of ['o', 't', 'go']) mark(`${id}:${c}`).current = [r, col];
        const o = bp.output[c][r][col];
        const tg = bp.target[c][r][col];
        const name = cellName('dE/dO', c, r, col, cOut > 1);
        return { lines: [`${name} = 2 · (O − T) / N = 2 · (${fmt(o)} − ${factor(tg)}) / ${N} = ${fmt(bp.grad_output[c][r][col])}`] };
      },
    });
  }

  // 2. Pooling's routing.
  const dA = pool ? 'ga' : 'go'; // where dE/dA is drawn
  if (pool) {
    section(`route_${pool.kind}`);
    const src = act ? act.output : conv.output;
    grids.push(mapGrid('pa', src, `route_${pool.kind}`, { title: act ? 'bw.grid.pa' : 'bw.grid.pz' }));
    grids.push(mapGrid('ga', pool.grad_input, `route_${pool.kind}`));
    const pd = derivers.pool;
    if (pd) {
      const [oy, ox] = pd.gridOrigin;
      const [C, H, W] = shapeOf(src);
      const inView = (r, c) => r - oy >= 0 && c - ox >= 0 && r - oy < H && c - ox < W;
      // The first step whose window reaches each cell of dE/dA, found once per
      // model (O(cells * taps)); the veil of step n is then the cells past n.
      let first = null;
      const firstReader = () => {
        if (first) return first;
        first = new Float64Array(C * H * W);
        for (let c = 0; c < C; c++) for (let r = 0; r < H; r++) for (let col = 0; col < W; col++) {
          const steps = pd.stepsReading(c, r + oy, col + ox);
          first[(c * H + r) * W + col] = steps.length ? steps[0] : Infinity;
        }
        return first;
      };
      stages.push({
        stage: 'route',
        label: 'bw.stage.route',
        section: `route_${pool.kind}`,
        count: pd.count,
        shape: pd.outShape,
        outs: [],
        hoverGrids: ['go', 'pa', 'ga'],
        stepAt(h) {
          if (h.grid === 'go') return pd.stepOfCell(h.ch, h.r, h.c);
          const steps = pd.stepsReading(h.ch, h.r + oy, h.c + ox);
          return steps.length ? steps[0] : -1;
        },
        // dE/dA fills window by window: hide the cells no window up to n has reached.
        cover(n) {
          const f = firstReader();
          const out = {};
          for (let c = 0; c < C; c++) {
            const cells = [];
            for (let r = 0; r < H; r++) for (let col = 0; col < W; col++) if (f[(c * H + r) * W + col] > n) cells.push([r, col]);
            out[`ga:${c}`] = cells;
          }
          return out;
        },
        describe(n, mark) {
          const s = pd.step(n);
          const [c, r, col] = s.out;
          mark(`go:${c}`).current = [r, col];
          const taps = [];
          s.cells.forEach(([ch, gr, gc], k) => {
            if (!s.mask[k] || !inView(gr, gc)) return;
            taps.push([gr - oy, gc - ox]);
            for (const id of ['pa', 'ga']) {
              const m = mark(`${id}:${ch}`);
              (m.taps ??= []).push([gr - oy, gc - ox]);
              if (s.argmax === k) m.winner = [gr - oy, gc - ox];
            }
          });
          for (const b of pd.windowBoxes(n)) {
            for (const id of ['pa', 'ga']) (mark(`${id}:${b.channel}`).boxes ??= []).push([b.r0 - oy, b.c0 - ox, b.r1 - oy, b.c1 - ox]);
          }
          const g = pool.grad_output[c][r][col];
          const from = cellName('dE/dP', c, r, col, cOut > 1);
          if (s.argmax !== null) {
            const [, wr, wc] = s.cells[s.argmax];
            const to = cellName('dE/dA', c, wr - oy, wc - ox, cOut > 1);
            return { lines: [t('bw.route.max', { to, from, g: fmt(g), v: fmt(s.values[s.argmax]) })] };
          }
          const k = s.divisor ?? taps.length;
          return { lines: [t('bw.route.avg', { from, g: fmt(g), k: fmt(k), q: fmt(g / k), n: taps.length })] };
        },
      });
    }
  }

  // 3. The activation's gate.
  if (act) {
    section('gate', { f: ACTIVATION_NAMES[act.function] || act.function });
    grids.push(mapGrid('z', conv.output, 'gate'));
    grids.push(mapGrid('gate', act.gate, 'gate'));
    grids.push(mapGrid('gz', act.grad_input, 'gate'));
    stages.push({
      stage: 'gate',
      label: 'bw.stage.gate',
      section: 'gate',
      count: shapeOf(conv.output).reduce((a, b) => a * b, 1),
      shape: shapeOf(conv.output),
      outs: ['gz'],
      hoverGrids: ['z', 'gate'],
      describe(n, mark) {
        const [c, r, col] = cellOf(conv.output, n);
        for (const id of ['z', 'gate', 'gz', dA]) mark(`${id}:${c}`).current = [r, col];
        const z = conv.output[c][r][col];
        const params = {
          name: cellName('dE/dZ', c, r, col, cOut > 1),
          a: fmt(act.grad_output[c][r][col]),
          f: fmt(act.gate[c][r][col]),
          g: fmt(act.grad_input[c][r][col]),
          z: fmt(z),
          fn: act.function,
        };
        if (act.function === 'relu') return { lines: [t(z > 0 ? 'bw.gate.open' : 'bw.gate.shut', params)] };
        return { lines: [t('bw.gate.other', params)] };
      },
    });
  }

  // 4. dE/dW = conv(X, dE/dZ), and dE/db.
  const gw = derivers.gradw;
  const dZ = conv.grad_output;
  const [, hOut, wOut] = shapeOf(dZ);
  section('gradw', { z: Z });
  const x = inputGrid(input, gw, 'input', look);
  x.title = 'bw.grid.x';
  x.section = 'gradw';
  grids.push(x);
  const gzk = { ...mapGrid('gzk', dZ, 'gradw'), small: true };
  gzk.title = after ? 'bw.grid.gzk' : 'bw.grid.gok';
  gzk.channels.forEach((ch, o) => (ch.o = o));
  grids.push(gzk);
  if (gw) grids.push({ ...productsGrid('pw', 1, hOut, wOut, gw), section: 'gradw', title: 'grid.products' });
  grids.push(kernelGrid('gw', conv.grad_weight, { small: false, section: 'gradw', title: 'bw.grid.gw' }));
  const nameW = (s) => {
    const [oc, r, c] = s.out;
    return `${cellName('dE/dW', Math.floor(oc / cG), r, c, cOut * cG > 1, oc % cG)} = `;
  };
  stages.push(windowStage({
    section: 'gradw',
    stage: 'gradw',
    label: 'bw.stage.gradw',
    steps: gw,
    src: 'input',
    outs: ['gw'],
    kernel: gzk,
    dim: (k, oc) => k.o !== Math.floor(oc / cG),
    products: 'pw',
    lines: (s, tr) => prefixLast(convSumLines(s, tr), nameW(s)),
  }));
  if (conv.grad_bias) {
    grids.push({ ...mapGrid('gb', [[conv.grad_bias]], 'gradw'), label: 'channel' });
    stages.push({
      stage: 'gradb',
      label: 'bw.stage.gradb',
      section: 'gradw',
      count: cOut,
      outs: ['gb'],
      describe(o, mark) {
        const g = dZ[o];
        mark(`gzk:${o}`).taps = g.flatMap((row, r) => row.map((_, c) => [r, c]));
        mark('gb:0').current = [0, o];
        const terms = g.flat().map(factor);
        return { lines: [`dE/db${cOut > 1 ? o + 1 : ''} = ${joinTerms(terms, t)} = ${fmt(conv.grad_bias[o])}`] };
      },
    });
  }

  // 5. dE/dX: full correlation of the padded, dilated dE/dZ with the turned kernel.
  const gd = derivers.gradx;
  const stride = conv.geometry ? conv.geometry.stride : [1, 1];
  section('gradx', { z: Z }, gw && gw.spaced ? t('bw.note.dilated') : '');
  const [pr, pc] = gw ? gw.gridOrigin : [0, 0];
  const [, H, W] = shapeOf(input);
  if (gd) {
    const gzp = { id: 'gzp', title: after ? 'bw.grid.gzp' : 'bw.grid.gop', channels: gridChannels(gd), label: 'filter', section: 'gradx' };
    gzp.scale = scaleOf(gzp.channels, 'diverging');
    // Set dE/dZ's own cells apart from the zeros around and between them.
    const [r0, c0] = gd.gridOrigin;
    const inner = { r0, c0, rows: (hOut - 1) * stride[0] + 1, cols: (wOut - 1) * stride[1] + 1 };
    gzp.channels.forEach((ch) => (ch.inner = inner.rows !== ch.rows || inner.cols !== ch.cols ? inner : null));
    grids.push(gzp);
    grids.push(kernelGrid('wr', rot180(weight), { section: 'gradx', title: 'bw.grid.wr' }));
    grids.push({ ...productsGrid('px', cOut / groups, kH, kW, gd), section: 'gradx', title: 'grid.products' });
  }
  // dE/dX on the padded input's grid, as the dE/dX steps compute it (padding
  // cells included): one result per cell, nothing else kept.
  const gx = gd
    ? { id: 'gx', title: 'bw.grid.gx', channels: resultChannels(gd), label: 'channel', section: 'gradx' }
    : { ...mapGrid('gx', conv.grad_input, 'gradx'), label: 'channel' };
  gx.scale = scaleOf(gx.channels, 'diverging');
  if (gd) gx.channels.forEach((ch) => (ch.inner = ch.rows !== H || ch.cols !== W ? { r0: pr, c0: pc, rows: H, cols: W } : null));
  grids.push(gx);
  const outPerGroup = cOut / groups;
  const nameX = (s) => {
    const [c, r, col] = s.out;
    const inside = r - pr >= 0 && col - pc >= 0 && r - pr < H && col - pc < W;
    return inside ? `${cellName('dE/dX', c, r - pr, col - pc, input.length > 1)} = ` : `${t('bw.padCell')}: `;
  };
  stages.push(windowStage({
    section: 'gradx',
    stage: 'gradx',
    label: 'bw.stage.gradx',
    steps: gd,
    src: 'gzp',
    outs: ['gx'],
    kernel: gridOf('wr'),
    dim: (k, c) => k.c !== c % cG || Math.floor(k.o / outPerGroup) !== Math.floor(c / cG),
    products: 'px',
    lines: (s, tr) => prefixLast(convSumLines(s, (k, p) => tr(k === 'sum.channel' ? 'grid.filter' : k, p)), nameX(s)),
  }));

  return { grids, sections, stages, total: totalSteps(stages), derivers };

}

/** Write `name` before the last line (the total). */
/** Every result of a deriver as views' channels over its output (C, H, W). */
function resultChannels(d) {
  const [C, H, W] = d.outShape;
  return Array.from({ length: C }, (_, c) => {
    const values = new Float64Array(H * W);
    for (let i = 0; i < H * W; i++) values[i] = d.result(c * H * W + i);
    return { values, rows: H, cols: W };
  });
}
