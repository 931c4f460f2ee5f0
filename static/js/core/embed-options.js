/**
 * The embed view's own options, beside the view state (state.js) in the same
 * query string: `/embed?<state>&controls=0&autoplay=1&theme=dark&fs=1.5`.
 * The start step and the speed are the state's own `step` and `sp`. Pure, so the
 * parsing is tested in Node; a malformed option keeps its default and is reported.
 */

import { lastParam } from './state.js';

export const THEMES = ['light', 'dark', 'high-contrast'];

const bool = {
  encode: (b) => (b ? '1' : '0'),
  decode(s) {
    if (s !== '0' && s !== '1') throw new RangeError('expected 0 or 1');
    return s === '1';
  },
};

/** Font scale: from half to three times the page's size. */
export const FONT_SCALE = { min: 0.5, max: 3 };

/** Each option: `name` in the options object, `key` in the URL, `def` its default. */
export const EMBED_OPTIONS = [
  { name: 'controls', key: 'controls', def: true, codec: bool },
  { name: 'autoplay', key: 'autoplay', def: false, codec: bool },
  { name: 'loop', key: 'loop', def: false, codec: bool },
  {
    name: 'theme', key: 'theme', def: 'light',
    codec: {
      encode: String,
      decode(s) {
        if (!THEMES.includes(s)) throw new RangeError(`expected one of ${THEMES.join(', ')}`);
        return s;
      },
    },
  },
  {
    name: 'fontScale', key: 'fs', def: 1,
    codec: {
      encode: (v) => String(Number(v.toFixed(2))),
      decode(s) {
        const v = Number(s);
        if (s === '' || !Number.isFinite(v) || v < FONT_SCALE.min || v > FONT_SCALE.max) {
          throw new RangeError(`expected a number ${FONT_SCALE.min}..${FONT_SCALE.max}`);
        }
        return v;
      },
    },
  },
];

/** The default options. */
export function embedDefaults() {
  return Object.fromEntries(EMBED_OPTIONS.map((o) => [o.name, o.def]));
}

/**
 * The options a query string holds.
 * @param {string} search
 * @returns {{options: Record<string, any>, warnings: {key: string, message: string}[]}}
 */
export function parseEmbed(search) {
  const params = new URLSearchParams(search);
  const options = embedDefaults();
  const warnings = [];
  for (const o of EMBED_OPTIONS) {
    const raw = lastParam(params, o.key);
    if (raw === null) continue;
    try {
      options[o.name] = o.codec.decode(raw);
    } catch (e) {
      warnings.push({ key: o.key, message: e.message });
    }
  }
  return { options, warnings };
}

/**
 * The options that differ from their defaults, as query parameters without the
 * leading "?" or "&" ("" when all are defaults).
 * @param {Record<string, any>} options
 */
export function embedQuery(options) {
  return EMBED_OPTIONS.filter((o) => options[o.name] !== undefined && options[o.name] !== o.def)
    .map((o) => `${o.key}=${o.codec.encode(options[o.name])}`)
    .join('&');
}

/** WCAG relative luminance of '#rrggbb'. */
export function luminance(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two '#rrggbb' colours (1..21). */
export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * The high-contrast theme's marks on the grids (on its black page): cells not
 * computed yet are covered in a grey that stands out from the black at 4.6:1
 * (a mark needs 3:1) instead of the light theme's pale cover.
 */
export const HIGH_CONTRAST = { background: '#000000', cover: '#767676' };
