/**
 * The small sums the lecture's scenes show beside the visualizer (pure, tested
 * in Node): the feature count of an image (slide 3) and the weight count of a
 * layer (slide 9), and where a map has its largest value (slide 4).
 */

/** Numbers in an H x W image with C channels: 128 x 128 x 3 = 49152. */
export function featureCount(h, w, c) {
  return h * w * c;
}

/**
 * Slide 9's three cases for K filters of k x k: a one-channel image, an RGB image
 * and a D-channel tensor; biases (one per filter) apart.
 */
export function weightCases(K, k, D) {
  const per = K * k * k;
  return { one: per, rgb: 3 * per, d: D * per, bias: K };
}

/** Weights of a conv layer: C_out * C_in/groups * kH * kW (+ C_out biases). */
export function layerWeights(cOut, cIn, kH, kW, bias) {
  return cOut * cIn * kH * kW + (bias ? cOut : 0);
}

/**
 * The largest value of a 2-D map and its first cell in row-major order.
 * @param {number[][]} map
 * @returns {{value: number, r: number, c: number}}
 */
export function largest(map) {
  let best = { value: -Infinity, r: -1, c: -1 };
  map.forEach((row, r) => row.forEach((v, c) => {
    if (v > best.value) best = { value: v, r, c };
  }));
  return best;
}

/** Read a positive integer from a field's text, or null. */
export function positiveInt(text, max) {
  const v = Number(text);
  return text.trim() !== '' && Number.isInteger(v) && v >= 1 && v <= max ? v : null;
}
