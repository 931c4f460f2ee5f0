/**
 * The page's only door to the server: thin fetch wrappers over the JSON API
 * (docs/API.md), plus the pure functions that build request bodies from the view
 * state and turn error answers into messages a control can show.
 */

import { interpolate } from './i18n.js';

/** An error answer, with the problems it names (`field` is null when it names none). */
export class ApiError extends Error {
  /** @param {number} status @param {{field: string | null, message: string}[]} problems */
  constructor(status, problems) {
    super(problems.map((p) => p.message).join('; ') || `HTTP ${status}`);
    this.status = status;
    this.problems = problems;
  }
}

/**
 * Turn FastAPI's error body into `{field, message}` problems. `detail` is either a
 * string or pydantic's list of `{loc, msg}`; the field is the first name after
 * "body" in `loc` (`["body", "input", 0, 1]` -> "input").
 * @param {any} body
 * @param {number} status
 */
export function parseProblems(body, status) {
  const detail = body && body.detail;
  if (typeof detail === 'string') return [{ field: null, message: detail }];
  if (Array.isArray(detail)) {
    return detail.map((d) => {
      const loc = Array.isArray(d.loc) ? d.loc.filter((x) => x !== 'body' && typeof x === 'string') : [];
      const msg = String(d.msg ?? d.message ?? 'invalid').replace(/^(Value|Assertion) error, /, '');
      const ctx = d.ctx && typeof d.ctx === 'object' ? d.ctx : {};
      return { field: loc[0] ?? null, message: msg, type: typeof d.type === 'string' ? d.type : null, ctx };
    });
  }
  return [{ field: null, message: `HTTP ${status}` }];
}

/**
 * The locale's words for the API's errors, by language: the server leaves them out
 * of the page's embedded strings (app/api/routes/pages.py LAZY_STRINGS) and the
 * first error answer loads them (`answer`), so they weigh on no first view.
 * @type {Record<string, Record<string, string>>}
 */
const ERROR_WORDS = {};

/** The page's language, as its translator knows it. */
const langOf = (t) => String(t('apierr.numberLocale')).slice(0, 2);

/** Load the error words of the document's language once (a failure leaves the general words). */
async function loadErrorWords() {
  const lang = (globalThis.document && document.documentElement.lang) || 'en';
  if (ERROR_WORDS[lang] || typeof document === 'undefined') return;
  try {
    const res = await fetch(`/static/locales/${lang}.json`);
    const all = res.ok ? await res.json() : {};
    ERROR_WORDS[lang] = Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('apierr.') || k.startsWith('apifield.')));
  } catch {
    // Offline: the page words the error by its field only.
  }
}

/** `t`, falling back to the loaded error words of the page's language. */
function wordOf(t) {
  return (key, params) => {
    const own = t(key, params);
    if (own !== key) return own;
    const late = (ERROR_WORDS[langOf(t)] || {})[key];
    return late === undefined ? key : interpolate(late, params);
  };
}

/** The field a problem names, in the page's words: `layers.2.weight` -> "weight" -> `apifield.weight`. */
function fieldName(field, t) {
  if (!field) return '';
  const last = String(field).split('.').filter((x) => !/^\d+$/.test(x)).pop() || String(field);
  const key = `apifield.${last}`;
  const worded = t(key);
  return worded === key ? last : worded;
}

/** A problem's parameters for its locale string: numbers grouped as the page's language groups them. */
function wordedParams(ctx, t) {
  const locale = t('apierr.numberLocale');
  const out = {};
  for (const [k, v] of Object.entries(ctx || {})) {
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v.toLocaleString(locale === 'apierr.numberLocale' ? undefined : locale);
    // Parameters that name a request or answer field, in the page's words (ru: "вход", not "input").
    else out[k] = FIELD_PARAMS.has(k) && typeof v === 'string' ? fieldName(v, t) : v;
  }
  return out;
}

/** ctx parameters whose value is a field's name. */
const FIELD_PARAMS = new Set(['where', 'scale_down']);

/**
 * A problem the API reported, in the page's language: its stable `type` (the code
 * of app/engine/errors.py CODES, or pydantic's own type) and parameters (`ctx`)
 * worded by the locale (`apierr.<type>`, fix included). A type the locale does not
 * know is named by its field only on a Russian page, so it never shows the
 * server's English (an English page keeps the server's own sentence then).
 * @param {{field: string|null, message: string, type?: string|null, ctx?: object}} p
 * @param {(key: string, params?: object) => string} t
 */
export function problemText(p, tr) {
  const t = wordOf(tr);
  const field = fieldName(p.field, t);
  const key = `apierr.${p.type}`;
  const worded = p.type ? t(key, { ...wordedParams(p.ctx, t), field }) : key;
  // Every placeholder filled: a problem whose ctx lacks a parameter falls through.
  if (worded !== key && !/\{\w+\}/.test(worded)) return worded[0].toUpperCase() + worded.slice(1);
  if (t('apierr.own') === 'server') return p.message;
  return field ? t('apierr.field', { field }) : t('apierr.other');
}

/** What went wrong, in the page's language: the API's problems, or the network's failure. */
export function errorText(e, t) {
  if (e instanceof ApiError) return e.problems.map((p) => problemText(p, t)).join(' ');
  return t('status.offline', { message: e.message });
}

/** The decoded body of a response, or an ApiError for an error answer. */
export async function answer(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON (a proxy's HTML page, say): the status alone has to do.
  }
  if (!res.ok) {
    await loadErrorWords();
    const problems = parseProblems(body, res.status);
    const retry = res.headers.get('Retry-After');
    if (res.status === 503 && retry) problems.push({ field: null, message: `retry after ${retry} s` });
    throw new ApiError(res.status, problems);
  }
  return body;
}

