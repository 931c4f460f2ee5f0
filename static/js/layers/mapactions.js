/**
 * Under a map's step view: a link to the same convolution on the main page (every
 * control, the same cell) when its input fits in a link, and the GIF of the map's
 * convolution or pooling from POST /api/export/gif, in the page's language.
 */

import { gifBody, mainPageLink } from './maplinks.js';

/**
 * @param {{geometry: object, input: any, weight?: any, bias?: any, q: number}} spec the open map
 * @param {number} step its open cell @param {string} lang @param {Function} t translator
 * @returns {HTMLElement[]}
 */
export function mapActions(spec, step, lang, t) {
  const row = document.createElement('div');
  row.className = 'step-actions';
  const tensors = { input: spec.input, weight: spec.weight, bias: spec.bias };
  if (spec.geometry.op === 'conv2d') {
    const href = mainPageLink(spec.geometry, tensors, spec.q, step, lang);
    if (href) {
      const a = document.createElement('a');
      a.className = 'step-main';
      a.href = href;
      a.textContent = t('lab.step.open');
      row.append(a);
    } else {
      const note = document.createElement('span');
      note.className = 'note';
      note.textContent = t('lab.step.tooLarge');
      row.append(note);
    }
  }
  const body = gifBody(spec.geometry, tensors, spec.q);
  if (body) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'step-gif';
    button.textContent = t('lab.step.gif');
    const status = document.createElement('span');
    status.className = 'note step-gif-status';
    status.setAttribute('aria-live', 'polite');
    button.addEventListener('click', async () => {
      button.disabled = true;
      status.textContent = t('lab.step.gifMaking');
      try {
        const res = await fetch(`/api/export/gif?lang=${lang}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        if (!res.ok) {
          const problem = await res.json().catch(() => ({}));
          const first = Array.isArray(problem.detail) ? problem.detail[0] : null;
          throw new Error(typeof problem.detail === 'string' ? problem.detail : first ? first.msg : res.statusText);
        }
        const a = document.createElement('a');
        a.href = URL.createObjectURL(await res.blob());
        a.download = `convviz-map-${spec.q + 1}.gif`;
        a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 1000);
        status.textContent = t('lab.step.gifDone');
      } catch (e) {
        status.textContent = t('lab.step.gifFailed', { message: e.message });
      } finally {
        button.disabled = false;
      }
    });
    row.append(button, status);
  }
  return row.childElementCount ? [row] : [];
}
