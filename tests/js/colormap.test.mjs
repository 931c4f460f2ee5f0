import assert from 'node:assert/strict';
import { test } from 'node:test';

import { colourIndex, DIVERGING, GREY, luminance, paint, scaleFor, SEQUENTIAL, textColour, textFor } from '../../static/js/view/colormap.js';

const rgbAt = (p, i) => [p[i * 4], p[i * 4 + 1], p[i * 4 + 2]];

test('palettes have 256 opaque entries', () => {
  for (const p of [DIVERGING, SEQUENTIAL]) {
    assert.equal(p.length, 1024);
    for (let i = 0; i < 256; i++) assert.equal(p[i * 4 + 3], 255);
  }
});

// Entries are 8-bit: where one channel rounds up a step before another rounds down,
// lightness can wobble by about 0.001. Anything larger would be a real reversal.
const EPS = 0.002;

test('the diverging map is white at 0 and darkens monotonically both ways', () => {
  const scale = { kind: 'diverging', min: -1, max: 1 };
  const mid = colourIndex(0, scale);
  assert.equal(mid, 128);
  for (const c of rgbAt(DIVERGING, mid)) assert.ok(c > 235, `centre ${rgbAt(DIVERGING, mid)}`);
  let peak = 0;
  for (let i = 1; i < 256; i++) if (luminance(DIVERGING, i) > luminance(DIVERGING, peak)) peak = i;
  assert.ok(Math.abs(peak - 127.5) <= 3, `lightest at ${peak}`);
  for (let i = 1; i <= peak; i++) assert.ok(luminance(DIVERGING, i) >= luminance(DIVERGING, i - 1) - EPS);
  for (let i = peak + 1; i < 256; i++) assert.ok(luminance(DIVERGING, i) <= luminance(DIVERGING, i - 1) + EPS);
});

test('viridis lightness rises monotonically', () => {
  for (let i = 1; i < 256; i++) assert.ok(luminance(SEQUENTIAL, i) > luminance(SEQUENTIAL, i - 1) - EPS, `at ${i}`);
  assert.ok(luminance(SEQUENTIAL, 255) - luminance(SEQUENTIAL, 0) > 0.7);
});

test('scales: symmetric about 0 for signed values, from 0 for non-negative ones', () => {
  assert.deepEqual(scaleFor([-1, 0.5]), { kind: 'diverging', min: -1, max: 1 });
  assert.deepEqual(scaleFor([-0.2, 3]), { kind: 'diverging', min: -3, max: 3 });
  assert.deepEqual(scaleFor([0, 255, 12]), { kind: 'sequential', min: 0, max: 255 });
  assert.deepEqual(scaleFor([0, 0]), { kind: 'sequential', min: 0, max: 1 });
  assert.deepEqual(scaleFor([]), { kind: 'sequential', min: 0, max: 1 });
  assert.deepEqual(scaleFor([NaN, 2]), { kind: 'sequential', min: 0, max: 2 });
});

test('indices are clamped to the range and ends map to the ends', () => {
  const s = { kind: 'sequential', min: 0, max: 10 };
  assert.equal(colourIndex(0, s), 0);
  assert.equal(colourIndex(10, s), 255);
  assert.equal(colourIndex(-5, s), 0);
  assert.equal(colourIndex(50, s), 255);
  assert.equal(colourIndex(NaN, s), 128);
});

test('text colour contrasts with the cell', () => {
  const s = { kind: 'diverging', min: -1, max: 1 };
  assert.equal(textColour(0, s), '#000');
  assert.equal(textColour(-1, s), '#fff');
  assert.equal(textColour(1, s), '#fff');
});

test('every cell number meets WCAG AA (4.5:1) on every palette entry', () => {
  const ratio = (a, b) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  for (const [name, palette] of Object.entries({ DIVERGING, SEQUENTIAL, GREY })) {
    for (let i = 0; i < 256; i++) {
      const bg = luminance(palette, i);
      const text = textFor(bg) === '#000' ? 0 : 1;
      assert.ok(ratio(bg, text) >= 4.5, `${name}[${i}]: ${ratio(bg, text).toFixed(2)}:1`);
    }
  }
});

test('paint writes one pixel per cell and refuses a size mismatch', () => {
  const rgba = new Uint8ClampedArray(8);
  paint([-1, 1], { kind: 'diverging', min: -1, max: 1 }, rgba);
  assert.deepEqual([...rgba.slice(0, 3)], rgbAt(DIVERGING, 0));
  assert.deepEqual([...rgba.slice(4, 7)], rgbAt(DIVERGING, 255));
  assert.throws(() => paint([1, 2, 3], { kind: 'sequential', min: 0, max: 1 }, rgba), /pixels/);
});

// Machado, Oliveira & Fernandes (2009), deuteranopia at severity 1, on linear RGB.
const DEUTAN = [
  [0.367322, 0.860646, -0.227968],
  [0.280085, 0.672501, 0.047413],
  [-0.01182, 0.04294, 0.968881],
];
const lin = (c) => ((c /= 255) <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const simulate = (rgb) => DEUTAN.map((row) => row.reduce((a, m, j) => a + m * lin(rgb[j]), 0));
const dist = (a, b) => Math.hypot(...a.map((x, i) => x - b[i]));

test('under deuteranopia, -v and +v stay apart (the map does not fold onto itself)', () => {
  const scale = { kind: 'diverging', min: -1, max: 1 };
  for (let v = 0.25; v <= 1; v += 0.25) {
    const neg = simulate(rgbAt(DIVERGING, colourIndex(-v, scale)));
    const pos = simulate(rgbAt(DIVERGING, colourIndex(v, scale)));
    assert.ok(dist(neg, pos) > 0.1 * v, `v=${v}: ${dist(neg, pos)}`);
  }
  // And the ends differ from white, so strength still reads.
  const white = simulate([247, 247, 247]);
  assert.ok(dist(simulate(rgbAt(DIVERGING, 0)), white) > 0.8);
  assert.ok(dist(simulate(rgbAt(DIVERGING, 255)), white) > 0.8);
});
