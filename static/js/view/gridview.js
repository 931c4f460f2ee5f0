/**
 * One grid on screen (one channel of one tensor), as three stacked canvases:
 *
 * - heat:    one ImageData pixel per cell, scaled up by CSS (image-rendering:
 *            pixelated), so a 256x256 image costs 65k pixels, not 65k rectangles;
 * - ink:     numbers (when cells are big enough to hold them), grid lines and the
 *            hatched padding; redrawn only when the data or the size changes;
 * - overlay: the frame's marks (window, current cell, receptive field, cursor,
 *            the veil over cells not computed yet); cleared and redrawn per frame.
 *
 * The view holds no animation state: it draws what render.js tells it to and
 * reports pointer and keyboard events in cell coordinates.
 */

import { cellRGB, paint, paintRGB, textOn } from './colormap.js';
import { fmt } from '../core/format.js';

/** Cells at least this many CSS pixels wide show their numbers. */
export const NUMBERS_FROM = 18;
/**
 * Cells the animation has not reached yet: hidden (an opaque cover, so the answer
 * is not read before its step), or, with the page's "show outputs not computed
 * yet" switch (`ahead`), shown under a half-transparent veil.
 */
export const VEIL = { ahead: false, cover: '#e9ebef', veil: 'rgba(255,255,255,0.5)' };

/** @type {Promise<typeof import('./lens.js')> | null} */
let lensModule = null;

/**
 * Cell size in CSS pixels for a `rows x cols` grid in a `maxW x maxH` box.
 * @returns {number}
 */
export function cellSize(rows, cols, maxW, maxH, maxCell) {
  return Math.max(1, Math.min(maxCell, maxW / cols, maxH / rows));
}

export class GridView {
  /**
   * @param {object} o
   * @param {string} o.id view id, e.g. "input:0"
   * @param {boolean} [o.editable]
   * @param {(ev: {type: string, view: GridView, r: number, c: number}) => void} o.onEvent
   */
  constructor({ id, editable = false, onEvent }) {
    this.id = id;
    this.editable = editable;
    this.onEvent = onEvent;
    this.rows = 0;
    this.cols = 0;
    this.cell = 10;
    this.values = new Float64Array(0);
    this.inner = null;
    this.cursor = null;
    this.lastMarks = '';
    // The numbers' font: `fontRatio` of the cell, at most `maxFont` CSS px (the
    // embed view raises both for a projector).
    this.maxFont = 15;
    this.fontRatio = 0.34;
    this.el = document.createElement('div');
    this.el.className = 'gv';
    this.el.tabIndex = 0;
    this.el.dataset.view = id;
    if (editable) this.el.classList.add('editable');
    this.heat = this.layer('heat');
    this.ink = this.layer('ink');
    this.over = this.layer('over');
    this.lens = document.createElement('canvas');
    this.lens.className = 'lens';
    this.lens.hidden = true;
    this.el.append(this.lens);
    this.listen();
  }

  layer(name) {
    const c = document.createElement('canvas');
    c.className = name;
    this.el.append(c);
    return c;
  }

  /**
   * New numbers. `inner` is the block that is real input (the rest is padding,
   * drawn hatched), or null when all of it is.
   * @param {ArrayLike<number>} values row-major, rows*cols
   * @param {import('./colormap.js').Scale} scale
   * @param {ArrayLike<number>[] | null} [planes] a colour picture's red, green and
   *   blue channels (scale 'rgb'), drawn as one true-colour picture
   */
  setData(values, rows, cols, scale, inner = null, planes = null) {
    if (values.length !== rows * cols) throw new RangeError(`${this.id}: ${values.length} values for ${rows}x${cols}`);
    const resized = rows !== this.rows || cols !== this.cols;
    this.values = values;
    this.rows = rows;
    this.cols = cols;
    this.scale = scale;
    this.inner = inner;
    this.planes = scale.kind === 'rgb' && planes && planes.length === 3 ? planes : null;
    if (resized) {
      this.heat.width = cols;
      this.heat.height = rows;
      if (this.cursor && (this.cursor[0] >= rows || this.cursor[1] >= cols)) this.cursor = null;
    }
    const ctx = this.heat.getContext('2d');
    const img = ctx.createImageData(cols, rows);
    if (this.planes) paintRGB(this.planes, scale, img.data);
    else paint(values, scale, img.data);
    ctx.putImageData(img, 0, 0);
    // A new view is sized by the stage's layout, which follows: sizing its canvases
    // twice cost a big model (16 maps) a tenth of its first frame.
    if (resized) {
      if (this.box) this.fit(this.box);
    } else this.drawInk();
    this.lastMarks = '';
  }

