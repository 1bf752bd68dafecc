"""Placeholder: the interpreter helper replaces this module (issue #2)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from batchyard.asl.clock import Clock
from batchyard.asl.result import ExecutionResult


class StateMachine:
    pass


def compile(definition: Any) -> StateMachine:
    raise NotImplementedError("compile is being written")


def execute(
    definition: Any,
    input: Any = None,
    *,
    functions: Mapping[str, Callable[[Any, Any], Any]] | None = None,
    name: str | None = None,
    clock: Clock | None = None,
) -> ExecutionResult:
    raise NotImplementedError("execute is being written")
