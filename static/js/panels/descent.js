/**
 * Gradient descent on the filter (slide 10), in the backward view: step or run
 * against the chosen loss, streamed from /api/descent/stream. Each step's kernel
 * goes into the view state as it arrives, so the settings' kernel, the grids and
 * the link follow it; the loss curve grows; Stop aborts the fetch, which closes
 * the stream and stops the work on the server. "Learn the diagonal detector"
 * loads the lecture's scenario (/api/descent/scenarios/diagonal-detector).
 */

import * as api from '../core/api.js';
import { fieldError } from './fields.js';
import { Curve, follow as keepInView } from '../view/curve.js';
import { fmt } from '../core/format.js';
import { teacherName } from '../view/backward.js';
import { appliedWeight, flipKernel, resolveWeight } from '../core/pipeline.js';
import { describeFrame, kernelGrid, Stage } from '../view/render.js';
import { postStream } from '../core/sse.js';
import { map, shapeOf } from '../core/tensor.js';

const $ = (id) => document.getElementById(id);

/** Pause between two steps of a run, in ms: slow enough to see the numbers change. */
export const PACE_MS = 40;
/** An MSE run stops once the loss is this small (a sum loss never converges). */
export const TOLERANCE = 1e-8;
/** The lecture's glyphs "the X, O and shifted X" train on (the scenario's inputs). */
export const XO_GLYPHS = ['x', 'o', 'x_shifted'];

/** Why descent cannot run in this state (a locale key), or null. */
export function blocker(state) {
  if (state.loss === 'grad') return 'bw.gd.noGrad';
  if (state.activation !== 'none' || state.pool !== 'none') return 'bw.gd.convOnly';
  if (state.loss === 'mse' && Array.isArray(state.target) && state.gdData === 'xo') return 'bw.gd.drawnOne';
  return null;
}

/**
 * The /api/descent body for the view state.
 * @param {object} o
 * @param {number[][][] | null} o.target MSE's map (drawn, or zeros), fitted to the output
 * @param {{w: any, b: any} | null} o.velocity to continue a run with momentum
 * @param {number} o.iterations most iterations
 */
export function descentBody(state, input, weight, presets, { target = null, velocity = null, iterations }) {
  const conv = api.convBody(state, input, appliedWeight(state, weight));
  const body = {
    inputs: state.gdData === 'xo' ? XO_GLYPHS.map((n) => [presets.glyphs[n].input]) : [input],
    weight: conv.weight,
    bias: conv.bias,
    stride: conv.stride,
    padding: conv.padding,
    dilation: conv.dilation,
    groups: conv.groups,
    padding_mode: conv.padding_mode,
    reduce: conv.reduce,
    loss: state.loss,
    lr: state.lr,
    momentum: state.momentum,
    max_iterations: iterations,
    loss_tolerance: state.loss === 'mse' ? TOLERANCE : null,
    delay_ms: PACE_MS,
  };
  const name = state.loss === 'mse' && teacherName(state.target, presets.kernels, shapeOf(conv.weight).slice(2));
  if (name) {
    body.teacher_weight = appliedWeight(state, resolveWeight({ ...state, weight: name }, presets, input.length));
    if (conv.bias) body.teacher_bias = conv.bias;
  } else if (state.loss === 'mse') body.targets = body.inputs.map(() => target);
  if (velocity) {
    body.velocity = velocity.w;
    if (velocity.b) body.velocity_bias = velocity.b;
  }
  return body;
}

/**
 * The drawing tools (index.html's one #draw, bound in controls.js) by X, the
 * input: in the dE/dW section, just above its grids (X is the first), rather than
 * above the loss's grids, which come first in this view. Moved, never copied; back
 * before the grids while there is no such section. The Stage creates the sections
 * and never reorders what is inside one.
 */
export function placeDrawTools(draw) {
  const sec = document.querySelector('#grids > .gsec[data-section="gradw"]');
  const before = sec ? sec.querySelector(':scope > .grids') : $('grids');
  if (draw && before && draw.nextElementSibling !== before) before.before(draw);
}

