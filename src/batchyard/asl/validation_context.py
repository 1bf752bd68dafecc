"""The state shared by every validation check while one definition is walked.

Checks never raise: they append :class:`Diagnostic` items to :attr:`Ctx.diagnostics`, so one
pass reports every problem. Locations are JSON-Pointer-like paths written the way AWS writes
them: object keys as ``/Key`` (not escaped: ``/States/My/State`` for a state called
``My/State``) and array positions as ``[i]`` (``/States/C/Choices[0]/Next``, as measured on
ValidateStateMachineDefinition).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from batchyard.asl.diagnostics import Diagnostic
from batchyard.asl.validation_messages import SCHEMA

JSONPATH = "JSONPath"
JSONATA = "JSONata"

# Validates a nested ``{StartAt, States}`` scope (Parallel branch, Map processor).
ScopeValidator = Callable[["Ctx", Any, str], None]


@dataclass
class Ctx:
    """Diagnostics collected so far, plus what the walk needs to know about the whole machine."""

    machine_language: str = JSONPATH
    express: bool = False
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Every state name seen so far, in any scope: AWS wants them unique machine-wide.
    state_names: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)
    validate_scope: ScopeValidator | None = None
    # Every {StartAt, States} block met, for the graph phase that runs after the walk.
    scopes: list[Any] = field(default_factory=list)

    def error(self, code: str, message: str, location: str) -> None:
        self.diagnostics.append(Diagnostic("ERROR", code, message, location))

    def warning(self, code: str, message: str, location: str) -> None:
        self.diagnostics.append(Diagnostic("WARNING", code, message, location))

    def schema(self, message: str, location: str) -> None:
        self.error(SCHEMA, message, location)

    def has_schema_errors(self) -> bool:
        return any(d.code == SCHEMA for d in self.diagnostics)


def is_int(value: Any) -> bool:
    """JSON integers only: ``True`` is a bool, and ``2.0`` is a number AWS reads as a decimal."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_jsonata(value: Any) -> bool:
    """A ``{% ... %}`` string: a JSONata expression wherever the state's language is JSONata."""
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def is_timestamp(value: str) -> bool:
    """RFC 3339 with the States Language's upper-case ``T`` (and a real calendar date)."""
    if not _RFC3339.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
