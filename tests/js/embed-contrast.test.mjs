// The embed's high-contrast theme on the grids (issue 12, item 6): marks meet 3:1
// against the black page, as WCAG's contrast ratio computes it.
import assert from 'node:assert/strict';
import test from 'node:test';
import { contrast, HIGH_CONTRAST } from '../../static/js/core/embed-options.js';
import { VEIL } from '../../static/js/view/gridview.js';

test('contrast ratio: the WCAG formula at its known points', () => {
  assert.equal(contrast('#000000', '#ffffff'), 21);
  assert.equal(contrast('#777777', '#777777'), 1);
  assert.ok(Math.abs(contrast('#767676', '#ffffff') - 4.54) < 0.01);
});

test('high contrast: cells not computed yet stand out from the black page', () => {
  assert.ok(contrast(HIGH_CONTRAST.cover, HIGH_CONTRAST.background) >= 4.5);
  // The light theme's pale cover is for a light page, not a black one's marks.
  assert.notEqual(VEIL.cover, HIGH_CONTRAST.cover);
});
