/**
 * One map's convolution taken elsewhere: to the main page, with every control (its
 * URL state, state.js PROPS), and to the GIF export (POST /api/export/gif). Both
 * carry what made the map: the maps of the layer before that its filter reads (its
 * group's), the filter's slice for this map and its bias. Pure (tested in Node:
 * tests/js/layers-mapstep.test.mjs).
 */

import { defaults, encodeTensor, MAX_TENSOR_CHARS, PROPS, toQuery } from '../core/state.js';

/** The input maps a conv filter q reads (its group's) and its weight slice (1, C_in/groups, kH, kW). */
function convSlice(geometry, { input, weight, bias }, q) {
  const per = geometry.in_channels / geometry.groups;
  const g = Math.floor(q / (geometry.out_channels / geometry.groups));
  return { input: input.slice(g * per, (g + 1) * per), weight: [weight[q]], bias: bias ? [bias[q]] : null };
}

/** The main page's value scheme for numbers in this range (controls.js's rule, kept simple). */
function schemeOf(t3) {
  const all = t3.flat(2);
  if (all.some((v) => v > 1)) return 'byte';
  return all.some((v) => v < 0) ? 'pm1' : 'unit';
}

/**
 * The main page's address showing map q's convolution at cell n (the same numbers, every
 * control), or null when its input is too large for a link (state.js's MAX_TENSOR_CHARS)
 * or the layer is not a convolution.
 * @param {object} geometry the layer's geometry @param {{input: any, weight: any, bias?: any}} tensors
 */
export function mainPageLink(geometry, tensors, q, n, lang) {
  if (geometry.op !== 'conv2d' || geometry.padding_mode !== 'zeros') return null;
  const s = convSlice(geometry, tensors, q);
  if (encodeTensor(s.input).length > MAX_TENSOR_CHARS || encodeTensor(s.weight).length > MAX_TENSOR_CHARS) return null;
  const state = {
    ...defaults(PROPS),
    lang,
    input: s.input,
    scheme: schemeOf(s.input),
    weight: s.weight,
    bias: s.bias,
    stride: geometry.stride,
    padding: [geometry.padding.top, geometry.padding.left],
    dilation: geometry.dilation,
    reduce: geometry.reduce,
    step: n,
  };
  return `/${toQuery(state, PROPS)}`;
}

/**
 * The body of POST /api/export/gif for map q: a convolution (its filter slice over the
 * maps it reads) or a pooling (of the one map it reads); null for an activation.
 */
export function gifBody(geometry, tensors, q) {
  if (geometry.op === 'conv2d') {
    const s = convSlice(geometry, tensors, q);
    return { op: 'conv2d', ...s, stride: geometry.stride, padding: [geometry.padding.top, geometry.padding.left], dilation: geometry.dilation, reduce: geometry.reduce };
  }
  const pool = { input: [tensors.input[q]], kernel_size: geometry.kernel_size, stride: geometry.stride, padding: geometry.padding, ceil_mode: geometry.ceil_mode };
  if (geometry.op === 'max_pool2d') return { op: 'max_pool2d', ...pool, dilation: geometry.dilation };
  if (geometry.op === 'avg_pool2d') return { op: 'avg_pool2d', ...pool, count_include_pad: geometry.count_include_pad };
  return null;
}
