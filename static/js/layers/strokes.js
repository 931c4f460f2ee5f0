/**
 * Pen strokes: a drawing as lists of points in [0, 1] (x right, y down), short in a
 * URL, drawn on a canvas, captured from mouse, pen or finger. The pure parts are
 * tested in Node (tests/js/layers-strokes.test.mjs).
 */

/** Points per unit: strokes are kept to 1/200 of the pad, written as integers 0..200. */
const GRID = 200;
/** Most points one drawing keeps (the API takes 4,096). */
export const MAX_POINTS = 2000;

/** Drop points closer than `min` to the last kept one (the stroke keeps its end). */
export function simplify(points, min = 0.01) {
  if (points.length < 3) return points.slice();
  const out = [points[0]];
  for (let i = 1; i < points.length - 1; i++) {
    const [x, y] = out[out.length - 1];
    if (Math.hypot(points[i][0] - x, points[i][1] - y) >= min) out.push(points[i]);
  }
  out.push(points[points.length - 1]);
  return out;
}

/** "x.y.x.y-x.y..." with x, y integers 0..200: strokes separated by "-". */
export function encodeStrokes(strokes) {
  return strokes.map((s) => s.map(([x, y]) => `${Math.round(x * GRID)}.${Math.round(y * GRID)}`).join('.')).join('-');
}

export function decodeStrokes(text) {
  if (!text) return [];
  let total = 0;
  return text.split('-').map((s) => {
    const v = s.split('.').map(Number);
    if (v.length % 2 || !v.every((n) => Number.isInteger(n) && n >= 0 && n <= GRID)) throw new RangeError('bad stroke');
    total += v.length / 2;
    if (total > MAX_POINTS) throw new RangeError('too many points');
    const pts = [];
    for (let i = 0; i < v.length; i += 2) pts.push([v[i] / GRID, v[i + 1] / GRID]);
    return pts;
  });
}

/**
 * Draw strokes on a 2-D context of `size` pixels, white on black, pen `width` pixels.
 * @param {CanvasRenderingContext2D} ctx
 */
export function drawStrokes(ctx, strokes, size, width) {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, size, size);
  ctx.strokeStyle = '#fff';
  ctx.fillStyle = '#fff';
  ctx.lineWidth = width;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  for (const s of strokes) {
    if (s.length === 1) {
      ctx.beginPath();
      ctx.arc(s[0][0] * size, s[0][1] * size, width / 2, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    ctx.beginPath();
    s.forEach(([x, y], i) => (i ? ctx.lineTo(x * size, y * size) : ctx.moveTo(x * size, y * size)));
    ctx.stroke();
  }
}

/** Pen moves of the keyboard, in pad units: an arrow, and Shift with an arrow. */
export const KEY_STEP = 0.025;
export const KEY_JUMP = 0.1;

/**
 * The keyboard pen: what a key does to a pen at `at` (x, y in [0, 1]), `down` or not.
 * Arrows move it (Shift: further), kept on the pad; Space puts it down or lifts it;
 * Enter and Escape lift it; Backspace takes back the last stroke. Null: not a pen key.
 * @returns {{at: number[], down: boolean, undo?: boolean} | null}
 */
export function penKey(key, shift, at, down) {
  const d = shift ? KEY_JUMP : KEY_STEP;
  const moves = { ArrowLeft: [-d, 0], ArrowRight: [d, 0], ArrowUp: [0, -d], ArrowDown: [0, d] };
  const clip = (v) => Math.round(Math.max(0, Math.min(1, v)) * 1000) / 1000;
  if (key in moves) return { at: [clip(at[0] + moves[key][0]), clip(at[1] + moves[key][1])], down };
  if (key === ' ') return { at, down: !down };
  if (key === 'Enter' || key === 'Escape') return down ? { at, down: false } : null;
  if (key === 'Backspace') return { at, down: false, undo: true };
  return null;
}

/**
 * A canvas to draw on with mouse, pen or finger (pointer events), or the keyboard
 * (penKey: a pen cursor moved by the arrows). `onChange(strokes, done)` runs while
 * drawing (done false) and at each stroke's end (done true); `onPen(x, y, down)`
 * tells where the keyboard pen is, for a screen reader.
 */
export class StrokePad {
  constructor(canvas, onChange, { pen = 0.06, onPen = null } = {}) {
    this.canvas = canvas;
    this.strokes = [];
    this.onChange = onChange;
    this.onPen = onPen;
    this.pen = pen;
    this.current = null;
    this.cursor = [0.5, 0.5];
    canvas.style.touchAction = 'none'; // a finger draws instead of scrolling the page
    canvas.tabIndex = 0;
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    canvas.addEventListener('pointerup', (e) => this.up(e));
    canvas.addEventListener('pointercancel', (e) => this.up(e));
    canvas.addEventListener('keydown', (e) => this.key(e));
    canvas.addEventListener('focus', () => this.render());
    canvas.addEventListener('blur', () => {
      if (this.current) this.up({});
      else this.render();
    });
  }

  key(e) {
    const next = penKey(e.key, e.shiftKey, this.cursor, this.current !== null);
    if (!next) return;
    e.preventDefault();
    if (next.undo) {
      if (this.current) this.up({});
      this.strokes.pop();
      this.render();
      this.onChange(this.strokes, true);
      return;
    }
    this.cursor = next.at;
    if (next.down && !this.current) {
      this.current = [this.cursor.slice()];
      this.strokes.push(this.current);
      this.render();
    } else if (!next.down && this.current) {
      this.up({});
    } else if (this.current) {
      this.current.push(this.cursor.slice());
      this.render();
      this.onChange(this.strokes, false);
    } else this.render();
    this.onPen?.(this.cursor[0], this.cursor[1], this.current !== null);
  }

  at(e) {
    const r = this.canvas.getBoundingClientRect();
    const clip = (v) => Math.max(0, Math.min(1, v));
    return [clip((e.clientX - r.left) / r.width), clip((e.clientY - r.top) / r.height)];
  }

  down(e) {
    if (e.button !== undefined && e.button > 0) return;
    e.preventDefault();
    this.canvas.setPointerCapture?.(e.pointerId);
    this.current = [this.at(e)];
    this.strokes.push(this.current);
    this.render();
  }

  move(e) {
    if (!this.current) return;
    e.preventDefault();
    this.current.push(this.at(e));
    this.render();
    this.onChange(this.strokes, false);
  }

  up(e) {
    if (!this.current) return;
    e.preventDefault?.();
    const i = this.strokes.indexOf(this.current);
    this.strokes[i] = simplify(this.current, 0.005);
    this.current = null;
    this.render();
    this.onChange(this.strokes, true);
  }

  set(strokes) {
    this.strokes = strokes.map((s) => s.slice());
    this.render();
  }

  render() {
    const size = this.canvas.width;
    const ctx = this.canvas.getContext('2d');
    drawStrokes(ctx, this.strokes, size, this.pen * size);
    if (document.activeElement !== this.canvas) return;
    // The keyboard pen: a ring, filled while it is down.
    const [x, y] = this.cursor.map((v) => v * size);
    ctx.beginPath();
    ctx.arc(x, y, Math.max(4, (this.pen * size) / 2 + 2), 0, 2 * Math.PI);
    ctx.lineWidth = 2;
    ctx.strokeStyle = '#fdb863';
    ctx.stroke();
    if (this.current) {
      ctx.fillStyle = '#e08214';
      ctx.fill();
    }
  }
}