/** Tensors of more numbers than this travel compact; lecture-size ones stay readable lists. */
export const COMPACT_MIN = 1024;

/** Request fields that hold one image-sized tensor (`inputs`, a list of them, does not). */
const IMAGE_FIELDS = ['input', 'grad_output', 'target'];

/** The fields of `body` holding a tensor of more than COMPACT_MIN numbers. */
export function largeTensorFields(body) {
  return IMAGE_FIELDS.filter((key) => {
    let n = 1;
    for (let x = body[key]; Array.isArray(x); x = x[0]) n *= x.length;
    return Array.isArray(body[key]) && Array.isArray(body[key][0]) && n > COMPACT_MIN;
  });
}

/**
 * POST a JSON body; resolves to the decoded answer, rejects with ApiError. Image-sized
 * tensors go, and come back (`?encoding=base64`), in the compact form of compact.js;
 * the answer is nested lists either way.
 */
export async function post(path, body, signal) {
  const large = largeTensorFields(body);
  const request = (url, sent) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sent), signal });
  if (!large.length) return answer(await request(path, body));
  const { encodeCompact, revive } = await import('./compact.js');
  const sent = { ...body };
  for (const key of large) sent[key] = encodeCompact(body[key]);
  return revive(await answer(await request(`${path}?encoding=base64`, sent)));
}

/**
 * POST /api/backprop with each tensor sent once (`repeat: false`: a 64x64 backward
 * view is 150 KB instead of 226 KB), then the repeated fields filled back in from
 * where they first appear (docs/STEPS.md), so the rest of the page reads the answer
 * as the API documents it with `repeat: true`.
 */
export async function backprop(body, signal) {
  return refillBackprop(await post('/api/backprop', { ...body, repeat: false }, signal));
}

/** The `repeat: true` form of a `repeat: false` /api/backprop answer (same objects, filled). */
export function refillBackprop(a) {
  const { conv, activation, pool } = a;
  a.grad_input ??= conv.grad_input;
  a.grad_weight ??= conv.grad_weight;
  a.grad_bias ??= conv.grad_bias;
  const last = pool || activation || conv;
  last.output ??= a.output;
  last.grad_output ??= a.grad_output;
  if (activation) activation.grad_input ??= conv.grad_output;
  if (pool) pool.grad_input ??= (activation || conv).grad_output;
  return a;
}

export const conv2d = (body, signal) => post('/api/conv2d', body, signal);
export const maxPool2d = (body, signal) => post('/api/max_pool2d', body, signal);
export const avgPool2d = (body, signal) => post('/api/avg_pool2d', body, signal);
export const activation = (body, signal) => post('/api/activation', body, signal);

/** GET /api/presets */
export async function presets() {
  return answer(await fetch('/api/presets'));
}

/**
 * Decode an image file on the server: `{input: (C, H, W) 0..255, height, width, channels}`.
 * @param {Blob} file @param {'grey' | 'rgb'} mode @param {number} maxSide
 */
export async function uploadImage(file, mode, maxSide) {
  const form = new FormData();
  form.append('file', file);
  form.append('mode', mode);
  form.append('max_side', String(maxSide));
  const { revive } = await import('./compact.js');
  return revive(await answer(await fetch('/api/images?encoding=base64', { method: 'POST', body: form })));
}

/** The bias the view sends: one per filter (missing ones 0), or null. */
export const biasOf = (s, weight) => (s.bias ? weight.map((_, o) => s.bias[o] ?? 0) : null);

/**
 * The conv2d request for the current view.
 * @param {Record<string, any>} s view state
 * @param {number[][][]} input (C, H, W)
 * @param {number[][][][]} weight (C_out, C_in/groups, kH, kW)
 */
export function convBody(s, input, weight) {
  return {
    input,
    weight,
    bias: biasOf(s, weight),
    stride: s.stride,
    padding: s.padding,
    dilation: s.dilation,
    groups: s.groups,
    padding_mode: s.paddingMode,
    reduce: s.reduce,
  };
}

/**
 * The page's weight (filters, C_in/groups, kH, kW) in ConvTranspose2d's layout
 * (C_in, filters/groups, kH, kW): filter o still makes output channel o from the
 * input channels of its group.
 */
export function transposedWeight(weight, groups) {
  const og = weight.length / groups;
  const cg = weight[0].length;
  return Array.from({ length: cg * groups }, (_, ci) => {
    const g = Math.floor(ci / cg);
    return Array.from({ length: og }, (_, j) => weight[g * og + j][ci % cg]);
  });
}

/** The conv_transpose2d request for the current view (`weight` as the page holds it). */
export function convTransposeBody(s, input, weight) {
  return {
    input,
    weight: transposedWeight(weight, s.groups),
    bias: biasOf(s, weight),
    stride: s.stride,
    padding: s.padding,
    output_padding: s.outputPadding,
    groups: s.groups,
    dilation: s.dilation,
  };
}

/** The pooling request over `x` (the convolution's output, after its activation). */
export function poolBody(s, x) {
  const body = {
    input: x,
    kernel_size: s.poolKernel,
    padding: s.poolPadding,
    ceil_mode: s.ceil,
  };
  if (s.poolStride) body.stride = s.poolStride;
  if (s.pool === 'avg') body.count_include_pad = s.countIncludePad;
  return body;
}

/** The activation request over `x`. */
export function activationBody(s, x) {
  const body = { function: s.activation, input: x };
  if (s.activation === 'leaky_relu') body.negative_slope = s.slope;
  return body;
}
