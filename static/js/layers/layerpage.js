/**
 * What /stack and /digits share around their state (each page still makes its own
 * store, core/store.js): the store's hooks, the map's step view bound to
 * `app.update`, and opening a map. The open map and its step live in the URL
 * (`open`), so Back closes a map and Forward opens it again.
 */

import { StepView } from './stepview.js';

const $ = (id) => document.getElementById(id);

/**
 * The store's hooks of a layer page. `rebuild({ step: true })` redraws the step
 * view only (a step, not a new map); Back to another language loads its words.
 * @param {{state: any}} app
 * @param {{compute: Function, sync: Function, draw: Function, showStep: Function, setLanguage: Function}} page
 */
export function layerHooks(app, { compute, sync, draw, showStep, setLanguage }) {
  return {
    compute,
    sync: () => sync(),
    rebuild: (o) => {
      if (!o.step) draw();
      showStep();
    },
    restore: (previous) => (app.state.lang !== previous.lang ? setLanguage(app.state.lang) : undefined),
  };
}

/** The step view in #step: a step replaces the history entry, closing it adds one. */
export function mapStepView(app) {
  return new StepView($('step'), () => app.t, (n) => {
    app.update({ open: { ...app.state.open, step: n } }, { history: 'replace', rebuild: { step: true }, compute: false });
  }, () => {
    app.update({ open: null }, { history: 'push', compute: false });
  });
}

/** Open map `map` of layer `layer` at its first step, and bring its step view into view. */
export function openMap(app, layer, map) {
  app.update({ open: { layer, map, step: 0 } }, { history: 'push', compute: false });
  $('step').scrollIntoView({ block: 'nearest' });
  $('step').querySelector('.step-map')?.focus();
}
