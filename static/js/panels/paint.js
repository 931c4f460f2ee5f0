/**
 * Painting the input grid with the pointer or the keyboard (main.js hands over the
 * input view's paint events). Loaded with the first stroke.
 */

import { SCHEMES, setCell, strokeValue } from './editors.js';

const $ = (id) => document.getElementById(id);

let stroke = null;

/** View cell (padded grid) -> input cell, or null on padding. */
function toInputCell(ev) {
  const view = ev.view;
  const i = view.inner || { r0: 0, c0: 0, rows: view.rows, cols: view.cols };
  const r = ev.r - i.r0;
  const c = ev.c - i.c0;
  return r >= 0 && c >= 0 && r < i.rows && c < i.cols ? [r, c] : null;
}

function paintValue(app) {
  const v = Number($('paint').value);
  return $('paint').value.trim() !== '' && Number.isFinite(v) ? v : SCHEMES[app.state.scheme].hi;
}

/**
 * A stroke paints one value: the one chosen, or, when it starts on a cell that
 * already holds it, the background (so a click toggles, as in any pixel editor).
 * @param {object} app main.js's app @param {import('../view/render.js').Stage} stage
 */
export function paintEvent(app, stage, ev) {
  if (ev.type === 'paintend') {
    stroke = null;
    stage.renderTables();
    return;
  }
  const rc = ev.r >= 0 ? toInputCell(ev) : null;
  if (!rc) return;
  const input = app.inputTensor();
  const current = input[ev.ch][rc[0]][rc[1]];
  let value;
  if (ev.type === 'paintstart' || ev.type === 'toggle') {
    value = strokeValue(current, paintValue(app), app.state.scheme);
    if (ev.type === 'paintstart') stroke = { value };
  } else if (ev.type === 'paint' && stroke) value = stroke.value;
  else return;
  if (ev.all ? input.every((g) => g[rc[0]][rc[1]] === value) : current === value) return;
  // On a colour picture's one view (ev.all) a stroke paints all three channels: a grey dot.
  let next = setCell(input, ev.ch, rc[0], rc[1], value);
  if (ev.all) for (let c = 0; c < input.length; c++) if (c !== ev.ch) next = setCell(next, c, rc[0], rc[1], value);
  app.update({ input: next }, {
    changed: 'input',
    history: ev.type === 'paint' ? 'replace' : 'push',
    rebuild: { deferTables: ev.type !== 'toggle' },
  });
}