/** What a run continues from: a change to any of these starts a new curve. */
const runKey = (s) => JSON.stringify([s.input, s.weight, s.bias, s.stride, s.padding, s.dilation, s.groups, s.paddingMode, s.reduce, s.flip, s.loss, s.target, s.gdData]);

/** The descent panel: the kernel as it learns, the loss curve, the settings and runs. */
class Descent {
  constructor(app) {
    this.app = app;
    this.curve = new Curve($('gd-curve'), { name: '', x: '', series: [''] });
    this.mini = new Stage($('gd-kernel'), document.createElement('div'), () => {});
    this.lastT = null;
    this.running = null; // the AbortController of the run in hand
    this.velocity = null;
    this.offset = 0; // iterations before this run, on the curve
    this.key = '';
    this.scenarioSeed = 0;
    this.draw = $('draw');
    // On a phone the grids come first; the panel opens with a tap.
    if (window.innerWidth < 640) $('descent').open = false;
    this.bindRuns();
    this.bindSettings();
    this.bindScenarios();
  }

  label() {
    const { app } = this;
    this.curve.label({ name: app.t('bw.gd.curve'), x: app.t('bw.gd.iteration'), series: [app.t('bw.gd.loss')] });
  }

  /** The kernel as it learns, the fields, and whether descent can run (after every rebuild). */
  show(weight) {
    const { app } = this;
    // Once the grids of this rebuild are in (the Stage places them after this returns).
    queueMicrotask(() => placeDrawTools(this.draw));
    const s = app.state;
    if (this.lastT !== app.t) {
      this.lastT = app.t;
      this.label();
    }
    const model = { grids: [kernelGrid('w', weight, { title: 'grid.kernel', noTable: true })], stages: [], total: 0 };
    this.mini.setModel(model, app.t);
    this.mini.draw(describeFrame(model, 0, null, app.t));
    const set = (id, v) => {
      if (document.activeElement !== $(id)) $(id).value = String(v);
    };
    set('lr', s.lr);
    set('momentum', s.momentum);
    set('gd-max', s.gdMax);
    $('gd-data').value = s.gdData;
    const why = blocker(s);
    $('gd-note').hidden = !why;
    $('gd-note').textContent = why ? app.t(why) : '';
    $('gd-step').disabled = !!why || !!this.running;
    $('gd-run').disabled = !!why || !!this.running;
    $('gd-stop').disabled = !this.running;
  }

  status(text) {
    $('gd-status').textContent = text;
  }

  async run(iterations) {
    const { app } = this;
    const s = app.state;
    if (this.running || blocker(s)) return;
    const input = app.inputTensor();
    const weight = app.weightTensor(input.length);
    if (runKey(s) !== this.key) {
      this.curve.reset();
      this.velocity = null;
      this.offset = 0;
    }
    const target = app.results.bp ? app.results.bp.target : null;
    const body = descentBody(s, input, weight, app.presets, { target, velocity: this.velocity, iterations });
    this.running = new AbortController();
    this.show(weight);
    const view = keepInView($('gd-curve').closest('figure'));
    let last = null;
    // Each iteration's weights become the state only once the grids show the one
    // before, so the kernel, the output and the gradients always come from one
    // answer; a pace faster than the API answers skips to the newest iteration
    // (a new state while an answer is on its way would make that answer stale,
    // and at 40 ms a step the grids would never move before the end).
    let next = null; // the newest step not yet shown
    let showing = null; // the answer being waited for
    const follow = () => {
      if (showing || !next) return;
      const d = next;
      next = null;
      app.update((st) => {
        st.weight = s.flip ? flipKernel(d.weight) : d.weight;
        if (d.bias) st.bias = d.bias;
      }, { changed: null, history: false, rebuild: false, compute: false });
      this.key = runKey(app.state);
      showing = app.update({}, { history: false, rebuild: false }).finally(() => {
        showing = null;
        follow();
      });
    };
    const shown = async () => {
      while (showing || next) {
        follow();
        await showing;
      }
    };
    try {
      await postStream('/api/descent/stream', body, (event, d) => {
        if (event === 'step') {
          if (!(d.iteration === 0 && this.curve.points.length)) this.curve.push(this.offset + d.iteration, [d.loss]);
          view.grow();
          last = d;
          next = d;
          follow();
          this.status(app.t('bw.gd.status.running', { i: this.offset + d.iteration, loss: fmt(d.loss) }));
        } else if (event === 'done') {
          this.velocity = { w: d.velocity, b: d.velocity_bias };
          this.offset += d.iterations;
          const reason = app.t(`bw.gd.reason.${d.stop_reason}`, { tol: TOLERANCE });
          this.status(app.t('bw.gd.status.done', { i: this.offset, loss: fmt(d.loss), reason }));
        }
      }, this.running.signal);
    } catch (e) {
      if (e.name === 'AbortError') {
        if (last) this.offset += last.iteration;
        this.velocity = null; // the server kept it; a new run starts without
        this.status(app.t('bw.gd.status.done', { i: this.offset, loss: last ? fmt(last.loss) : '—', reason: app.t('bw.gd.reason.stopped') }));
      } else {
        this.status(api.errorText(e, app.t));
      }
    } finally {
      // The last iteration on the grids before the run counts as over (a failed
      // redraw has said why already; the run must end all the same).
      await shown().catch(() => {});
      view.stop();
      this.running = null;
      app.update({}, { history: 'replace', compute: false });
    }
  }

