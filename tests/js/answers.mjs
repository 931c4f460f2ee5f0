/**
 * The captured API answers (fixtures/, recaptured by fixtures/capture.py) and
 * their derivers (static/js/model/derive.js), as the page builds them.
 */

import { readFileSync } from 'node:fs';

import { backpropDerivers } from '../../static/js/view/backward.js';
import { derive } from '../../static/js/model/derive.js';

/** A fixture by name. */
export const load = (name) => JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url)));

/** A forward fixture's conv2d deriver, from its request and the answer's geometry. */
export function convSteps(fx) {
  const { input, weight, bias = null } = fx.request;
  return derive('conv2d', fx.conv.geometry, { input, weight, bias });
}

/** A forward fixture's pooling deriver (`key`: "pool" or "avg"), over the conv's output. */
export function poolSteps(fx, key) {
  const answer = fx[key];
  return derive(answer.geometry.op, answer.geometry, { input: fx.conv.output, indices: answer.indices });
}

/** A backprop fixture's derivers ({conv, gradw, gradx, pool}), as the backward view builds them. */
export function backpropSteps(fx) {
  const { input, weight, bias = null } = fx.request;
  const x = input.length && Array.isArray(input[0][0]) ? input : [input];
  return backpropDerivers(fx.answer, x, weight, bias);
}
