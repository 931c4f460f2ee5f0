/**
 * The embed view (/embed): the animation of a view state alone, filling its
 * iframe, stepped by the keys a presentation clicker sends. The same state
 * format, answers and render path as the visualizer (pipeline.js, render.js);
 * only the chrome and the sizing differ: the grids take the largest cell size at
 * which everything fits the frame, so nothing scrolls in a 16:9 or a 4:3 slide.
 */

import * as api from '../core/api.js';
import { HIGH_CONTRAST, parseEmbed } from '../core/embed-options.js';
import { pageStrings, translator } from '../core/i18n.js';
import { appliedWeight, compute, resolveInput, resolveWeight } from '../core/pipeline.js';
import { VEIL } from '../view/gridview.js';
import { Player } from '../view/player.js';
import { buildModel, describeFrame, Stage } from '../view/render.js';
import { fromQuery, toQuery } from '../core/state.js';

const $ = (id) => document.getElementById(id);
const t = translator(pageStrings());
const { state } = fromQuery(location.search);
const { options } = parseEmbed(location.search);

document.documentElement.dataset.theme = options.theme;
if (options.theme === 'high-contrast') VEIL.cover = HIGH_CONTRAST.cover;
document.documentElement.style.setProperty('--fs', String(options.fontScale));
document.documentElement.style.setProperty('--ts', String(options.fontScale));
$('player').hidden = !options.controls;
$('open-full').href = `/${toQuery({ ...state, step: 0 })}`;

/** Kernels and products: a little smaller than the maps' cells... */
const SMALL = 0.8;
/** ...but at least this many px tall (up to 24 px cells), so a 3x3 kernel beside a photo reads. */
const SMALL_SIDE = 48;
/**
 * The text scale the layout leaves room for: the grids are sized with the formula
 * and captions at this scale (or the chosen one, if larger), so a font scale from
 * 1 to 1.5 grows the text and never moves or shrinks a grid (docs/EMBED.md).
 */
const TEXT_ROOM = 1.5;
/** Cells this large (px) are kept with the room for larger text... */
const BIG_ENOUGH = 24;
/** ...smaller ones give the room up when the text's own scale gives cells this much larger. */
const ROOM_COST = 0.75;

/**
 * The ways to lay the figures out, each `{cols, flow, split}`: `cols[id]` channels
 * to a row (a kernel of C_out filters over C_in channels is a C_out x C_in table;
 * the others in one row, two rows, as square as can be or one column), and the
 * figures in one line with the kernels and products in a `flow` 'column' or 'row'
 * between the maps, or ('wrap') in two lines, the first `split` figures above
 * (input and kernel over products and output, say). `start`: every flow with all
 * figures making the same choice; `near(way)`: the ways that differ from it in
 * one figure's choice or in the flow.
 */
function arrangements(model) {
  const grids = model.grids.filter((g) => g.channels.length);
  const choices = (g) => {
    const n = g.channels.length;
    if (g.cOut && g.cG) return [g.cG];
    return [...new Set([n, Math.ceil(n / 2), Math.ceil(Math.sqrt(n)), 1])];
  };
  const flows = [{ flow: 'column' }, { flow: 'row' }];
  for (let split = 1; split < grids.length; split++) flows.push({ flow: 'wrap', split });
  const same = [0, 1, 2, 3].map((k) => Object.fromEntries(grids.map((g) => {
    const c = choices(g);
    return [g.id, c[Math.min(k, c.length - 1)]];
  })));
  let every = [{}];
  for (const g of grids) every = every.flatMap((p) => choices(g).map((c) => ({ ...p, [g.id]: c })));
  const start = flows.flatMap((f) => (every.length <= 24 ? every : same).map((cols) => ({ cols, ...f })));
  const near = (way) => [
    ...grids.flatMap((g) => choices(g).map((c) => ({ ...way, cols: { ...way.cols, [g.id]: c } }))),
    ...flows.map((f) => ({ cols: way.cols, ...f })),
  ];
  return { start, near };
}

/** The grids' common bounding box, as a share of the frame: the tie-break between equal cells. */
function cover(views) {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const view of views) {
    const r = view.el.getBoundingClientRect();
    [x0, y0, x1, y1] = [Math.min(x0, r.left), Math.min(y0, r.top), Math.max(x1, r.right), Math.max(y1, r.bottom)];
  }
  return x1 > x0 ? ((x1 - x0) * (y1 - y0)) / (innerWidth * innerHeight) : 0;
}

