"""The engine's own exceptions, and the registry of their stable codes.

The engine knows nothing of HTTP; the web layer maps every ``EngineError`` to a
422 answer. Each error names the offending argument, says how to fix it (in
English, the API's ``msg``), and carries a stable ``code`` with its numbers
(``params``): what a client needs to word the error in its own language (the
page does, from ``apierr.<code>`` in static/locales). ``CODES`` lists every code
with the names of its parameters; docs/API.md documents them.
"""

from __future__ import annotations

from dataclasses import dataclass

Param = int | float | str


@dataclass(frozen=True)
class Code:
    """A kind of mistake: its parameters' names, what it means and how to fix it."""

    params: tuple[str, ...]
    meaning: str
    fix: str


def _c(params: str, meaning: str, fix: str) -> Code:
    return Code(tuple(params.split()), meaning, fix)


CODES: dict[str, Code] = {
    # --- values and choices
    "not_integer": _c("", "an integer (or a pair of integers) was expected", "give whole numbers"),
    "not_boolean": _c("", "true or false was expected", "give true or false"),
    "not_finite": _c("", "a finite number was expected", "give finite numbers"),
    "at_least": _c("min actual", "the value is below its minimum", "use {min} or more"),
    "positive": _c("actual", "the value must be above 0", "use a number above 0"),
    "in_range": _c("min max actual", "the value is outside [min, max]", "use {min}..{max}"),
    "in_range_open": _c(
        "min max actual", "the value is outside [min, max)", "use at least {min}, below {max}"
    ),
    "unknown_choice": _c("choices", "not one of the accepted names", "use one of {choices}"),
    "values_in_range": _c(
        "min max", "a tensor holds values outside [min, max]", "keep values in {min}..{max}"
    ),
    "unused_parameter": _c("by", "a parameter the chosen function does not take", "remove it"),
    "needs_one_target": _c(
        "", "the mse loss needs a target or a teacher_weight, exactly one", "give one of them"
    ),
    "needs_grad_output": _c("", "the loss 'grad_output' needs a hand-set dE/dO", "give it"),
    "needs_input_or_strokes": _c("", "give a picture or a drawing, exactly one", "give one"),
    "non_finite_loss": _c("", "the starting weight gives an infinite loss", "use smaller numbers"),
    # --- tensors and shapes
    "not_rectangular": _c("", "rows of different lengths", "give every row the same length"),
    "empty": _c("shape", "a tensor with an axis of length 0", "give every axis a cell"),
    "wrong_shape": _c("expected actual", "the tensor has the wrong shape", "give shape {expected}"),
    "no_inputs": _c("", "the list of inputs is empty", "give at least one input"),
    "count_mismatch": _c("given needed", "one per input/row was expected", "give {needed} of them"),
    "needs_maps": _c(
        "layer shape", "a conv or pooling layer after a flatten", "move it before the flatten"
    ),
    "glyph_too_small": _c("rows cols min", "the glyph is too small", "draw at least {min}x{min}"),
    "glyph_features": _c(
        "rows cols size", "the glyph's size does not fit the network", "draw {size}x{size}"
    ),
    "glyph_does_not_fit": _c(
        "side size", "a glyph larger than its grid", "use a side of at most {size}"
    ),
    "needs_fc_weight": _c(
        "filters features",
        "other filters than the lecture's need their own vote weights",
        "give fc_weight of shape (2, {features})",
    ),
    "index_out_of_range": _c("max", "an index outside the input", "pass max_pool2d's indices"),
    # --- convolution arithmetic
    "same_needs_stride_1": _c(
        "stride_h stride_w", "'same' padding with a stride above 1", "use a number or stride 1"
    ),
    "kernel_larger_than_input": _c(
        "kernel_h kernel_w input_h input_w",
        "the (dilated) kernel spans more cells than the padded input",
        "use a smaller kernel or dilation, or more padding",
    ),
    "groups_divide_input": _c(
        "groups channels", "groups does not divide the input channels", "use a divisor"
    ),
    "groups_divide_output": _c(
        "groups channels", "groups does not divide the filters", "use a divisor"
    ),
    "channels_mismatch": _c(
        "needed actual", "the weight reads another number of input channels", "fit the weight"
    ),
    "features_mismatch": _c(
        "needed actual", "the weight reads another number of features", "fit the weight"
    ),
    "padding_form": _c("", "padding that a transposed convolution does not take", "int or pair"),
    "output_padding_too_large": _c(
        "max", "output_padding not below the stride or dilation", "use at most {max}"
    ),
    "transpose_padding_too_large": _c(
        "rows cols", "padding cuts the whole output of a transposed conv", "use less padding"
    ),
    "reflect_padding_too_large": _c(
        "rows cols max_h max_w", "reflect padding as large as the input", "pad at most max"
    ),
    "circular_padding_too_large": _c(
        "rows cols", "circular padding larger than the input", "pad at most the input size"
    ),
    # --- pooling
    "pool_padding_over_half": _c(
        "padding kernel max", "pooling padding above half the kernel", "use at most {max}"
    ),
    "pool_input_too_small": _c(
        "span padded", "the pooling window spans more than the padded input", "shrink the window"
    ),
    "pool_window_in_padding": _c(
        "", "a dilated window lies wholly in the padding", "less dilation or padding"
    ),
    # --- limits of the API (app.api.limits): the request is valid but too large
    "kernel_over_limit": _c(
        "kernel_h kernel_w limit", "a kernel side over the limit", "use a smaller kernel"
    ),
    "channels_over_limit": _c("actual limit", "too many input channels", "use fewer channels"),
    "filters_over_limit": _c("actual limit", "too many filters", "use fewer filters"),
    "output_over_limit": _c("actual limit", "the output is too large", "use a larger stride"),
    "transpose_output_over_limit": _c(
        "actual limit", "a transposed conv's output is too large", "use a smaller stride"
    ),
    "unfolded_over_limit": _c(
        "actual limit", "the unfolded input is too large", "smaller input or kernel, larger stride"
    ),
    "macs_over_limit": _c("actual limit", "too many multiply-adds", "use fewer filters"),
    "pool_reads_over_limit": _c(
        "actual limit", "too many pooling window reads", "smaller kernel or larger stride"
    ),
    "answer_over_limit": _c(
        "actual limit",
        "the JSON answer is too large",
        "ask for ?encoding=base64 or a smaller input",
    ),
    "answer_over_limit_base64": _c(
        "actual limit", "the answer is too large even in base64", "smaller input, fewer filters"
    ),
    "memory_over_limit": _c(
        "actual limit", "the computation would hold too much memory", "smaller input, fewer filters"
    ),
    "overflow": _c(
        "where scale_down", "the answer overflows float32", "scale the named field down"
    ),
    "stack_macs_over_limit": _c(
        "actual limit", "the stack's multiply-adds are too many", "fewer filters or layers"
    ),
    "stack_maps_over_limit": _c(
        "actual limit", "the stack's maps hold too many numbers", "pool earlier, fewer filters"
    ),
    "steps_over_limit": _c("actual limit", "too many steps to draw", "use a smaller input"),
    "frame_cells_over_limit": _c("actual limit", "a frame draws too many cells", "smaller input"),
    "gif_cells_over_limit": _c(
        "actual limit", "an animation draws too many cells", "fewer filters"
    ),
    "code_numbers_over_limit": _c(
        "actual limit", "the code would embed too many numbers", "use a smaller input"
    ),
    "points_over_limit": _c("actual limit", "a drawing with too many points", "fewer points"),
    "weight_over_limit": _c("actual limit", "the weight is too large to train", "fewer filters"),
    "iterations_over_limit": _c(
        "max", "too many iterations for these inputs", "use max_iterations <= {max}"
    ),
    "stream_over_limit": _c("seconds limit", "the stream would stay open too long", "shorter"),
    "epochs_over_limit": _c("max", "too many epochs for this many glyphs", "use epochs <= {max}"),
}


class EngineError(ValueError):
    """A request the engine cannot compute, with the argument at fault."""

    def __init__(
        self,
        field: str,
        message: str,
        *,
        code: str,
        params: dict[str, Param] | None = None,
    ) -> None:
        super().__init__(f"{field}: {message}")
        given = dict(params or {})
        known = CODES.get(code)
        if known is None or set(known.params) != set(given):
            raise TypeError(f"error code {code!r} with params {sorted(given)} is not registered")
        self.field = field
        self.message = message
        #: A stable name for the kind of mistake, and its numbers (see ``CODES``).
        self.code = code
        self.params = given

    def renamed(self, field: str) -> EngineError:
        """The same error about ``field`` (a layer's ``pool.padding``, ``layers.2.weight``)."""
        return type(self)(field, self.message, code=self.code, params=self.params)


class ShapeError(EngineError):
    """A tensor has the wrong rank or a size that does not fit the others."""


class ParameterError(EngineError):
    """A parameter (stride, padding, mode, ...) is out of its domain."""
