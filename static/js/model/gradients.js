/**
 * conv2d's gradients and the transposed convolution, derived step by step
 * (correlate.js says how): dE/dW as slide 13's correlation of the input with
 * dE/dO, dE/dX as the full correlation of the dilated dE/dO with the kernel
 * turned 180 degrees, and conv_transpose2d, its gather view, as in Dumoulin &
 * Visin's animations. Each equals the engine trace of the same name.
 */

import { at3, convParts, correlation, pairOf, range, register, tensor } from './correlate.js';

/** dE/dW: dE/dO[o] slides over the padded input, windows stepping by the dilation (conv2d_grad_weight_trace). */
function conv2dGradWeight(geometry, { input, grad_output }) {
  const { grid, cOut, cg, og, divisor } = convParts(geometry, input);
  const d = tensor(grad_output, 3);
  const [oH, oW] = geometry.output_size;
  return correlation({
    ...grid,
    Q: cOut * cg,
    M: 1,
    k: [oH, oW],
    kernel: (q, m, i, j) => d.data[(Math.floor(q / cg) * oH + i) * oW + j],
    channel: (q) => Math.floor(Math.floor(q / cg) / og) * cg + (q % cg),
    // Grid channel c is read by (o, c % cg) for every o of c's group.
    readers: (c) => range(Math.floor(c / cg) * og, og).map((o) => o * cg + (c % cg)),
    out: geometry.kernel_size,
    stride: geometry.dilation,
    dilation: geometry.stride,
    divisor,
  });
}

/**
 * The gather view of a transposed correlation (transposed_correlation_trace):
 * the input stride-dilated and zero-padded by d*(k-1) - padding, the kernel
 * turned, its two channel axes swapped, stride 1.
 */
function transposed(x, w, { groups, stride, dilation, padding, outSize, bias = null, divisor = null }) {
  const [A, H, W] = x.shape;
  const [, bg, kH, kW] = w.shape;
  const ag = A / groups;
  const [sH, sW] = stride;
  const P = [dilation[0] * (kH - 1), dilation[1] * (kW - 1)];
  const origin = [Math.max(P[0] - padding[0], 0), Math.max(P[1] - padding[1], 0)];
  const start = [Math.max(padding[0] - P[0], 0), Math.max(padding[1] - P[1], 0)];
  const span = [(H - 1) * sH + 1, (W - 1) * sW + 1];
  const get = at3(x);
  return correlation({
    gridShape: [A, Math.max(start[0] + outSize[0] + P[0], origin[0] + span[0]), Math.max(start[1] + outSize[1] + P[1], origin[1] + span[1])],
    gridOrigin: origin,
    gridValue(c, r, col) {
      const rr = r - origin[0];
      const cc = col - origin[1];
      if (rr < 0 || cc < 0 || rr % sH || cc % sW || rr >= span[0] || cc >= span[1]) return 0;
      return get(c, rr / sH, cc / sW);
    },
    Q: bg * groups,
    M: ag,
    k: [kH, kW],
    kernel: (q, m, i, j) => w.data[(((Math.floor(q / bg) * ag + m) * bg + (q % bg)) * kH + (kH - 1 - i)) * kW + (kW - 1 - j)],
    channel: (q, m) => Math.floor(q / bg) * ag + m,
    readers: (c) => range(Math.floor(c / ag) * bg, bg),
    out: outSize,
    stride: [1, 1],
    dilation,
    start,
    bias: bias ? (q) => bias[q] : null,
    divisor,
  });
}

register({
  conv2d_grad_weight: conv2dGradWeight,
  // dE/dX on the padded input's grid (conv2d_grad_input_trace).
  conv2d_grad_input: (geometry, { input, weight, grad_output }) =>
    transposed(tensor(grad_output, 3), tensor(weight, 4), {
      groups: geometry.groups,
      stride: geometry.stride,
      dilation: geometry.dilation,
      padding: [0, 0],
      outSize: geometry.padded_size,
      divisor: convParts(geometry, input).divisor,
    }),
  conv_transpose2d: (geometry, { input, weight, bias }) =>
    transposed(tensor(input, 3), tensor(weight, 4), {
      groups: geometry.groups,
      stride: geometry.stride,
      dilation: geometry.dilation,
      padding: pairOf(geometry.padding),
      outSize: geometry.output_size,
      bias: bias ? tensor(bias, 1).data : null,
    }),
});
