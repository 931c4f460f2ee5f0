/**
 * From the view state to the API's answers, shared by the visualizer, the lecture
 * scenes and the embed view: presets resolved, the kernel turned 180 degrees for
 * true convolution (what the API, like PyTorch, computes is cross-correlation),
 * and the chain conv2d -> activation -> pooling.
 */

import * as api from './api.js';
import { clone, fitWeight, full, shapeOf } from './tensor.js';

/** The input as numbers, (C, H, W): a glyph preset's name resolved. */
export function resolveInput(state, presets) {
  if (Array.isArray(state.input)) return state.input;
  const g = presets.glyphs[state.input] || presets.glyphs.x;
  return g ? [g.input] : null;
}

/**
 * The weight as numbers, (C_out, C_in/groups, kH, kW): preset names (one per
 * filter: "diagonal~centre_x") repeated over the channels.
 */
export function resolveWeight(state, presets, channels) {
  if (Array.isArray(state.weight)) return state.weight;
  const cg = Math.max(1, Math.floor(channels / state.groups));
  const k = (name) => (presets.kernels[name] || presets.kernels.diagonal || { weight: [[1]] }).weight;
  return state.weight.split('~').map((name) => full([cg], 0).map(() => clone(k(name))));
}

/**
 * Every 2-D kernel of `w` turned 180 degrees (rows and columns reversed), at any
 * nesting: a (kH, kW) kernel or a (C_out, C_in, kH, kW) weight.
 * @param {any[]} w
 */
export function flipKernel(w) {
  if (!Array.isArray(w[0])) return w;
  if (!Array.isArray(w[0][0])) return [...w].reverse().map((row) => [...row].reverse());
  return w.map(flipKernel);
}

/** The weight the API is asked to correlate with: flipped for true convolution. */
export function appliedWeight(state, weight) {
  return state.flip ? flipKernel(weight) : weight;
}

/**
 * The conv2d answer, then the activation's and the pooling's when the state asks
 * for them. A failure is returned, not thrown, with the stage it happened in, so
 * what was computed before it can still be drawn: {conv, act, pool, failure}.
 */
export async function compute(state, input, weight) {
  let conv = null;
  let act = null;
  let pool = null;
  let failure = null;
  try {
    const w = appliedWeight(state, weight);
    conv = state.transposed
      ? // Its steps are derived by model/gradients.js, loaded only for a transposed view.
        (await Promise.all([api.post('/api/conv_transpose2d', api.convTransposeBody(state, input, w)), import('../model/gradients.js')]))[0]
      : await api.conv2d(api.convBody(state, input, w));
    let x = conv.output;
    if (state.activation !== 'none') {
      act = await api.activation(api.activationBody(state, x));
      x = act.output;
    }
    if (state.pool !== 'none') {
      try {
        const call = state.pool === 'max' ? api.maxPool2d : api.avgPool2d;
        // Its steps are derived by model/pool.js, loaded only for a view that pools.
        [pool] = await Promise.all([call(api.poolBody(state, x)), import('../model/pool.js')]);
      } catch (e) {
        failure = { stage: 'pool', e };
      }
    }
  } catch (e) {
    failure = { stage: conv ? 'act' : 'conv', e };
  }
  return { conv, act, pool, failure };
}

/** Keep an explicit weight's input channels at C_in/groups when that divides (`c`: the input's channels). */
export function refitWeight(state, c) {
  if (!Array.isArray(state.weight) || c % state.groups !== 0) return;
  const [o, , kh, kw] = shapeOf(state.weight);
  state.weight = fitWeight(state.weight, [o, c / state.groups, kh, kw]);
}
