/**
 * An image upload (the settings panel's drop zone and file input, controls.js):
 * the server turns the file into an input tensor. Loaded with the first file.
 */

import * as api from '../core/api.js';
import { refitWeight } from '../core/pipeline.js';
import { reduceFor } from './editors.js';
import { fieldError } from './fields.js';

const $ = (id) => document.getElementById(id);

/** Upload `file` with the state's mode and size, and make it the input. */
export async function upload(app, file) {
  const status = $('upload-status');
  status.textContent = app.t('upload.busy');
  fieldError('file', null);
  try {
    const r = await api.uploadImage(file, app.state.uploadMode, app.state.maxSide);
    status.textContent = app.t('upload.done', { name: file.name || 'image', h: r.height, w: r.width, c: r.channels });
    $('paint').value = '255';
    app.uploadLost = false;
    app.update((s) => {
      s.scheme = 'byte';
      s.input = r.input;
      // A photo sums its products (mean is the X/O slide's choice; it would divide an edge filter by 9).
      s.reduce = 'sum';
      // The X/O slide's filters only look for -1/+1 strokes: on a photo every sum is
      // negative and the picture black. Start a photo on setosa's outline kernel.
      if (typeof s.weight === 'string' && reduceFor(s.weight) === 'mean') s.weight = 'outline';
      refitWeight(s, r.input.length);
    }, { changed: 'file', sync: true });
  } catch (e) {
    status.textContent = '';
    fieldError('file', api.errorText(e, app.t));
  }
}
