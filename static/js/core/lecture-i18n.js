/**
 * Strings of the lecture mode (scenes, embed options, the share, export and code
 * panels) live in static/locales/lecture/<lang>.json, apart from the visualizer's
 * own file, so the main page does not carry them inline. Elements take them from
 * `data-l="key"` (text) and `data-l-attr="title:key; aria-label:key2"`: not
 * data-i18n, which the visualizer's translator rewrites with its own strings.
 */

import { translator } from './i18n.js';

const files = new Map();

/** The lecture strings of `lang` (fetched once), as a translator. */
export async function lectureT(lang) {
  if (!files.has(lang)) {
    files.set(lang, fetch(`/static/locales/lecture/${lang}.json`).then((res) => {
      if (!res.ok) throw new Error(`lecture strings ${lang}: HTTP ${res.status}`);
      return res.json();
    }));
  }
  try {
    return translator(await files.get(lang));
  } catch (e) {
    files.delete(lang);
    throw e;
  }
}

/**
 * Translate `data-l` and `data-l-attr` under `root`.
 * @param {ParentNode} root @param {(key: string, params?: object) => string} L
 */
export function applyLecture(root, L) {
  for (const el of root.querySelectorAll('[data-l]')) el.textContent = L(el.dataset.l);
  for (const el of root.querySelectorAll('[data-l-attr]')) {
    for (const pair of el.dataset.lAttr.split(';')) {
      const [attr, key] = pair.split(':').map((x) => x.trim());
      if (attr && key) el.setAttribute(attr, L(key));
    }
  }
}
