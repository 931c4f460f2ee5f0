/**
 * Switching the visualizer's language in place (the server rendered the first
 * one): the locale file, the markup's strings, and everything the scripts wrote.
 * Loaded with the first switch (main.js, setLanguage).
 */

import { fieldError, fillOptions, showFacts, syncControls } from './controls.js';
import { applyTo, loadLocale, translator } from '../core/i18n.js';

/**
 * @param {object} app main.js's app
 * @param {string} lang
 * @param {{kernelEditor: import('./editors.js').KernelEditor, onPlayState: () => void}} page
 */
export async function setLanguage(app, lang, { kernelEditor, onPlayState }) {
  try {
    app.t = translator(await loadLocale(lang));
  } catch (e) {
    fieldError('general', app.t('status.offline', { message: e.message }));
    return;
  }
  document.documentElement.lang = lang;
  applyTo(document, app.t);
  fillOptions(app);
  syncControls(app);
  onPlayState();
  kernelEditor.shape = '';
  app.rebuild();
  const input = app.inputTensor();
  if (input) showFacts(app, input, app.weightTensor(input.length));
}
