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

import { ACTIVATION_NAMES, convSumLines, factor, fmt, joinTerms } from './format.js';
import { flat2d, inputGrid, kernelGrid, productsGrid, scaleOf, windowStage } from './render.js';
import { shapeOf } from './tensor.js';
import { stepsReading, totalSteps, windowBoxes } from './trace.js';
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

/** A (C, H, W) map as a big grid of a section. */
function mapGrid(id, t3, section, extra = {}) {
  const channels = t3.map(flat2d);
  return { id, title: `bw.grid.${id}`, channels, scale: scaleOf(channels), label: 'filter', section, ...extra };
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

/** Whether a trace's window skips cells (dilation, or dE/dZ's cells set apart by the stride). */
function spaced(trace) {
  if (!trace || !trace.cells.length) return false;
  const area = windowBoxes(trace, 0).reduce((a, b) => a + (b.r1 - b.r0 + 1) * (b.c1 - b.c0 + 1), 0);
  return trace.cells[0].length < area;
}

/**
 * The backward model.
 * @param {object} o
 * @param {object | null} o.bp the /api/backprop answer (null: none yet)
 * @param {number[][][]} o.input (C, H, W) as the state holds it
 * @param {number[][][][]} o.weight (C_out, C_in/groups, kH, kW)
 * @param {number} o.groups
 * @param {{target?: boolean, gout?: boolean}} [o.editable] grids the user paints
 * @param {(key: string, params?: object) => string} t
 */
export function buildBackwardModel({ bp, input, weight, groups = 1, editable = {} }, t) {
  const [cOut, cG, kH, kW] = shapeOf(weight);
  if (!bp) {
    const grids = [inputGrid(input, null), kernelGrid('kernel', weight, { noTable: true })];
    return { grids, stages: [], total: 0 };
  }
  const conv = bp.conv;
  const act = bp.activation;
  const pool = bp.pool;
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
    const pt = pool.trace;
    if (pt) {
      const [oy, ox] = pt.grid_origin;
      const inView = (ch, r, c) => r - oy >= 0 && c - ox >= 0 && r - oy < src[0].length && c - ox < src[0][0].length;
      stages.push({
        stage: 'route',
        label: 'bw.stage.route',
        section: `route_${pool.kind}`,
        count: pt.out_index.length,
        outs: [],
        hoverGrids: ['go', 'pa', 'ga'],
        stepAt(h) {
          if (h.grid === 'go') return pt.out_index.findIndex(([c, r, col]) => c === h.ch && r === h.r && col === h.c);
          const steps = stepsReading(pt, h.ch, h.r + oy, h.c + ox);
          return steps.length ? steps[0] : -1;
        },
        // dE/dA fills window by window: hide the cells no window up to n has reached.
        cover(n) {
          const seen = new Set();
          for (let k = 0; k <= n; k++) pt.cells[k].forEach(([ch, r, c], j) => (!pt.mask || pt.mask[k][j]) && seen.add(`${ch},${r},${c}`));
          const out = {};
          pool.grad_input.forEach((g, ch) => {
            const cells = [];
            g.forEach((row, r) => row.forEach((_, c) => !seen.has(`${ch},${r + oy},${c + ox}`) && cells.push([r, c])));
            out[`ga:${ch}`] = cells;
          });
          return out;
        },
        describe(n, mark) {
          const [c, r, col] = pt.out_index[n];
          mark(`go:${c}`).current = [r, col];
          const taps = [];
          pt.cells[n].forEach(([ch, gr, gc], k) => {
            if ((pt.mask && !pt.mask[n][k]) || !inView(ch, gr, gc)) return;
            taps.push([gr - oy, gc - ox]);
            for (const id of ['pa', 'ga']) {
              const m = mark(`${id}:${ch}`);
              (m.taps ??= []).push([gr - oy, gc - ox]);
              if (pt.argmax && pt.argmax[n] === k) m.winner = [gr - oy, gc - ox];
            }
          });
          for (const b of windowBoxes(pt, n)) {
            for (const id of ['pa', 'ga']) (mark(`${id}:${b.channel}`).boxes ??= []).push([b.r0 - oy, b.c0 - ox, b.r1 - oy, b.c1 - ox]);
          }
          const g = pool.grad_output[c][r][col];
          const from = cellName('dE/dP', c, r, col, cOut > 1);
          if (pt.argmax) {
            const [, wr, wc] = pt.cells[n][pt.argmax[n]];
            const to = cellName('dE/dA', c, wr - oy, wc - ox, cOut > 1);
            return { lines: [t('bw.route.max', { to, from, g: fmt(g), v: fmt(pt.values[n][pt.argmax[n]]) })] };
          }
          const k = pt.divisor ? pt.divisor[n] : taps.length;
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
  const gwt = conv.grad_weight_trace;
  const dZ = conv.grad_output;
  const [, hOut, wOut] = shapeOf(dZ);
  section('gradw', { z: Z });
  const x = inputGrid(input, gwt);
  x.title = 'bw.grid.x';
  x.section = 'gradw';
  grids.push(x);
  const gzk = { ...mapGrid('gzk', dZ, 'gradw'), small: true };
  gzk.title = after ? 'bw.grid.gzk' : 'bw.grid.gok';
  gzk.channels.forEach((ch, o) => (ch.o = o));
  grids.push(gzk);
  if (gwt && gwt.products) grids.push({ ...productsGrid('pw', 1, hOut, wOut, gwt), section: 'gradw', title: 'grid.products' });
  grids.push(kernelGrid('gw', conv.grad_weight, { small: false, section: 'gradw', title: 'bw.grid.gw' }));
  const nameW = (n) => {
    const [oc, r, c] = gwt.out_index[n];
    return `${cellName('dE/dF', Math.floor(oc / cG), r, c, cOut * cG > 1, oc % cG)} = `;
  };
  stages.push(windowStage({
    section: 'gradw',
    stage: 'gradw',
    label: 'bw.stage.gradw',
    trace: gwt,
    src: 'input',
    outs: ['gw'],
    kernel: gzk,
    dim: (k, oc) => k.o !== Math.floor(oc / cG),
    products: 'pw',
    kernelShape: [hOut, wOut],
    spaced: spaced(gwt),
    lines: (n, tr) => prefixLast(convSumLines(gwt, n, tr), nameW(n)),
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
  const git = conv.grad_input_trace;
  section('gradx', { z: Z }, spaced(gwt) ? t('bw.note.dilated') : '');
  const fwd = conv.trace;
  if (git) {
    const gzp = { ...mapGrid('gzp', git.grid, 'gradx'), title: after ? 'bw.grid.gzp' : 'bw.grid.gop' };
    // Set dE/dZ's own cells apart from the zeros around and between them.
    const [r0, c0] = git.grid_origin;
    const dil = gwt ? gapOf(gwt) : [1, 1];
    const inner = { r0, c0, rows: (hOut - 1) * dil[0] + 1, cols: (wOut - 1) * dil[1] + 1 };
    gzp.channels.forEach((ch) => (ch.inner = inner.rows !== ch.rows || inner.cols !== ch.cols ? inner : null));
    grids.push(gzp);
    const wr = kernelGrid('wr', rot180(weight), { section: 'gradx', title: 'bw.grid.wr' });
    grids.push(wr);
    if (git.products) grids.push({ ...productsGrid('px', cOut / groups, kH, kW, git), section: 'gradx', title: 'grid.products' });
  }
  const gx = { ...mapGrid('gx', git ? padLike(conv.grad_input, git, fwd) : conv.grad_input, 'gradx'), label: 'channel' };
  if (git && fwd) {
    const [pr, pc] = fwd.grid_origin;
    const [, H, W] = shapeOf(input);
    gx.channels.forEach((ch) => (ch.inner = ch.rows !== H || ch.cols !== W ? { r0: pr, c0: pc, rows: H, cols: W } : null));
  }
  grids.push(gx);
  const outPerGroup = cOut / groups;
  const nameX = (n) => {
    const [c, r, col] = git.out_index[n];
    const [pr, pc] = fwd ? fwd.grid_origin : [0, 0];
    const [, H, W] = shapeOf(input);
    const inside = r - pr >= 0 && col - pc >= 0 && r - pr < H && col - pc < W;
    return inside ? `${cellName('dE/dX', c, r - pr, col - pc, input.length > 1)} = ` : `${t('bw.padCell')}: `;
  };
  stages.push(windowStage({
    section: 'gradx',
    stage: 'gradx',
    label: 'bw.stage.gradx',
    trace: git,
    src: 'gzp',
    outs: ['gx'],
    kernel: gridOf('wr'),
    dim: (k, c) => k.c !== c % cG || Math.floor(k.o / outPerGroup) !== Math.floor(c / cG),
    products: 'px',
    kernelShape: [kH, kW],
    spaced: spaced(git),
    lines: (n, tr) => prefixLast(convSumLines(git, n, (k, p) => tr(k === 'sum.channel' ? 'grid.filter' : k, p)), nameX(n)),
  }));

  return { grids, sections, stages, total: totalSteps(stages) };
}

/** Write `name` before the last line (the total). */
function prefixLast(lines, name) {
  lines[lines.length - 1] = name + lines[lines.length - 1];
  return lines;
}

/** How far apart dE/dZ's cells sit in the dE/dW trace's window (the stride). */
function gapOf(trace) {
  const cells = trace.cells[0];
  const rows = [...new Set(cells.map((x) => x[1]))].sort((a, b) => a - b);
  const cols = [...new Set(cells.map((x) => x[2]))].sort((a, b) => a - b);
  return [rows.length > 1 ? rows[1] - rows[0] : 1, cols.length > 1 ? cols[1] - cols[0] : 1];
}

/**
 * dE/dX on the padded input's grid, as the dE/dX trace computes it: its results
 * in step order (padding cells included), or the answer's dE/dX when the trace
 * does not cover the padded grid.
 */
function padLike(gradInput, git, fwd) {
  if (!fwd) return gradInput;
  const [C, Hp, Wp] = shapeOf(fwd.grid);
  if (git.out_index.length !== C * Hp * Wp) return gradInput;
  const out = Array.from({ length: C }, () => Array.from({ length: Hp }, () => new Array(Wp).fill(0)));
  git.out_index.forEach(([c, r, col], n) => (out[c][r][col] = git.result[n]));
  return out;
}
