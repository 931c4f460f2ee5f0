/**
 * The player. Its whole state is the step index (plus whether it is running and
 * how fast): everything on screen is drawn from that index by render.js, so
 * playing, stepping, scrubbing and the keyboard cannot disagree.
 */

import { advance } from '../core/trace.js';

/** Steps per second; past 60 (one a frame) Play takes several steps a frame (65,000 in a minute at 1200). */
export const SPEEDS = [0.5, 1, 2, 4, 8, 16, 60, 240, 1200, 4800];

/** A speed as the menus say it: "4 steps/s", or past one a frame "1200 steps/s, 20 a frame". */
export const speedText = (t, n, fmt) => (n > 60 ? t('speed.fast', { n: fmt(n), k: Math.round(n / 60) }) : t('speed.value', { n: fmt(n) }));

export class Player {
  /**
   * @param {(step: number) => void} onStep called whenever the step changes
   * @param {() => void} [onState] called when playing starts or stops
   */
  constructor(onStep, onState = () => {}) {
    this.onStep = onStep;
    this.onState = onState;
    this.step = 0;
    this.total = 0;
    this.speed = 4;
    this.playing = false;
    this.carry = 0;
    this.last = 0;
    this.tick = this.tick.bind(this);
  }

  /** New number of steps (after a recompute); keeps the step when it still exists. */
  setTotal(total) {
    this.total = total;
    if (this.step > Math.max(0, total - 1)) this.set(Math.max(0, total - 1));
    if (total === 0) this.pause();
  }

  set(step) {
    const s = Math.max(0, Math.min(Math.round(step), Math.max(0, this.total - 1)));
    const changed = s !== this.step;
    this.step = s;
    if (changed) this.onStep(s);
    return changed;
  }

  play() {
    if (this.playing || this.total < 2) return;
    if (this.step >= this.total - 1) this.set(0);
    this.playing = true;
    this.carry = 0;
    this.last = performance.now();
    requestAnimationFrame(this.tick);
    this.onState();
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    this.onState();
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  forward() {
    this.pause();
    this.set(this.step + 1);
  }

  back() {
    this.pause();
    this.set(this.step - 1);
  }

  start() {
    this.pause();
    this.set(0);
  }

  end() {
    this.pause();
    this.set(this.total - 1);
  }

  tick(now) {
    if (!this.playing) return;
    const { step, carry, done } = advance(this.step, this.carry, now - this.last, this.speed, this.total);
    this.last = now;
    this.carry = carry;
    this.set(step);
    if (done) this.pause();
    else requestAnimationFrame(this.tick);
  }
}

/**
 * Whether the focused element uses `key` itself: fields and grids use arrows and
 * space; buttons, links and summaries only space (and Enter), so arrows still
 * step the animation while a player button has the focus.
 */
export function ownsKey(el, key) {
  if (!el || !el.closest) return false;
  if (el.closest('input, select, textarea, [contenteditable], .gv')) return true;
  return key === ' ' && !!el.closest('button, summary, a');
}

/**
 * Space plays or pauses; left and right step; Home and End jump; Page Down and
 * Page Up jump an output row (with Shift, a channel) when `jump(unit, dir)` is
 * given. Only when the focus is not in something that uses those keys itself (a
 * field, a grid).
 */
export function bindKeys(player, target = document, jump = null) {
  target.addEventListener('keydown', (ev) => {
    if (ev.altKey || ev.ctrlKey || ev.metaKey || ownsKey(ev.target, ev.key)) return;
    const unit = ev.shiftKey ? 'channel' : 'row';
    const actions = {
      ' ': () => player.toggle(),
      ArrowRight: () => player.forward(),
      ArrowLeft: () => player.back(),
      Home: () => player.start(),
      End: () => player.end(),
      ...(jump && { PageDown: () => jump(unit, 1), PageUp: () => jump(unit, -1) }),
    };
    if (actions[ev.key]) {
      ev.preventDefault();
      actions[ev.key]();
    }
  });
}
