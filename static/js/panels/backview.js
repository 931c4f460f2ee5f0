/**
 * The backward view's wiring (loaded by main.js only on ?view=backward): the
 * loss panel, the /api/backprop request, the model for the one render path
 * (backward.js), painting a target or dE/dO, the equations of slides 12 and 13,
 * and gradient descent (descent.js). The player, the stage, the settings and the
 * URL are main.js's, shared with the forward view.
 */

import * as api from '../core/api.js';
import { buildBackwardModel, teacherName } from '../view/backward.js';
import { initDescent } from './descent.js';
import { setCell } from './editors.js';
import { forwardEquations, inputEquations, weightEquations } from '../view/equations.js';
import { appliedWeight, resolveWeight } from '../core/pipeline.js';
import { defaults } from '../core/state.js';
import { full, resize2d, shapeOf } from '../core/tensor.js';

const $ = (id) => document.getElementById(id);

/** Most equations listed per kind (a 64x64 layer has thousands). */
export const MAX_EQUATIONS = 128;

/** Slide 12's numbers (docs/TRAINING_API.md's example): X 3x3, W 2x2 (the lecture's F), a hand-set dE/dO. */
const SLIDE12 = {
  input: [[[1, 2, 0], [3, 1, 2], [0, 1, 3]]],
  weight: [[[[1, -1], [2, 0]]]],
  gout: [[[1, 0], [-1, 2]]],
};

/**
 * A drawn map fitted to the output's shape (C, H, W): rows and columns kept or
 * cut from the top left, new cells `fill`, missing channels copies of the first.
 */
export function fitMap(t3, [C, H, W], fill) {
  return Array.from({ length: C }, (_, c) => resize2d(t3[c] || t3[0], H, W, fill));
}

/** The /api/backprop body for the view state (input and weight resolved). */
export function backpropBody(state, input, weight, presets) {
  const body = { ...api.convBody(state, input, appliedWeight(state, weight)) };
  if (state.activation !== 'none') {
    const { input: _, ...act } = api.activationBody(state, null);
    body.activation = act;
  }
  if (state.pool !== 'none') {
    const { input: _, ...pool } = api.poolBody(state, null);
    body.pool = { kind: state.pool, ...pool };
  }
  body.loss = state.loss === 'grad' ? 'grad_output' : state.loss;
  const name = state.loss === 'mse' && teacherName(state.target, presets.kernels, shapeOf(weight).slice(2));
  if (name) body.teacher_weight = appliedWeight(state, resolveWeight({ ...state, weight: name }, presets, input.length));
  return body;
}

/** Slide 12's small example (the backward view's opening), keeping the page's language and pace. */
export function slide12State(state) {
  const s = defaults();
  for (const k of ['lang', 'view', 'speed', 'lr', 'momentum', 'gdMax']) s[k] = state[k];
  return Object.assign(s, { ...structuredClone(SLIDE12), scheme: 'byte', reduce: 'sum', loss: 'grad' });
}

/** Whether MSE's target is a map (drawn, or zeros) rather than a teacher's output. */
export function mapTarget(state, presets, weight) {
  return state.loss === 'mse' && !teacherName(state.target, presets.kernels, shapeOf(weight).slice(2));
}

export function init(app, stage) {
  const v = {
    app,
    stage,
    bp: null, // the answer the equations were written for
    outShape: null, // the output's shape, from the last answer
    lastT: null,
    eqLists: {},
    stroke: null,
    shown: null, // the model on show
    lastStage: null,
    descent: initDescent(app),
  };
  document.body.classList.add('view-backward');
  bindLossPanel(v);
  return {
    compute: (input, weight) => compute(v, input, weight),
    buildModel: (input, weight, fresh) => buildModel(v, input, weight, fresh),
    frame: (desc) => frame(v, desc),
    gridEvent: (ev) => gridEvent(v, ev),
  };
}

// ---------------------------------------------------------------- computing

async function compute(v, input, weight) {
  const { app } = v;
  const s = app.state;
  const body = backpropBody(s, input, weight, app.presets);
  const drawn = mapTarget(s, app.presets, weight) ? 'target' : s.loss === 'grad' ? 'grad_output' : null;
  const fill = (shape) => {
    if (drawn === 'target') body.target = Array.isArray(s.target) ? fitMap(s.target, shape, 0) : full(shape, 0);
    if (drawn === 'grad_output') body.grad_output = s.gout ? fitMap(s.gout, shape, 0) : full(shape, 1);
  };
  try {
    if (drawn && !v.outShape) v.outShape = (await api.backprop({ ...body, loss: 'sum' })).output_shape;
    if (drawn) fill(v.outShape);
    let answer;
    try {
      answer = await api.backprop(body);
    } catch (e) {
      // The layer changed shape since the map was drawn: learn the new shape, refit.
      if (!drawn || !(e instanceof api.ApiError) || !e.problems.some((p) => p.field === drawn)) throw e;
      v.outShape = (await api.backprop({ ...body, loss: 'sum', target: undefined, grad_output: undefined })).output_shape;
      fill(v.outShape);
      answer = await api.backprop(body);
    }
    v.outShape = answer.output_shape;
    return { conv: { ...answer.conv, feature_count: answer.feature_count }, act: null, pool: answer.pool, failure: null, bp: answer };
  } catch (e) {
    return { conv: null, act: null, pool: null, failure: { stage: 'conv', e }, bp: null };
  }
}

