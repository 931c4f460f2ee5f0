/**
 * One step of a layer, derived from its geometry (docs/STEPS.md) and the tensors
 * the page already holds: the window an output cell reads over every input map of
 * its group, the kernel's slices, the products and each channel's partial sum.
 * Pure (tested in Node: tests/js/layers-derive.test.mjs); the step view draws it.
 */

/** Output cell (channel, row, column) of step `n` of a map-by-map layer. */
export function cellOfStep(geometry, n) {
  const [H, W] = geometry.output_size;
  return [Math.floor(n / (H * W)), Math.floor(n / W) % H, n % W];
}

/** The step of output cell (q, y, x). */
export function stepOfCell(geometry, q, y, x) {
  const [H, W] = geometry.output_size;
  return (q * H + y) * W + x;
}

/**
 * A convolution's output cell (q, y, x), channel by channel (zero padding).
 * @param {object} geo conv2d geometry
 * @param {number[][][]} input (C_in, H, W)
 * @param {number[][][][]} weight (C_out, C_in/groups, kH, kW)
 * @param {number[] | null} bias
 * @returns {{channels: {c: number, cells: number[][], inside: boolean[], values: number[], weights: number[], products: number[], partial: number}[], sum: number, bias: number, result: number}}
 */
export function convStep(geo, input, weight, bias, q, y, x) {
  const [kH, kW] = geo.kernel_size;
  const [sH, sW] = geo.stride;
  const [dH, dW] = geo.dilation;
  const [H, W] = geo.input_size;
  const { top, left } = geo.padding;
  const perGroup = geo.in_channels / geo.groups;
  const g = Math.floor(q / (geo.out_channels / geo.groups));
  const channels = [];
  let sum = 0;
  for (let m = 0; m < perGroup; m++) {
    const c = g * perGroup + m;
    const ch = { c, cells: [], inside: [], values: [], weights: [], products: [], partial: 0 };
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++) {
        const r = y * sH + i * dH - top;
        const col = x * sW + j * dW - left;
        const inside = r >= 0 && r < H && col >= 0 && col < W;
        const v = inside ? input[c][r][col] : 0;
        const w = weight[q][m][i][j];
        ch.cells.push([r, col]);
        ch.inside.push(inside);
        ch.values.push(v);
        ch.weights.push(w);
        ch.products.push(v * w);
        ch.partial += v * w;
      }
    }
    sum += ch.partial;
    channels.push(ch);
  }
  const b = bias ? bias[q] : 0;
  return { channels, sum, bias: b, result: sum + b };
}

/**
 * A pooling's output cell (q, y, x): the window's taps on map q, and its max or mean.
 * @param {object} geo max_pool2d or avg_pool2d geometry
 * @param {number[][][]} input (C, H, W)
 */
export function poolStep(geo, input, q, y, x) {
  const [kH, kW] = geo.kernel_size;
  const [sH, sW] = geo.stride;
  const [pH, pW] = geo.padding;
  const [dH, dW] = geo.dilation;
  const [H, W] = geo.input_size;
  const max = geo.op === 'max_pool2d';
  const cells = [];
  const inside = [];
  const values = [];
  let best = -Infinity;
  let argmax = null;
  let total = 0;
  let onInput = 0;
  for (let i = 0; i < kH; i++) {
    for (let j = 0; j < kW; j++) {
      const r = y * sH - pH + i * dH;
      const col = x * sW - pW + j * dW;
      const inMap = r >= 0 && r < H && col >= 0 && col < W;
      const v = inMap ? input[q][r][col] : 0;
      cells.push([r, col]);
      inside.push(inMap);
      values.push(v);
      if (inMap) {
        onInput++;
        total += v;
        if (v > best || Number.isNaN(v)) {
          best = v;
          argmax = cells.length - 1;
        }
      }
    }
  }
  if (max) return { cells, inside, values, argmax, divisor: null, result: best };
  let divisor = onInput;
  if (geo.count_include_pad) {
    // Taps on the padded input count, those past it (ceil_mode's overhang) do not.
    const span = (start, k, size, pad) => Math.min(start + k, size + pad) - start;
    divisor = span(y * sH - pH, kH, H, pH) * span(x * sW - pW, kW, W, pW);
  }
  return { cells, inside, values, argmax: null, divisor, result: total / divisor };
}
