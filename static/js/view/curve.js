/**
 * Curves that grow while something trains (gradient descent's loss; the X/O
 * network's loss and accuracy): drawn on a canvas as the numbers arrive, and
 * written into a table beside it (the canvas's numeric alternative).
 * The scaling is pure and tested in Node.
 */

import { fmt } from '../core/format.js';

/** A round tick step (1, 2 or 5 times a power of ten) for about `count` ticks over `span`. */
export function niceStep(span, count = 5) {
  if (!(span > 0)) return 1;
  const raw = span / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/**
 * The y axis for some values. Logarithmic when every value is positive and they
 * span more than two decades (a loss falling towards 1e-8 would otherwise be a
 * flat line at zero); else linear from min(0, lowest) to the highest.
 * `fixed` ([lo, hi]) pins a linear axis (accuracy: 0 to 1).
 * @param {number[]} values
 * @returns {{log: boolean, lo: number, hi: number, ticks: number[]}}
 */
export function yScale(values, fixed = null) {
  if (fixed) {
    const step = niceStep(fixed[1] - fixed[0], 4);
    return { log: false, lo: fixed[0], hi: fixed[1], ticks: range(fixed[0], fixed[1], step) };
  }
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return { log: false, lo: 0, hi: 1, ticks: [0, 0.5, 1] };
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  if (min > 0 && max / min > 100) {
    const lo = Math.floor(Math.log10(min));
    const hi = Math.ceil(Math.log10(max));
    const every = Math.max(1, Math.ceil((hi - lo) / 5));
    const ticks = [];
    for (let e = hi; e >= lo; e -= every) ticks.unshift(Number(`1e${e}`));
    return { log: true, lo: Number(`1e${lo}`), hi: Number(`1e${hi}`), ticks };
  }
  const lo = Math.min(0, min);
  let hi = max > lo ? max : lo + 1;
  const step = niceStep(hi - lo, 4);
  hi = Math.ceil(hi / step - 1e-9) * step;
  return { log: false, lo, hi, ticks: range(Math.floor(lo / step) * step, hi, step) };
}

function range(lo, hi, step) {
  const out = [];
  for (let v = lo; v <= hi + step * 1e-6; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Where `v` sits on the axis, 0 (bottom) to 1 (top), clamped. */
export function yFraction(v, s) {
  if (!Number.isFinite(v)) return 0;
  const f = s.log
    ? (Math.log10(Math.max(v, s.lo)) - Math.log10(s.lo)) / (Math.log10(s.hi) - Math.log10(s.lo) || 1)
    : (v - s.lo) / (s.hi - s.lo || 1);
  return Math.max(0, Math.min(1, f));
}

/** A tick's label: 1e-6 rather than 0.000001 on a log axis. */
export function tickLabel(v, log) {
  if (log && (v < 0.01 || v >= 1e4)) return `1e${Math.round(Math.log10(v))}`;
  return fmt(v);
}

// Colour-blind-safe pair from the diverging palette's ends (PuOr), told apart by dashes too.
const INKS = [['#542788', []], ['#b35806', [6, 4]], ['#2d004b', [2, 3]], ['#7f3b08', [10, 3, 2, 3]]];

/**
 * Bring `el` (a chart, or the section of charts) into view as a run starts, unless
 * it is already whole on screen (below a sticky bar: its scroll-margin-top); smooth unless the reader asked for less motion.
 * Scroll anchoring keeps it there while the page above it redraws.
 */
export function reveal(el) {
  const r = el.getBoundingClientRect();
  const over = parseFloat(getComputedStyle(el).scrollMarginTop) || 0; // under a sticky bar
  if (r.top >= over && r.bottom <= innerHeight) return;
  const smooth = !matchMedia('(prefers-reduced-motion: reduce)').matches;
  el.scrollIntoView({ block: r.height > innerHeight ? 'start' : 'nearest', behavior: smooth ? 'smooth' : 'auto' });
}

/**
 * Keep `el` in view while a run grows it: revealed at the start and after each
 * point (the maps above it redraw and may push it down), until the reader
 * scrolls or types, after which the page leaves the scrolling to them.
 * @returns {{grow: () => void, stop: () => void}}
 */
export function follow(el) {
  let on = true;
  const off = () => {
    on = false;
  };
  const events = ['wheel', 'touchmove', 'keydown'];
  for (const e of events) addEventListener(e, off, { passive: true });
  reveal(el);
  return {
    grow: () => on && reveal(el),
    stop: () => {
      for (const e of events) removeEventListener(e, off);
    },
  };
}

/**
 * One chart: a canvas with one line per series, a legend, and a table of every
 * point (x, then each series), named for screen readers.
 */
export class Curve {
  /**
   * @param {HTMLElement} root an empty element to build the chart in
   * @param {{name: string, x: string, series: string[], fixed?: number[] | null, digits?: (v: number) => string}} o
   */
  constructor(root, o) {
    this.root = root;
    this.o = o;
    this.points = [];
    root.classList.add('curve');
    root.innerHTML = '<div class="curve-legend"></div><canvas role="img"></canvas><div class="tables"><table class="numbers"><thead><tr></tr></thead><tbody></tbody></table></div>';
    this.canvas = root.querySelector('canvas');
    this.legend = root.firstChild;
    this.table = root.querySelector('table');
    this.label(o);
    this.frame = 0;
    requestAnimationFrame(() => this.draw());
  }

  /** Names (after a language switch too). */
  label(o) {
    this.o = { ...this.o, ...o };
    const { name, x, series } = this.o;
    this.canvas.setAttribute('aria-label', name);
    this.table.setAttribute('aria-label', name);
    this.legend.replaceChildren(...series.map((s, i) => {
      const span = document.createElement('span');
      span.className = `key key${i}`;
      span.textContent = s;
      return span;
    }));
    this.table.tHead.rows[0].replaceChildren(...[x, ...series].map((text) => {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = text;
      return th;
    }));
  }

  reset() {
    this.points = [];
    this.table.tBodies[0].replaceChildren();
    this.draw();
  }

  /** Add a point: `x` and one value per series. */
  push(x, values) {
    this.points.push([x, ...values]);
    const tr = this.table.tBodies[0].insertRow();
    const digits = this.o.digits || fmt;
    [x, ...values].forEach((v, i) => {
      const cell = i ? tr.insertCell() : document.createElement('th');
      if (!i) {
        cell.scope = 'row';
        tr.append(cell);
      }
      cell.textContent = i ? digits(v) : String(v);
    });
    if (!this.frame) this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  draw() {
    const c = this.canvas;
    const w = Math.max(200, c.clientWidth || 320);
    const h = Math.max(120, c.clientHeight || 180);
    const dpr = (typeof devicePixelRatio === 'number' && devicePixelRatio) || 1;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const ctx = c.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const pts = this.points;
    const n = this.o.series.length;
    const s = yScale(pts.flatMap((p) => p.slice(1)), this.o.fixed || null);
    const xMax = Math.max(1, ...pts.map((p) => p[0]));
    const left = 44;
    const box = { x: left, y: 8, w: w - left - 10, h: h - 30 };
    const X = (x) => box.x + (x / xMax) * box.w;
    const Y = (v) => box.y + (1 - yFraction(v, s)) * box.h;
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#555';
    ctx.strokeStyle = '#ddd';
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const v of s.ticks) {
      const y = Math.round(Y(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(box.x, y);
      ctx.lineTo(box.x + box.w, y);
      ctx.stroke();
      ctx.fillText(tickLabel(v, s.log), box.x - 4, y);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const step = niceStep(xMax, 5);
    for (let x = 0; x <= xMax; x += step) ctx.fillText(String(Number(x.toPrecision(6))), X(x), box.y + box.h + 4);
    ctx.strokeStyle = '#888';
    ctx.strokeRect(box.x + 0.5, box.y + 0.5, box.w, box.h);
    for (let i = 0; i < n; i++) {
      const [ink, dash] = INKS[i % INKS.length];
      ctx.strokeStyle = ink;
      ctx.lineWidth = 2;
      ctx.setLineDash(dash);
      ctx.beginPath();
      pts.forEach((p, k) => (k ? ctx.lineTo(X(p[0]), Y(p[i + 1])) : ctx.moveTo(X(p[0]), Y(p[i + 1]))));
      ctx.stroke();
      if (pts.length === 1) {
        ctx.fillStyle = ink;
        ctx.fillRect(X(pts[0][0]) - 2, Y(pts[0][i + 1]) - 2, 4, 4);
      }
    }
    ctx.setLineDash([]);
  }
}