  bindRuns() {
    const { app } = this;
    $('gd-step').addEventListener('click', () => this.run(1));
    $('gd-run').addEventListener('click', () => this.run(app.state.gdMax));
    $('gd-stop').addEventListener('click', () => this.running && this.running.abort());
  }

  /** Settings: applied as typed when valid, explained where they are when not. */
  bindSettings() {
    const { app } = this;
    const bindNumber = (id, name, ok, message) => {
      $(id).addEventListener('input', () => {
        const v = Number($(id).value);
        const good = $(id).value.trim() !== '' && ok(v);
        fieldError(id, good ? null : message());
        if (!good) return;
        app.update({ [name]: v }, { history: 'replace', rebuild: false, compute: false });
      });
    };
    bindNumber('lr', 'lr', (v) => Number.isFinite(v) && v > 0 && v <= 1e6, () => app.t('bw.gd.errLr'));
    bindNumber('momentum', 'momentum', (v) => v >= 0 && v < 1, () => app.t('bw.gd.errMomentum'));
    bindNumber('gd-max', 'gdMax', (v) => Number.isInteger(v) && v >= 1 && v <= 1000, () => app.t('error.integer', { min: 1, max: 1000 }));
    $('gd-data').addEventListener('change', () => {
      app.update({ gdData: $('gd-data').value }, { history: 'push', compute: false });
    });
  }

  bindScenarios() {
    const { app } = this;
    const load = (next) => app.update(() => next, { changed: 'weight', history: 'push', sync: true });
    $('gd-random').addEventListener('click', () => {
      const w = app.weightTensor(app.inputTensor().length);
      load({ ...app.state, weight: map(w, () => Math.round((Math.random() * 2 - 1) * 100) / 100), step: 0 });
    });
    $('gd-scenario').addEventListener('click', async () => {
      try {
        const sc = await api.answer(await fetch(`/api/descent/scenarios/diagonal-detector?seed=${this.scenarioSeed++}`));
        load({
          ...app.state,
          input: 'x', scheme: 'pm1', weight: [[sc.weight]], bias: null, stride: [1, 1], padding: [0, 0], dilation: [1, 1],
          groups: 1, paddingMode: 'zeros', reduce: sc.reduce, flip: false, activation: 'none', pool: 'none',
          loss: 'mse', target: 'diagonal', lr: sc.lr, momentum: sc.momentum, gdMax: sc.max_iterations, gdData: 'xo', step: 0,
        });
        this.status(app.t('bw.gd.scenarioNote'));
      } catch (e) {
        this.status(e.message);
      }
    });
  }
}

/** The descent panel of the backward view; its `show(weight)` runs after every rebuild. */
export function initDescent(app) {
  return new Descent(app);
}
