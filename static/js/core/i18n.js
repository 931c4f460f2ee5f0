/**
 * Every visible string comes from static/locales/<lang>.json (flat "area.name"
 * keys). The server renders the page in the requested language from the same
 * files (app/api/routes/pages.py), so nothing flashes in the wrong language; this
 * module switches languages in place and translates what the scripts write.
 */

export const LANGUAGES = ['en', 'ru'];

/**
 * Fill `{name}` placeholders from `params`.
 * @param {string} template @param {Record<string, any>} [params]
 */
export function interpolate(template, params = {}) {
  return template.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

/**
 * A translator over `dict`, falling back to `fallback` (English) and then to the
 * key itself, so a missing string shows up as its key instead of vanishing.
 * @param {Record<string, string>} dict @param {Record<string, string>} [fallback]
 * @returns {(key: string, params?: Record<string, any>) => string}
 */
export function translator(dict, fallback = {}) {
  return (key, params) => interpolate(dict[key] ?? fallback[key] ?? key, params);
}

/**
 * Fetch one locale file: the common words (`/static/locales/<lang>.json`), or a
 * page's own (`part`, e.g. "layers": `/static/locales/layers/<lang>.json`).
 */
export async function loadLocale(lang, part = '') {
  const res = await fetch(`/static/locales/${part ? `${part}/` : ''}${lang}.json`);
  if (!res.ok) throw new Error(`locale ${part ? `${part}/` : ''}${lang}: HTTP ${res.status}`);
  return res.json();
}

/**
 * Translate the static markup under `root`: `data-i18n="key"` sets the text;
 * `data-i18n-attr="aria-label:key; title:key2"` sets attributes.
 * @param {ParentNode} root @param {(key: string) => string} t
 */
export function applyTo(root, t) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((x) => x.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
}

/**
 * The strings the server gave the page: the JSON in `#strings`, plus each string
 * the markup already shows, read back from it (the server leaves those out of the
 * JSON: app/api/routes/pages.py, in_markup). Call it before any script changes
 * the markup.
 * @param {Document} [doc] @returns {Record<string, string>}
 */
export function pageStrings(doc = document) {
  const dict = JSON.parse(doc.getElementById('strings').textContent);
  for (const el of doc.querySelectorAll('[data-i18n]')) if (!el.firstElementChild) dict[el.dataset.i18n] ??= el.textContent;
  for (const el of doc.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((x) => x.trim());
      if (attr && key && el.hasAttribute(attr)) dict[key] ??= el.getAttribute(attr);
    }
  }
  return dict;
}
