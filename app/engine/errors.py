"""The engine's own exceptions.

The engine knows nothing of HTTP; the web layer maps every ``EngineError`` to a
422 answer. Each error names the offending argument and says how to fix it.
"""


class EngineError(ValueError):
    """A request the engine cannot compute, with the argument at fault."""

    def __init__(
        self,
        field: str,
        message: str,
        *,
        code: str | None = None,
        params: dict[str, int | float | str] | None = None,
    ) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        #: A stable name for the kind of mistake, and its numbers: what a client needs
        #: to word the error in its own language (the page does, static/locales).
        self.code = code
        self.params = dict(params or {})


class ShapeError(EngineError):
    """A tensor has the wrong rank or a size that does not fit the others."""


class ParameterError(EngineError):
    """A parameter (stride, padding, mode, ...) is out of its domain."""
