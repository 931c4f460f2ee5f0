/**
 * The lecture's examples (the settings' "Examples" list, controls.js): one chosen
 * becomes the state. Loaded with the first choice.
 */

import { schemeOf } from './editors.js';
import { defaults } from '../core/state.js';

const pairOf = (v) => (Array.isArray(v) ? v : [v, v]);

/** Load a lecture example: its input, kernel and parameters, presets kept by name. */
export function applyExample(app, ex) {
  const s = defaults();
  s.lang = app.state.lang;
  s.speed = app.state.speed;
  const conv = ex.steps.find((x) => x.operation === 'conv2d');
  const pool = ex.steps.find((x) => x.operation === 'max_pool2d');
  const req = conv.request;
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const glyph = Object.keys(app.presets.glyphs).find((k) => same(app.presets.glyphs[k].input, req.input));
  const kernel = Object.keys(app.presets.kernels).find((k) => same(app.presets.kernels[k].weight, req.weight));
  s.input = glyph || [req.input];
  s.weight = kernel || [[req.weight]];
  s.scheme = schemeOf([req.input]);
  s.stride = pairOf(req.stride ?? 1);
  s.padding = typeof req.padding === 'string' ? req.padding : pairOf(req.padding ?? 0);
  s.dilation = pairOf(req.dilation ?? 1);
  s.reduce = req.reduce ?? 'sum'; // the API's default, which the examples assume
  s.bias = typeof req.bias === 'number' ? [req.bias] : null;
  if (pool) {
    s.pool = 'max';
    s.poolKernel = pairOf(pool.request.kernel_size);
    s.poolStride = pool.request.stride ? pairOf(pool.request.stride) : null;
    s.poolPadding = pairOf(pool.request.padding ?? 0);
    s.ceil = !!pool.request.ceil_mode;
  }
  app.example = ex.id;
  app.uploadLost = false;
  app.update(() => s, { changed: 'example', history: 'push', sync: true });
}