// ---------------------------------------------------------------- the model

function buildModel(v, input, weight, fresh) {
  const { app } = v;
  const s = app.state;
  let answer = fresh ? app.results.bp : null;
  // A map being painted shows at once, before the answer comes back.
  if (answer && s.loss === 'mse' && Array.isArray(s.target) && answer.target) answer = { ...answer, target: fitMap(s.target, shapeOf(answer.target), 0) };
  if (answer && s.loss === 'grad' && s.gout) answer = { ...answer, grad_output: fitMap(s.gout, shapeOf(answer.grad_output), 0) };
  const model = buildBackwardModel({
    bp: answer,
    input,
    weight,
    bias: api.biasOf(s, weight),
    groups: s.groups,
    scheme: s.scheme,
    activation: s.activation,
    slope: s.slope,
    editable: { target: s.loss === 'mse' && Array.isArray(s.target), gout: s.loss === 'grad' },
  }, app.t);
  if (v.lastT !== app.t) {
    v.lastT = app.t;
    fillTargets(v);
    v.bp = null;
  }
  sync(v);
  if (fresh && app.results.bp !== v.bp) {
    v.bp = app.results.bp;
    writeEquations(v, v.bp, model.derivers, input, weight);
  }
  v.descent.show(weight);
  v.shown = model;
  return model;
}

// ---------------------------------------------------------------- the loss panel

function fillTargets(v) {
  const { app } = v;
  const [, , kh, kw] = shapeOf(app.weightTensor(app.inputTensor().length));
  const opts = Object.entries(app.presets.kernels)
    .filter(([, k]) => k.weight.length === kh && k.weight[0].length === kw)
    .map(([name]) => [name, app.t('bw.target.teacher', { name: app.t(`kernel.name.${name}`) })]);
  opts.push(['zero', app.t('bw.target.zero')], ['drawn', app.t('bw.target.drawn')]);
  $('target').replaceChildren(...opts.map(([v, text]) => {
    const o = document.createElement('option');
    o.value = v;
    o.textContent = text;
    return o;
  }));
  $('target').dataset.shape = `${kh}x${kw}`;
}

function sync(v) {
  const { app } = v;
  const s = app.state;
  const [, , kh, kw] = shapeOf(app.weightTensor(app.inputTensor().length));
  if ($('target').dataset.shape !== `${kh}x${kw}`) fillTargets(v);
  $('loss').value = s.loss;
  $('target').value = Array.isArray(s.target) ? 'drawn' : teacherName(s.target, app.presets.kernels, [kh, kw]) || 'zero';
  $('target').closest('.field').hidden = s.loss !== 'mse';
  const drawing = (s.loss === 'mse' && Array.isArray(s.target)) || s.loss === 'grad';
  $('bw-paint').closest('.row').hidden = !drawing;
  const zero = $('target').value === 'zero';
  const help = s.loss === 'grad' ? 'bw.help.grad' : s.loss === 'sum' ? 'bw.help.sum' : drawing ? 'bw.help.drawn' : zero ? 'bw.help.zero' : 'bw.help.mse';
  $('bw-help').textContent = app.t(help);
}

/** The loss panel's controls: loss, target, reset, and slide 12's example. */
function bindLossPanel(v) {
  const { app } = v;
  const changed = (field, change) => app.update(change, { changed: field, history: 'push' });

  $('loss').addEventListener('change', () => changed('loss', { loss: $('loss').value }));
  $('target').addEventListener('change', () => {
    const choice = $('target').value;
    // A drawing starts from the map the teacher made, so it begins as a small edit.
    changed('target', { target: choice === 'drawn' ? (app.results.bp && app.results.bp.target) || full(v.outShape || [1, 1, 1], 0) : choice });
  });
  $('bw-reset').addEventListener('click', () => {
    if (app.state.loss === 'grad') changed('grad_output', { gout: null });
    else changed('target', { target: full(v.outShape || [1, 1, 1], 0) });
  });
  $('bw-slide12').addEventListener('click', () => {
    v.outShape = null;
    app.update((st) => slide12State(st), { changed: 'example', history: 'push', sync: true });
  });
}

