/**
 * From the view state to the API's answers, shared by the visualizer (main.js),
 * the lecture scenes and the embed view so that they compute alike: preset names
 * resolved into tensors, the kernel turned for true convolution, and the chain
 * conv2d -> activation -> pooling.
 *
 * True convolution (the kernel flipped, as in a signal-processing textbook) is
 * cross-correlation (what deep-learning libraries call convolution) with the
 * kernel turned 180 degrees; the page asks the API for exactly that.
 */

import * as api from './api.js';
import { clone, full } from './tensor.js';

/**
 * The input as numbers, (C, H, W): a glyph preset's name resolved.
 * @param {Record<string, any>} state @param {{glyphs: object}} presets
 */
export function resolveInput(state, presets) {
  if (Array.isArray(state.input)) return state.input;
  const g = presets.glyphs[state.input] || presets.glyphs.x;
  return g ? [g.input] : null;
}

/**
 * The weight as numbers, (C_out, C_in/groups, kH, kW): kernel preset names
 * ("diagonal", or one per filter: "diagonal~centre_x") repeated over the channels.
 * @param {Record<string, any>} state @param {{kernels: object}} presets @param {number} channels
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
 * what was computed before it can still be drawn.
 * @returns {Promise<{conv: object | null, act: object | null, pool: object | null,
 *   failure: {stage: string, e: Error} | null}>}
 */
export async function compute(state, input, weight) {
  let conv = null;
  let act = null;
  let pool = null;
  let failure = null;
  try {
    conv = await api.conv2d(api.convBody(state, input, appliedWeight(state, weight)));
    let x = conv.output;
    if (state.activation !== 'none') {
      act = await api.activation(api.activationBody(state, x));
      x = act.output;
    }
    if (state.pool !== 'none') {
      try {
        const call = state.pool === 'max' ? api.maxPool2d : api.avgPool2d;
        pool = await call(api.poolBody(state, x));
      } catch (e) {
        failure = { stage: 'pool', e };
      }
    }
  } catch (e) {
    failure = { stage: conv ? 'act' : 'conv', e };
  }
  return { conv, act, pool, failure };
}

/**
 * The body of an export request (/api/export/...) for one stage of the current
 * view: "conv" (the convolution, kernel as applied) or "pool" (the pooling, over
 * the convolution's output after its activation; null without pooling or output).
 * @param {Record<string, any>} state
 * @param {{conv: object | null, act: object | null}} results the last answers
 */
export function exportBody(stage, state, input, weight, results) {
  if (stage === 'conv') return { op: 'conv2d', ...api.convBody(state, input, appliedWeight(state, weight)), trace: false };
  if (state.pool === 'none' || !results.conv) return null;
  const x = results.act ? results.act.output : results.conv.output;
  return { op: state.pool === 'max' ? 'max_pool2d' : 'avg_pool2d', ...api.poolBody(state, x), trace: false };
}
