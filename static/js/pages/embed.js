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

/**
 * How a figure's channels are arranged: `cols` per row. A kernel of C_out filters
 * over C_in channels is a C_out x C_in table; the others are tried in one row, one
 * column and as square as can be, and the arrangement with the largest cells wins.
 */
function arrangements(model) {
  const square = (n) => Math.ceil(Math.sqrt(n));
  const of = (pick) => Object.fromEntries(model.grids.map((g) => {
    const n = g.channels.length;
    if (g.cOut && g.cG) return [g.id, g.cG];
    return [g.id, Math.max(1, pick(n))];
  }));
  const all = [of((n) => n), of((n) => square(n)), of(() => 1)];
  return all.filter((a, i) => all.findIndex((b) => JSON.stringify(b) === JSON.stringify(a)) === i);
}

/** The Stage, sized to fill its box: the largest cell at which nothing overflows. */
class EmbedStage extends Stage {
  layout() {
    if (!this.model) return;
    const box = this.root;
    const root = document.documentElement.style;
    // Measured with the text at the scale it leaves room for, drawn at its own.
    root.setProperty('--ts', String(Math.max(options.fontScale, TEXT_ROOM)));
    const fits = (cell) => {
      this.fitAll(cell, true);
      return box.scrollWidth <= box.clientWidth + 1 && box.scrollHeight <= box.clientHeight + 1;
    };
    const largest = () => {
      let lo = 3;
      let hi = 200;
      if (fits(hi)) return hi;
      for (let i = 0; i < 10 && hi - lo > 0.5; i++) {
        const mid = (lo + hi) / 2;
        if (fits(mid)) lo = mid;
        else hi = mid;
      }
      return Math.floor(lo);
    };
    // Kernels and products in a column between the maps, or in a row (when the
    // column would be taller than the frame).
    let best = null;
    for (const middle of ['column', 'row']) {
      for (const cols of arrangements(this.model)) {
        this.arrange(cols, middle);
        const cell = largest();
        if (!best || cell > best.cell) best = { cell, cols, middle };
      }
    }
    this.arrange(best.cols, best.middle);
    this.fitAll(best.cell);
    root.setProperty('--ts', String(options.fontScale));
    this.lastSum = null;
  }

  /** Lay each figure's channels out `cols[id]` to a row, the small figures in a `middle` column or row. */
  arrange(cols, middle) {
    for (const [id, fig] of this.figs) fig.chans.style.setProperty('--cols', String(cols[id] || 1));
    for (const el of this.root.querySelectorAll('.middle')) el.style.flexDirection = middle;
  }

  /** Give every view its cell size; `trial`: its box only (no drawing), to measure. */
  fitAll(cell, trial = false) {
    const small = new Set(this.model.grids.filter((g) => g.small).map((g) => g.id));
    for (const [id, view] of this.views) {
      const least = Math.min(24, Math.max(cell, SMALL_SIDE / Math.max(1, view.rows)));
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
  if (!player.playing) writeStep();
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
  draw();
  new ResizeObserver(() => {
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
