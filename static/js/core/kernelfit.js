/**
 * Whether the kernel fits the input: the arithmetic the API checks
 * (app/engine/arithmetic.py, kernel_larger_than_input), done by the page first so
 * it says why beside the field instead of asking. A (dilated) kernel spans
 * (k - 1) * d + 1 cells and must fit the input with its padding:
 * (k - 1) * d + 1 <= H + pad_top + pad_bottom (the same for columns). 'same'
 * padding always fits; a transposed convolution has no such limit.
 */

/** The page's own cap on a kernel side (the rows and columns fields). */
export const KERNEL_FIELD_MAX = 15;

/** Padding rows and columns added on both sides together, or null for 'same'. */
export function paddedExtra(padding) {
  if (padding === 'same') return null;
  if (padding === 'valid') return [0, 0];
  if (padding.length === 4) {
    const [l, r, top, bottom] = padding;
    return [top + bottom, l + r];
  }
  return [2 * padding[0], 2 * padding[1]];
}

/**
 * The largest kernel rows and columns that fit an input of `rows` x `cols` with
 * the state's padding and dilation (capped at KERNEL_FIELD_MAX), and the padded size.
 * @returns {{rows: number, cols: number, padded: [number, number] | null}}
 */
export function kernelMax(state, rows, cols) {
  const extra = paddedExtra(state.padding);
  if (state.transposed || !extra) return { rows: KERNEL_FIELD_MAX, cols: KERNEL_FIELD_MAX, padded: null };
  const padded = [rows + extra[0], cols + extra[1]];
  const fit = (n, d) => Math.min(KERNEL_FIELD_MAX, Math.floor((n - 1) / d) + 1);
  return { rows: fit(padded[0], state.dilation[0]), cols: fit(padded[1], state.dilation[1]), padded };
}

/**
 * Null when a `kh` x `kw` kernel fits; else the API's parameters of the refusal
 * (kernel_larger_than_input: the dilated kernel and the padded input).
 */
export function kernelMisfit(state, rows, cols, kh, kw) {
  const extra = paddedExtra(state.padding);
  if (state.transposed || !extra) return null;
  const span = (k, d) => (k - 1) * d + 1;
  const misfit = {
    kernel_h: span(kh, state.dilation[0]),
    kernel_w: span(kw, state.dilation[1]),
    input_h: rows + extra[0],
    input_w: cols + extra[1],
  };
  return misfit.kernel_h > misfit.input_h || misfit.kernel_w > misfit.input_w ? misfit : null;
}
