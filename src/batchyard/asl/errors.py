"""Errors of the Amazon States Language package.

Runtime failures inside an execution are all one class, :class:`StatesError`, because Retry and
Catch match them by *name* (``ErrorEquals`` holds strings). Definition problems are
:class:`InvalidDefinition`, which carries every diagnostic found in one pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from batchyard.asl.diagnostics import Diagnostic


class StatesError(Exception):
    """A failure inside an execution, named exactly as AWS names it (``States.Runtime``, ...).

    ``name`` is what ``ErrorEquals`` matches; ``cause`` is the human text AWS reports, verbatim.
    """

    def __init__(self, name: str, cause: str = "") -> None:
        super().__init__(f"{name}: {cause}" if cause else name)
        self.name = name
        self.cause = cause


class InvalidDefinition(Exception):
    """Raised by :func:`batchyard.asl.compile` when the definition has errors.

    ``str(exc)`` is AWS's ``InvalidDefinition`` message; ``diagnostics`` lists every problem.
    """

    def __init__(self, message: str, diagnostics: list[Diagnostic]) -> None:
        super().__init__(message)
        self.message = message
        self.diagnostics = diagnostics