/** The Stage, sized to fill its box: the largest cell at which nothing overflows. */
class EmbedStage extends Stage {
  layout() {
    if (!this.model) return;
    const began = performance.now();
    const box = this.root;
    const root = document.documentElement.style;
    this.shortLabels();
    box.classList.add('measuring');
    this.tries = 0;
    // Measured with the text at the scale it leaves room for, drawn at its own. When
    // that room costs the grids too much (a long sum over many figures: the lecture's
    // three filters with ReLU and pooling fell to 12 px cells), or nothing fits with
    // it, the grids are measured at the text's own scale: a larger font scale may
    // then shrink them, which beats unreadable cells at every scale.
    let best = null;
    const rooms = [...new Set([Math.max(options.fontScale, TEXT_ROOM), options.fontScale])];
    for (const room of rooms) {
      root.setProperty('--ts', String(room));
      const found = this.search();
      if (found && (!best || found.cell > best.cell / ROOM_COST)) best = { ...found, room };
      if (best && best.cell >= BIG_ENOUGH) break;
    }
    if (best) root.setProperty('--ts', String(best.room));
    best = best || { ...arrangements(this.model).start[0], cell: 3 };
    this.arrange(best);
    box.classList.remove('measuring');
    this.fitAll(best.cell);
    this.fixLabels();
    root.setProperty('--ts', String(options.fontScale));
    this.longLabels();
    this.lastSum = null;
    // What was chosen and how long the search took, for a look from the outside (tests).
    this.laidOut = `${box.clientWidth}x${box.clientHeight}`;
    const cols = Object.entries(best.cols).map(([id, n]) => `${id}:${n}`).join(' ');
    const way = `${best.flow}${best.split ? `:${best.split}` : ''}`;
    box.dataset.layout = `${way} ${best.cell}px ${cols}; ${this.tries} tries ${Math.round(performance.now() - began)} ms`;
  }

  /** The arrangement with the largest cell at which nothing overflows (null: none fits). */
  search() {
    const box = this.root;
    const fits = (cell) => {
      this.tries++;
      this.fitAll(cell, true);
      return box.scrollWidth <= box.clientWidth + 1 && box.scrollHeight <= box.clientHeight + 1;
    };
    // No map's cell can be wider than the box over its columns, nor taller than the box over its rows.
    const small = new Set(this.model.grids.filter((g) => g.small).map((g) => g.id));
    const maps = [...this.views].filter(([id]) => !small.has(id.split(':')[0])).map(([, v]) => v);
    const top = Math.min(200, Math.ceil(Math.min(...maps.map((v) => Math.min(box.clientWidth / v.cols, box.clientHeight / v.rows)))));
    // The largest whole cell that fits, from `lo` (which does). Not quite monotonic
    // (a caption wraps into two lines as its figure narrows), so past the halving a
    // few cells above are tried too, and the halving goes on from one that fits.
    const largest = (lo) => {
      let hi = top;
      if (fits(hi)) return hi;
      for (;;) {
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (fits(mid)) lo = mid;
          else hi = mid;
        }
        let up = 0;
        for (let k = lo + 2; !up && k <= lo + 5 && k < top; k++) if (fits(k)) up = k;
        if (!up) return lo;
        lo = up;
        hi = top;
      }
    };
    // One look at each arrangement: one that cannot take the best cell so far is
    // passed over; the largest cell wins, then the larger share of the frame. From
    // the best of the first ones, its neighbours, until none is better.
    const ways = arrangements(this.model);
    const seen = new Set();
    let best = null;
    const look = (way) => {
      const key = JSON.stringify([way.cols, way.flow, way.split]);
      if (seen.has(key)) return;
      seen.add(key);
      this.arrange(way);
      if (!fits(best ? best.cell : 3)) return;
      const cell = largest(best ? best.cell : 3);
      this.fitAll(cell, true);
      const share = cover(this.views.values());
      if (!best || cell > best.cell || share > best.share) best = { ...way, cell, share };
    };
    ways.start.forEach(look);
    for (let was = null; best && was !== best;) {
      was = best;
      ways.near(best).forEach(look);
    }
    return best;
  }

  /** Lay the figures out one way (see {@link arrangements}). */
  arrange({ cols, flow, split }) {
    for (const [id, fig] of this.figs) fig.chans.style.setProperty('--cols', String(cols[id] || 1));
    const wrap = flow === 'wrap';
    this.root.classList.toggle('wrap', wrap);
    for (const el of this.root.querySelectorAll('.middle')) el.style.flexDirection = wrap ? '' : flow;
    // Two lines: the figures in model order, a line break (grids::before) after the first `split`.
    this.model.grids.forEach((g, i) => {
      const fig = this.figs.get(g.id);
      if (fig) fig.el.style.order = wrap ? String(i < split ? i : i + 1) : '';
    });
    this.root.style.setProperty('--split', String(split || 0));
  }

  /**
   * The channels' labels, each in a full and a short form ("filter 1, channel 2",
   * "f1 ch2"): the grids are measured with the short ones, which may widen their
   * grid's column, so no label ever needs an ellipsis.
   */
  shortLabels() {
    for (const [id, view] of this.views) {
      if (view.label.hidden) continue;
      const [gid, i] = id.split(':');
      const g = this.model.grids.find((x) => x.id === gid);
      const ch = g.channels[Number(i)];
      view.forms = g.rgb
        ? [this.t('grid.rgb'), this.t('grid.rgbShort')]
        : [this.channelLabel(g, ch, Number(i)), this.shortLabel(g, ch, Number(i))];
      view.wrap.style.minWidth = '';
      view.label.classList.add('free');
      this.setLabel(view, 1);
    }
  }

  /** The columns keep the width the short labels took at the measured text scale. */
  fixLabels() {
    const shown = [...this.views.values()].filter((v) => !v.label.hidden && v.forms);
    const widths = shown.map((v) => v.wrap.getBoundingClientRect().width);
    shown.forEach((v, i) => {
      v.wrap.style.minWidth = `${widths[i]}px`;
      v.label.classList.remove('free');
    });
  }

  /** Each figure's labels in full where all of them fit their columns, else short. */
  longLabels() {
    const shown = [...this.views.values()].filter((v) => !v.label.hidden && v.forms);
    for (const v of shown) this.setLabel(v, 0);
    const cut = new Set(shown.filter((v) => v.label.scrollWidth > v.label.clientWidth + 1).map((v) => v.id.split(':')[0]));
    for (const v of shown) if (cut.has(v.id.split(':')[0])) this.setLabel(v, 1);
  }

  setLabel(view, form) {
    const short = form > 0 && view.forms[1] !== view.forms[0];
    view.label.textContent = view.forms[short ? 1 : 0];
    // The short form shows its full name on hover; the grid's own name (aria-label) says it in full.
    if (short) {
      view.label.title = view.forms[0];
      view.label.setAttribute('aria-hidden', 'true');
    } else {
      view.label.removeAttribute('title');
      view.label.removeAttribute('aria-hidden');
    }
  }

  shortLabel(g, ch, i) {
    if (g.names) return g.names[i];
    if (g.label === 'filterChannel') return this.t('grid.filterChannelShort', { o: ch.o + 1, c: ch.c + 1 });
    if (g.label === 'filter') return this.t('grid.filterShort', { n: i + 1 });
    return this.t('grid.channelShort', { n: (ch.c ?? i) + 1 });
  }

  /** Give every view its cell size; `trial`: its box only (no drawing), to measure. */
  fitAll(cell, trial = false) {
    const small = new Set(this.model.grids.filter((g) => g.small).map((g) => g.id));
    for (const [id, view] of this.views) {
      const least = Math.min(24, SMALL_SIDE / Math.max(1, view.rows));
      const c = small.has(id.split(':')[0]) ? Math.max(cell * SMALL, least) : cell;
      if (trial) {
        view.el.style.width = `${view.cols * c}px`;
        view.el.style.height = `${view.rows * c}px`;
        continue;
      }
      view.fontRatio = 0.34 * options.fontScale;
      view.maxFont = 200;
      view.fit([view.cols * c, view.rows * c, c]);
    }
  }
}