  /** Size the view to fit `maxW x maxH` CSS pixels, cells at most `maxCell`. */
  fit([maxW, maxH, maxCell]) {
    this.box = [maxW, maxH, maxCell];
    if (!this.rows) return;
    this.cell = cellSize(this.rows, this.cols, maxW, maxH, maxCell);
    const w = this.cell * this.cols;
    const h = this.cell * this.rows;
    const dpr = (typeof devicePixelRatio === 'number' && devicePixelRatio) || 1;
    this.el.style.width = `${w}px`;
    this.el.style.height = `${h}px`;
    for (const c of [this.ink, this.over]) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
      c.getContext('2d').setTransform(dpr, 0, 0, dpr, 0, 0);
    }
    this.drawInk();
    this.lastMarks = '';
  }

  value(r, c) {
    return this.values[r * this.cols + c];
  }

  /** What a cell shows: its number, or a colour picture's red, green and blue. */
  text(r, c) {
    const k = r * this.cols + c;
    return this.planes ? this.planes.map((p) => fmt(p[k])).join(' ') : fmt(this.values[k]);
  }

  /** The [r, g, b] a cell is drawn in. */
  rgb(r, c) {
    return cellRGB(this.values, r * this.cols + c, this.scale, this.planes);
  }

  isPadding(r, c) {
    const i = this.inner;
    return !!i && (r < i.r0 || c < i.c0 || r >= i.r0 + i.rows || c >= i.c0 + i.cols);
  }

  drawInk() {
    const ctx = this.ink.getContext('2d');
    const { cell, rows, cols } = this;
    ctx.clearRect(0, 0, cols * cell, rows * cell);
    if (this.inner) {
      // Padding: hatched, so it never passes for input.
      ctx.save();
      ctx.beginPath();
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) if (this.isPadding(r, c)) ctx.rect(c * cell, r * cell, cell, cell);
      ctx.clip();
      // A light and a dark line side by side: visible on every colour of both maps.
      const step = Math.max(5, Math.min(9, cell / 3));
      for (const [style, dx] of [['rgba(255,255,255,0.5)', 0], ['rgba(0,0,0,0.35)', 1.5]]) {
        ctx.strokeStyle = style;
        ctx.lineWidth = 1;
        ctx.beginPath();
        for (let x = -rows * cell; x < cols * cell; x += step) {
          ctx.moveTo(x + dx, 0);
          ctx.lineTo(x + dx + rows * cell, rows * cell);
        }
        ctx.stroke();
      }
      ctx.restore();
    }
    if (cell >= 6) {
      ctx.strokeStyle = 'rgba(0,0,0,0.15)';
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let r = 1; r < rows; r++) {
        ctx.moveTo(0, r * cell + 0.5);
        ctx.lineTo(cols * cell, r * cell + 0.5);
      }
      for (let c = 1; c < cols; c++) {
        ctx.moveTo(c * cell + 0.5, 0);
        ctx.lineTo(c * cell + 0.5, rows * cell);
      }
      ctx.stroke();
    }
    if (cell >= NUMBERS_FROM) {
      ctx.font = `${Math.min(this.maxFont, Math.floor(cell * this.fontRatio))}px system-ui, sans-serif`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          ctx.fillStyle = textOn(this.rgb(r, c));
          ctx.fillText(this.text(r, c), (c + 0.5) * cell, (r + 0.5) * cell, cell - 2);
        }
      }
    }
    if (this.inner) {
      // The input's own edge: black dashes on white, visible on any colour.
      const i = this.inner;
      const rect = [i.c0 * cell + 1, i.r0 * cell + 1, i.cols * cell - 2, i.rows * cell - 2];
      ctx.lineWidth = 3;
      ctx.strokeStyle = '#fff';
      ctx.strokeRect(...rect);
      ctx.lineWidth = 2;
      ctx.strokeStyle = '#111';
      ctx.setLineDash([5, 3]);
      ctx.strokeRect(...rect);
      ctx.setLineDash([]);
    }
  }

  /**
   * Draw one frame's marks (see render.js `describeFrame`): `veil` covers the
   * cells after a row-major index, `hide` lists cells to cover. Skips the work
   * when the marks are those of the previous frame.
   */
  drawMarks(m = {}) {
    const sig = JSON.stringify(m) + VEIL.ahead;
    if (sig === this.lastMarks) return;
    this.lastMarks = sig;
    const ctx = this.over.getContext('2d');
    const { cell, rows, cols } = this;
    ctx.clearRect(0, 0, cols * cell, rows * cell);
    if (m.veil !== undefined && m.veil !== null) this.drawVeil(ctx, m.veil);
    ctx.fillStyle = VEIL.ahead ? VEIL.veil : VEIL.cover;
    for (const [r, c] of m.hide || []) ctx.fillRect(c * cell, r * cell, cell, cell);
    if (m.dim) {
      ctx.fillStyle = 'rgba(255,255,255,0.6)';
      ctx.fillRect(0, 0, cols * cell, rows * cell);
    }
    const ring = (r, c, width, inset = 0) => {
      const x = c * cell + inset;
      const y = r * cell + inset;
      const s = cell - 2 * inset;
      ctx.lineWidth = width + 2;
      ctx.strokeStyle = '#fff';
      ctx.strokeRect(x + width / 2, y + width / 2, s - width, s - width);
      ctx.lineWidth = width;
      ctx.strokeStyle = '#000';
      ctx.strokeRect(x + width / 2, y + width / 2, s - width, s - width);
    };
    const thin = Math.max(1, Math.min(2, cell / 8));
    for (const [r, c] of m.fed || []) ring(r, c, thin);
    for (const [r, c] of m.taps || []) {
      ctx.fillStyle = 'rgba(255,255,255,0.25)';
      ctx.fillRect(c * cell, r * cell, cell, cell);
    }
    for (const [r0, c0, r1, c1] of m.boxes || []) {
      const w = Math.max(2, Math.min(4, cell / 6));
      ctx.lineWidth = w + 2;
      ctx.strokeStyle = '#fff';
      ctx.strokeRect(c0 * cell, r0 * cell, (c1 - c0 + 1) * cell, (r1 - r0 + 1) * cell);
      ctx.lineWidth = w;
      ctx.strokeStyle = '#000';
      ctx.strokeRect(c0 * cell, r0 * cell, (c1 - c0 + 1) * cell, (r1 - r0 + 1) * cell);
    }
    if ((m.boxes || []).length && (m.taps || []).length > 1 && m.spaced) for (const [r, c] of m.taps) ring(r, c, thin);
    if (m.current) ring(m.current[0], m.current[1], Math.max(2, Math.min(4, cell / 6)));
    if (m.winner) {
      const [r, c] = m.winner;
      ctx.beginPath();
      ctx.arc((c + 0.5) * cell, (r + 0.5) * cell, cell * 0.42, 0, 2 * Math.PI);
      ctx.lineWidth = Math.max(2, cell / 10);
      ctx.strokeStyle = '#000';
      ctx.stroke();
    }
    if (cell >= 26) {
      ctx.font = `bold ${Math.max(9, Math.floor(cell * 0.24))}px system-ui, sans-serif`;
      ctx.textAlign = 'right';
      ctx.textBaseline = 'bottom';
      for (const [r, c, text] of m.subs || []) {
        const x = (c + 1) * cell - 2;
        const y = (r + 1) * cell - 1;
        const w = ctx.measureText(text).width + 3;
        ctx.fillStyle = 'rgba(255,255,255,0.9)';
        ctx.fillRect(x - w + 1, y - cell * 0.28, w, cell * 0.28);
        ctx.fillStyle = '#000';
        ctx.fillText(text, x, y);
      }
    }
    if (m.cursor) {
      const [r, c] = m.cursor;
      ctx.setLineDash([3, 2]);
      ctx.lineWidth = 2;
      ctx.strokeStyle = '#0050d0';
      ctx.strokeRect(c * cell + 1, r * cell + 1, cell - 2, cell - 2);
      ctx.setLineDash([]);
    }
    this.drawLens(m.cursor && cell < NUMBERS_FROM ? m.cursor : null);
  }

  /** Cover the cells after row-major index `n` (not computed yet); -1 covers all. */
  drawVeil(ctx, n) {
    const { cell, rows, cols } = this;
    const total = rows * cols;
    if (n >= total - 1) return;
    ctx.fillStyle = VEIL.ahead ? VEIL.veil : VEIL.cover;
    const next = n + 1;
    const r = Math.floor(next / cols);
    const c = next % cols;
    if (c > 0) {
      ctx.fillRect(c * cell, r * cell, (cols - c) * cell, cell);
      ctx.fillRect(0, (r + 1) * cell, cols * cell, (rows - r - 1) * cell);
    } else ctx.fillRect(0, r * cell, cols * cell, (rows - r) * cell);
  }

  /**
   * The zoom lens: when cells are too small for numbers, the cells round the
   * cursor drawn large, with their numbers ("what the computer sees"). Drawn by
   * lens.js, loaded the first time a lens shows (then in the same frame: a
   * settled promise's callback runs before the paint).
   */
  drawLens(at) {
    // Each view is its own stacking context (contain: layout): lift the one whose
    // lens is showing above the views drawn after it.
    this.el.style.zIndex = at ? '20' : '';
    this.lensAt = at;
    if (!at) {
      this.lens.hidden = true;
      return;
    }
    lensModule ??= import('./lens.js');
    lensModule.then((m) => {
      if (this.lensAt === at) m.drawLens(this, at);
    });
  }

  /** Cell under a pointer event, or null. */
  cellAt(ev) {
    const rect = this.over.getBoundingClientRect();
    const c = Math.floor(((ev.clientX - rect.left) / rect.width) * this.cols);
    const r = Math.floor(((ev.clientY - rect.top) / rect.height) * this.rows);
    return r >= 0 && c >= 0 && r < this.rows && c < this.cols ? [r, c] : null;
  }

  emit(type, rc) {
    this.onEvent({ type, view: this, r: rc ? rc[0] : -1, c: rc ? rc[1] : -1 });
  }

  listen() {
    let painting = false;
    this.over.addEventListener('pointerdown', (ev) => {
      const rc = this.cellAt(ev);
      if (!rc) return;
      this.cursor = rc;
      if (this.editable && ev.button === 0) {
        painting = true;
        this.over.setPointerCapture(ev.pointerId);
        ev.preventDefault();
        this.emit('paintstart', rc);
      }
      this.emit('hover', rc);
    });
    this.over.addEventListener('pointermove', (ev) => {
      const rc = this.cellAt(ev);
      if (!rc) return;
      if (painting) this.emit('paint', rc);
      if (!this.cursor || rc[0] !== this.cursor[0] || rc[1] !== this.cursor[1]) {
        this.cursor = rc;
        this.emit('hover', rc);
      }
    });
    const end = () => {
      if (painting) this.emit('paintend', null);
      painting = false;
    };
    this.over.addEventListener('pointerup', end);
    this.over.addEventListener('pointercancel', end);
    this.over.addEventListener('pointerleave', () => {
      if (painting) return;
      this.emit('leave', null);
    });
    this.el.addEventListener('focus', () => {
      if (!this.cursor) this.cursor = this.inner ? [this.inner.r0, this.inner.c0] : [0, 0];
      this.emit('hover', this.cursor);
    });
    this.el.addEventListener('blur', () => this.emit('leave', null));
    this.el.addEventListener('keydown', (ev) => {
      const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      const cur = this.cursor || [0, 0];
      if (moves[ev.key]) {
        const [dr, dc] = moves[ev.key];
        this.cursor = [
          Math.max(0, Math.min(this.rows - 1, cur[0] + dr)),
          Math.max(0, Math.min(this.cols - 1, cur[1] + dc)),
        ];
        ev.preventDefault();
        this.emit('hover', this.cursor);
      } else if ((ev.key === ' ' || ev.key === 'Enter') && this.editable) {
        ev.preventDefault();
        this.emit('toggle', cur);
      } else if (ev.key === 'Escape') {
        this.el.blur();
      }
    });
  }
}
