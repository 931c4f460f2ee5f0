/**
 * The overview: one card per layer, every map of the layer as a thumbnail on the
 * layer's one shared grey scale, with the layer's shape, parameter count and
 * output-size formula. A thumbnail is a button: it opens the step view of that map.
 */

import { fmt } from '../core/format.js';
import { greyCanvas } from './maps.js';

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

/**
 * @param {HTMLElement} root
 * @param {{title: string, facts: string[], maps?: number[][][], vector?: number[], picture?: HTMLCanvasElement,
 *   range?: number[], layer: number, openable: boolean, mapName: (q: number) => string, selected?: number}[]} cards
 * @param {(layer: number, map: number) => void} onOpen
 * @param {(key: string, p?: object) => string} t
 */
export function renderOverview(root, cards, onOpen, t) {
  const out = cards.map((card) => {
    const sec = el('section', 'layer-card');
    sec.dataset.layer = String(card.layer);
    sec.append(el('h3', null, card.title));
    for (const f of card.facts) sec.append(el('p', 'fact', f));
    const grid = el('div', 'thumbs');
    if (card.picture) {
      const fig = el('figure', 'thumb photo');
      fig.append(card.picture, el('figcaption', null, t('lab.picture')));
      grid.append(fig);
    }
    if (card.maps) {
      const [lo, hi] = card.range;
      card.maps.forEach((m, q) => {
        const c = greyCanvas(m, lo, hi);
        const name = card.mapName(q);
        if (card.openable) {
          const b = el('button', 'thumb');
          b.type = 'button';
          b.setAttribute('aria-label', name);
          b.title = name;
          if (card.selected === q) b.setAttribute('aria-pressed', 'true');
          b.append(c);
          b.addEventListener('click', () => onOpen(card.layer, q));
          grid.append(b);
        } else {
          const f = el('figure', 'thumb');
          c.setAttribute('role', 'img');
          c.setAttribute('aria-label', name);
          f.append(c);
          grid.append(f);
        }
      });
      sec.append(el('p', 'scale', t('lab.scale', { lo: fmt(lo), hi: fmt(hi) })));
    }
    if (card.vector) {
      const [lo, hi] = card.range;
      const c = greyCanvas([card.vector], lo, hi);
      c.className = 'vector';
      c.setAttribute('role', 'img');
      c.setAttribute('aria-label', card.mapName(0));
      grid.append(c);
      sec.append(el('p', 'scale', t('lab.scale', { lo: fmt(lo), hi: fmt(hi) })));
    }
    sec.append(grid);
    return sec;
  });
  root.replaceChildren(...out);
}
