/**
 * The API's compact tensor form, `{dtype: "float32", shape, base64}` (base64 of
 * little-endian float32, row-major), to and from the nested lists the page works
 * with. Images travel this way: a 64x64 RGB upload is 12,288 numbers, a quarter of
 * the bytes of JSON lists and no number parsing on either side. Loaded by api.js
 * only when a request carries one (the first page load stays small).
 */

const isCompact = (v) =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && v.dtype === 'float32' &&
  Array.isArray(v.shape) && typeof v.base64 === 'string' && Object.keys(v).length === 3;

/**
 * `{dtype, shape, base64}` of a rectangular nested list of numbers; throws on a
 * ragged list or a non-number (the API would refuse those as lists too).
 */
export function encodeCompact(t) {
  const shape = [];
  for (let x = t; Array.isArray(x); x = x[0]) shape.push(x.length);
  const fits = (x, depth) =>
    depth === shape.length
      ? typeof x === 'number'
      : Array.isArray(x) && x.length === shape[depth] && x.every((y) => fits(y, depth + 1));
  if (!fits(t, 0)) throw new TypeError(`not a rectangular tensor of numbers of shape ${shape.join('x')}`);
  const flat = shape.length ? t.flat(shape.length - 1) : [t];
  // Float32Array is the machine's byte order; DataView writes little-endian everywhere.
  const view = new DataView(new ArrayBuffer(flat.length * 4));
  flat.forEach((v, i) => view.setFloat32(i * 4, v, true));
  const bytes = new Uint8Array(view.buffer);
  const parts = [];
  // In slices: fromCharCode takes its bytes as arguments, and engines cap those.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)));
  }
  return { dtype: 'float32', shape, base64: btoa(parts.join('')) };
}

/** The nested list a compact tensor holds. */
export function decodeCompact({ shape, base64 }) {
  const text = atob(base64);
  const view = new DataView(new ArrayBuffer(text.length));
  for (let i = 0; i < text.length; i++) view.setUint8(i, text.charCodeAt(i));
  let at = 0;
  const build = (depth) => {
    if (depth === shape.length) {
      const v = view.getFloat32(at, true);
      at += 4;
      return v;
    }
    return Array.from({ length: shape[depth] }, () => build(depth + 1));
  };
  return build(0);
}

/** `value` with every compact tensor inside it (at any depth) turned into nested lists. */
export function revive(value) {
  if (isCompact(value)) return decodeCompact(value);
  if (Array.isArray(value)) return value.map(revive);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }
  return value;
}
