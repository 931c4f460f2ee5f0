/**
 * The page's derivation (static/js/model/derive.js) held to the engine's full
 * traces: every *.json fixture in the folder named by CONVVIZ_DERIVE_FIXTURES
 * (written by tests/test_derive_oracle.py; format in docs/STEPS.md, "Oracle
 * fixtures") is derived step by step and compared field by field: numbers to 1e-9
 * relative, integers exactly, the grid cell by cell, stepOfCell for every output
 * cell and stepsReading for every grid cell (against a table built from the
 * fixture's own cells and mask). Run: `node tests/js/oracle/derive_oracle.mjs`
 * (exits 1 on the first disagreement, or when there is nothing to check). It is a
 * plain script, not a `node --test` file, so that `node --test tests/js/` without
 * fixtures does not fail.
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { derive } from '../../../static/js/model/derive.js';

const dir = process.env.CONVVIZ_DERIVE_FIXTURES;
const fail = (msg) => {
  console.error(`derive_oracle: ${msg}`);
  process.exit(1);
};
if (!dir) fail('CONVVIZ_DERIVE_FIXTURES is not set: name the folder of fixtures tests/test_derive_oracle.py writes');
let names;
try {
  if (!statSync(dir).isDirectory()) fail(`${dir} is not a folder`);
  names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
} catch (e) {
  fail(`cannot read ${dir}: ${e.message}`);
}
if (!names.length) fail(`no *.json fixture in ${dir}`);

/** Equal to 1e-9 relative to the size of the numbers (or of the terms they sum). */
function close(a, b, scale = 0) {
  if (a === null || b === null) return a === b;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), scale, 1e-300);
}

let steps = 0;
let cellsChecked = 0;
for (const name of names) {
  const fx = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  const where = `${name} (${fx.derivation}: ${fx.name})`;
  const tr = fx.trace;
  const d = derive(fx.derivation, fx.geometry, fx.tensors);
  const problem = (msg) => fail(`${where}: ${msg}`);
  const same = (got, want, what) => {
    if (JSON.stringify(got) !== JSON.stringify(want)) problem(`${what}: derived ${JSON.stringify(got)}, trace ${JSON.stringify(want)}`);
  };

  const N = tr.out_index.length;
  if (d.count !== N) problem(`count ${d.count}, trace has ${N} steps`);
  if (N && d.taps !== tr.cells[0].length) problem(`taps ${d.taps}, trace has ${tr.cells[0].length}`);
  if (fx.derivation === fx.geometry.op && fx.geometry.steps !== undefined && fx.geometry.steps !== N) problem(`geometry.steps ${fx.geometry.steps}, trace has ${N}`);
  same(d.gridOrigin, tr.grid_origin, 'gridOrigin');
  const shape = [tr.grid.length, tr.grid[0].length, tr.grid[0][0].length];
  same(d.gridShape, shape, 'gridShape');
  tr.grid.forEach((plane, c) => plane.forEach((row, r) => row.forEach((v, col) => {
    if (!close(d.gridValue(c, r, col), v)) problem(`grid[${c}][${r}][${col}] derived ${d.gridValue(c, r, col)}, trace ${v}`);
  })));

  const readers = new Map(); // grid cell -> the steps whose counted taps read it, from the fixture
  for (let n = 0; n < N; n++) {
    const s = d.step(n);
    const at = `step ${n}`;
    same(s.out, tr.out_index[n], `${at} out`);
    same(s.window, tr.window[n], `${at} window`);
    same(s.cells, tr.cells[n], `${at} cells`);
    same(s.mask, tr.mask ? tr.mask[n] : s.mask.map(() => true), `${at} mask`);
    const scale = tr.products ? tr.products[n].reduce((a, p) => a + Math.abs(p), 0) / (tr.divisor ? tr.divisor[n] : 1) : 0;
    tr.values[n].forEach((v, k) => close(s.values[k], v) || problem(`${at} values[${k}] derived ${s.values[k]}, trace ${v}`));
    for (const key of ['weights', 'products']) {
      if ((tr[key] === null) !== (s[key] === null)) problem(`${at} ${key}: derived ${s[key] === null ? 'none' : 'some'}, trace ${tr[key] === null ? 'none' : 'some'}`);
      if (tr[key]) tr[key][n].forEach((v, k) => close(s[key][k], v) || problem(`${at} ${key}[${k}] derived ${s[key][k]}, trace ${v}`));
    }
    if (!close(s.sum, tr.sums[n], scale)) problem(`${at} sum derived ${s.sum}, trace ${tr.sums[n]}`);
    if (!close(s.result, tr.result[n], scale + Math.abs(tr.bias ? tr.bias[n] : 0))) problem(`${at} result derived ${s.result}, trace ${tr.result[n]}`);
    for (const [key, got] of [['bias', s.bias], ['divisor', s.divisor]]) {
      const want = tr[key] ? tr[key][n] : null;
      if (!close(got, want)) problem(`${at} ${key} derived ${got}, trace ${want}`);
    }
    same(s.argmax, tr.argmax ? tr.argmax[n] : null, `${at} argmax`);
    const [oc, or, ocol] = tr.out_index[n];
    if (d.stepOfCell(oc, or, ocol) !== n) problem(`stepOfCell(${oc}, ${or}, ${ocol}) = ${d.stepOfCell(oc, or, ocol)}, not ${n}`);
    tr.cells[n].forEach(([c, r, col], k) => {
      if (tr.mask && !tr.mask[n][k]) return;
      const key = `${c},${r},${col}`;
      const list = readers.get(key);
      if (!list) readers.set(key, [n]);
      else if (list[list.length - 1] !== n) list.push(n);
    });
    steps++;
  }
  if (N) {
    const [C, H, W] = [tr.out_index.at(-1)[0] + 1, tr.out_index.at(-1)[1] + 1, tr.out_index.at(-1)[2] + 1];
    for (const cell of [[C, 0, 0], [0, H, 0], [0, 0, W], [-1, 0, 0]]) {
      if (d.stepOfCell(...cell) !== -1) problem(`stepOfCell(${cell}) = ${d.stepOfCell(...cell)} for a cell outside the output`);
    }
  }
  for (let c = -1; c <= shape[0]; c++) {
    for (let r = -1; r <= shape[1]; r++) {
      for (let col = -1; col <= shape[2]; col++) {
        same(d.stepsReading(c, r, col), readers.get(`${c},${r},${col}`) || [], `stepsReading(${c}, ${r}, ${col})`);
        cellsChecked++;
      }
    }
  }
}
console.log(`derive_oracle: ${names.length} fixtures, ${steps} steps and ${cellsChecked} grid cells agree with the engine's traces`);