let model = null;
let hover = null;
let presets = { kernels: {}, glyphs: {}, examples: [] };
let userPaused = false;
let loopTimer = 0;

const stage = new EmbedStage($('grids'), $('sum'), (ev) => {
  if (ev.type === 'hover') hover = { grid: ev.grid, ch: ev.ch, r: ev.r, c: ev.c };
  else if (ev.type === 'leave') hover = null;
  else return; // no painting here
  draw();
});
const player = new Player(draw, onPlayState);
/** Inside another page's frame (a deck): the clicker leaves at either end. */
const inDeck = window.parent !== window;
player.speed = state.speed;

function draw() {
  if (!model) return;
  stage.draw(describeFrame(model, player.step, hover, t));
  // While playing, the URL is left alone; a live room hears of each step (room/lead.js paces them).
  if (!player.playing) writeStep();
  else document.dispatchEvent(new CustomEvent('convviz:step', { detail: { step: player.step } }));
  const total = model.total;
  $('step-status').textContent = total ? `${player.step + 1} / ${total}` : t('player.none');
  $('scrub').value = String(player.step);
  $('scrub').setAttribute('aria-valuetext', t('player.status', { n: player.step + 1, total, stage: '' }));
}

/**
 * The step into the address, as the visualizer keeps it: the URL holds the view,
 * and a live room (room/lead.js) publishes it on "convviz:state".
 */
function writeStep() {
  const url = new URL(location.href);
  if ((url.searchParams.get('step') ?? '0') === String(player.step)) return;
  url.searchParams.set('step', String(player.step));
  history.replaceState(history.state, '', url);
  document.dispatchEvent(new Event('convviz:state'));
}