/** Paint the target (drawn) or dE/dO (hand-set): one value per stroke, as on the input. */
function gridEvent(v, ev) {
  const { app, stage } = v;
  const s = app.state;
  const which = ev.grid === 't' && s.loss === 'mse' && Array.isArray(s.target) ? 'target'
    : ev.grid === 'go' && s.loss === 'grad' ? 'gout' : null;
  if (!which) return;
  if (ev.type === 'paintend') {
    v.stroke = null;
    stage.renderTables();
    return;
  }
  if (ev.r < 0) return;
  const painted = which === 'target' ? app.results.bp && app.results.bp.target : app.results.bp && app.results.bp.grad_output;
  if (!painted) return;
  const map = fitMap(s[which] || painted, shapeOf(painted), 0);
  const current = map[ev.ch][ev.r][ev.c];
  const raw = Number($('bw-paint').value);
  const paint = $('bw-paint').value.trim() !== '' && Number.isFinite(raw) ? raw : 1;
  let value;
  if (ev.type === 'paintstart' || ev.type === 'toggle') {
    value = current === paint ? 0 : paint;
    if (ev.type === 'paintstart') v.stroke = value;
  } else if (ev.type === 'paint' && v.stroke !== null) value = v.stroke;
  else return;
  if (current === value) return;
  app.update({ [which]: setCell(map, ev.ch, ev.r, ev.c, value) }, {
    changed: which === 'target' ? 'target' : 'grad_output',
    history: ev.type === 'paint' ? 'replace' : 'push',
    rebuild: { deferTables: ev.type !== 'toggle' },
  });
}

// ---------------------------------------------------------------- slides 12 and 13

function writeEquations(v, answer, derivers, input, weight) {
  const { app } = v;
  const root = $('eq-cols');
  v.eqLists = {};
  const conv = answer && answer.conv;
  if (!conv || !derivers || !derivers.conv) {
    const p = document.createElement('p');
    p.className = 'note';
    p.textContent = app.t('bw.eq.none');
    root.replaceChildren(p);
    return;
  }
  const out = answer.activation || answer.pool ? 'Z' : 'O';
  const o = {
    weight: shapeOf(weight),
    input: shapeOf(input),
    dOut: shapeOf(conv.grad_output),
    pad: derivers.conv.gridOrigin,
    stride: conv.geometry.stride,
    out,
    t: app.t,
  };
  // Only the equations shown are written: each is derived from its step.
  const kinds = [
    ['conv', app.t('bw.eq.forward'), forwardEquations(derivers.conv, o, MAX_EQUATIONS)],
    ['gradw', app.t('bw.eq.weight', { z: out }), weightEquations(derivers.gradw, o, MAX_EQUATIONS)],
    ['gradx', app.t('bw.eq.input', { z: out }), inputEquations(derivers.gradx, o, MAX_EQUATIONS)],
  ];
  root.replaceChildren(...kinds.map(([kind, title, { items: eqs, total }]) => {
    const box = document.createElement('section');
    box.className = 'eq';
    const h = document.createElement('h3');
    h.textContent = title;
    const ol = document.createElement('ol');
    ol.setAttribute('aria-label', title);
    const items = new Map();
    for (const e of eqs) {
      const li = document.createElement('li');
      li.textContent = e.text;
      ol.append(li);
      items.set(e.n, li);
    }
    if (total > eqs.length) {
      const li = document.createElement('li');
      li.className = 'more';
      li.textContent = app.t('bw.eq.more', { n: total - eqs.length });
      ol.append(li);
    }
    v.eqLists[kind] = { ol, items, current: null };
    box.append(h, ol);
    return box;
  }));
}

/** Mark the equation of the step on show; bring a new stage's section into view. */
function frame(v, desc) {
  const p = desc.progress;
  const st = p && v.shown && v.shown.stages.find((x) => x.stage === p.stage);
  if (st && v.lastStage && st.stage !== v.lastStage) {
    const el = document.querySelector(`.gsec[data-section="${st.section}"]`);
    if (el) el.scrollIntoView({ block: 'start' });
  }
  v.lastStage = st ? st.stage : null;
  const f = desc.focus;
  for (const [kind, list] of Object.entries(v.eqLists)) {
    const li = f && f.stage === kind ? list.items.get(f.n) || null : null;
    if (li === list.current) continue;
    if (list.current) list.current.removeAttribute('aria-current');
    list.current = li;
    if (!li) continue;
    li.setAttribute('aria-current', 'step');
    const { ol } = list;
    if (li.offsetTop < ol.scrollTop || li.offsetTop + li.offsetHeight > ol.scrollTop + ol.clientHeight) {
      ol.scrollTop = li.offsetTop - ol.clientHeight / 3;
    }
  }
}
