"""The entry type of the function tables (``functions.FUNCTIONS``, ``aggregates.AGGREGATES``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import ast
from .values import Sql

if TYPE_CHECKING:
    from .expressions import ExprCompiler

VARIADIC = 1 << 16


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """Arity and the SQL generator of one function; ``compile`` gets the call node so that it can
    read literal arguments (periods, percentiles, subnets) and compile the others itself."""

    min_args: int
    max_args: int
    compile: Callable[[ExprCompiler, ast.Call], Sql]
    star: bool = False  # accepts `*` as its only argument (count)