function onPlayState() {
  const playing = player.playing;
  if (!playing) writeStep();
  $('play-icon').textContent = playing ? '⏸' : '▶';
  $('play-text').textContent = t(playing ? 'player.pause' : 'player.play');
  $('btn-play').setAttribute('aria-pressed', String(playing));
  $('sum').setAttribute('aria-live', playing ? 'off' : 'polite');
  clearTimeout(loopTimer);
  if (!playing && options.loop && !userPaused && player.step >= player.total - 1) {
    loopTimer = setTimeout(() => player.play(), 1500);
  }
}

/** What the user asked for: stop looping, forget the hover so the step shows. */
function by(user, action) {
  return () => {
    userPaused = user;
    hover = null;
    action();
    draw();
  };
}

const actions = {
  forward: by(true, () => player.forward()),
  back: by(true, () => player.back()),
  start: by(true, () => player.start()),
  end: by(true, () => player.end()),
  toggle: by(true, () => {
    if (!player.playing) userPaused = false;
    player.toggle();
  }),
};

$('btn-start').addEventListener('click', actions.start);
$('btn-back').addEventListener('click', actions.back);
$('btn-play').addEventListener('click', actions.toggle);
$('btn-forward').addEventListener('click', actions.forward);
$('btn-end').addEventListener('click', actions.end);
$('scrub').addEventListener('input', by(true, () => {
  player.pause();
  player.set(Number($('scrub').value));
}));

/**
 * A clicker sends PageDown / PageUp (or the arrows, or space): each is one step.
 * Caught before the grids (which use the arrows to move their cursor), so a
 * click on a grid to give the frame the focus does not take the keys away.
 */
const KEYS = {
  ArrowRight: 'forward', PageDown: 'forward', ' ': 'forward', ArrowDown: 'forward',
  ArrowLeft: 'back', PageUp: 'back', ArrowUp: 'back',
  Home: 'start', End: 'end', p: 'toggle', P: 'toggle', k: 'toggle',
};
window.addEventListener('keydown', (ev) => {
  if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
  if (ev.key === 'Escape') return handBack(null);
  if (ev.target.closest && ev.target.closest('input[type="range"]') && ev.key.startsWith('Arrow')) return;
  let name = KEYS[ev.key];
  if (ev.key === ' ' && ev.shiftKey) name = 'back';
  if (!name) return;
  ev.preventDefault();
  ev.stopPropagation();
  // Past either end the clicker means the deck: the next or the previous slide.
  if (inDeck && !player.playing && name === 'forward' && player.step >= player.total - 1) return handBack('next');
  if (inDeck && !player.playing && name === 'back' && player.step <= 0) return handBack('prev');
  actions[name]();
}, true);

/**
 * Give the keys back to the deck the frame sits in (docs/EMBED.md). A reveal.js
 * parent (its `postMessage` option, on by default) runs the method named in a
 * JSON string, `{"method": "next", "args": []}`; any other deck gets
 * `{type: "convviz:leave", direction}` to act on. Then the frame lets go of the
 * focus, so the clicker's next key reaches the deck (`direction` null: Esc).
 * Nothing private travels, so the deck's origin need not be known ('*').
 */
function handBack(direction) {
  if (!inDeck) return;
  if (direction) {
    window.parent.postMessage(JSON.stringify({ method: direction, args: [] }), '*');
    window.parent.postMessage({ type: 'convviz:leave', direction }, '*');
  }
  if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
  window.parent.focus();
}

async function start() {
  try {
    presets = await api.presets();
  } catch (e) {
    showError(t('status.offline', { message: e.message }));
  }
  const input = resolveInput(state, presets); // an unknown or lost input: the X
  if (!input) return;
  const weight = resolveWeight(state, presets, input.length);
  const { conv, act, pool, failure } = await compute(state, input, weight);
  if (failure) showError(failure.e.message);
  model = buildModel({
    input,
    weight: appliedWeight(state, weight),
    bias: api.biasOf(state, weight),
    conv,
    act,
    pool,
    activation: state.activation,
    poolKind: state.pool,
  });
  model.grids[0].editable = false;
  if (state.flip) model.grids.find((g) => g.id === 'kernel').title = 'grid.kernelFlipped';
  stage.setModel(model, t);
  player.setTotal(model.total);
  $('scrub').max = String(Math.max(0, model.total - 1));
  player.set(state.step);
  draw(); // the sum first: the grids get the height it leaves
  stage.layout();
  draw();
  // Laid out again when the frame's size changes (not when the observer first reports the same size).
  new ResizeObserver(() => {
    const grids = $('grids');
    if (stage.laidOut === `${grids.clientWidth}x${grids.clientHeight}`) return;
    stage.layout();
    draw();
  }).observe($('grids'));
  if (options.autoplay) player.play();
  document.documentElement.dataset.ready = '1';
}

function showError(message) {
  $('err-general').textContent = message;
  $('err-general').hidden = false;
}

start();
