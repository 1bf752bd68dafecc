"""JSONata checks: every ``{% ... %}`` string of a JSONata state must parse, and must not read
the (non-existent) context item at its top level.

AWS evaluates JSONata with no context item: input comes in as ``$states.input`` and variables as
``$name``. So a path whose first step is a bare name (``{% phone %}``) can never mean anything,
and AWS refuses the definition with ``UNSUPPORTED_JSONATA_EXPRESSION``. Names *inside* a path
(``$states.input.phone``) or a predicate are relative and fine, so only the top of each operand is
looked at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import jsonata
from jsonata.jexception import JException

from batchyard.asl import validation_messages as msg
from batchyard.asl.validation_context import Ctx

# Fields of a JSONata state whose strings AWS does not parse as JSONata (measured by others with
# ValidateStateMachineDefinition; ours only need the ones that can hold strings).
_NOT_PARSED = frozenset(
    {
        "Type",
        "Comment",
        "QueryLanguage",
        "Next",
        "End",
        "Default",
        "Resource",
        "Retry",
        "Credentials",
        "Label",
        "ErrorEquals",
        "CSVHeaders",
        "ProcessorConfig",
        # Walked on their own: nested scopes and the rules/catchers that have their own checks.
        "Branches",
        "ItemProcessor",
        "Iterator",
        "Choices",
        "Catch",
    }
)
# Payload fields: inside them every key is user data, so the deny list above stops applying.
_PAYLOAD_FIELDS = frozenset({"Arguments", "Output", "Assign", "ItemSelector", "BatchInput"})

_PLACEHOLDER = re.compile(r"\{\{\w+\}\}")


@lru_cache(maxsize=4096)
def parse_problem(expression: str) -> tuple[str, str]:
    """``(code, message)`` for an unusable expression, ``("", "")`` for a good one.

    An expression reading ``$states.errorOutput`` answers ``(ERROR_OUTPUT, "")``: whether that is
    a problem depends on where it sits (only a catcher's Output and Assign may read it). Cached
    because ``compile()`` validates on every execute and definitions repeat.
    """
    try:
        # The trailing space dodges a jsonata-python slip: a comment ending the text raises
        # IndexError instead of parsing. Whitespace never changes a JSONata expression.
        ast = jsonata.Jsonata(expression + " ").ast
    except JException as error:
        return msg.INVALID_JSONATA, _aws_parser_message(error)
    except Exception as error:  # other slips of the parser (an unclosed comment: IndexError)
        if "/*" in expression and "*/" not in expression.split("/*", 1)[1]:
            return msg.INVALID_JSONATA, JException.error_codes["S0106"]
        return msg.INVALID_JSONATA, str(error)
    name = _top_level_reference(ast)
    if name:
        return msg.UNSUPPORTED_JSONATA, msg.top_level_reference(name)
    if _reads_error_output(ast):
        return ERROR_OUTPUT, ""
    return "", ""


ERROR_OUTPUT = "$states.errorOutput"


def _nodes(node: Any) -> Iterator[Any]:
    """Every AST node under ``node`` (the parser's nodes are plain objects with a ``type``)."""
    pending, seen = [node], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for key, value in vars(current).items():
            if key.startswith("_outer") or key == "_jsonata_lambda":
                continue
            items = value if isinstance(value, list) else [value]
            for item in items:
                for child in item if isinstance(item, list) else [item]:
                    if isinstance(getattr(child, "type", None), str) and hasattr(child, "__dict__"):
                        pending.append(child)


def _reads_error_output(ast: Any) -> bool:
    for node in _nodes(ast):
        steps = getattr(node, "steps", None) if getattr(node, "type", None) == "path" else None
        if (
            steps
            and len(steps) > 1
            and (steps[0].type, steps[0].value) == ("variable", "states")
            and (steps[1].type, steps[1].value) == ("name", "errorOutput")
        ):
            return True
    return False


def _aws_parser_message(error: JException) -> str:
    """The parser's message as jsonata-js words it: ``{{token}}`` values are JSON-quoted.

    jsonata-python substitutes them raw (``Expected ], got ,``); AWS shows ``Expected "]", got ","``.
    """
    template = JException.error_codes.get(error.error)
    if template is None or template == "{{{message}}}" or "{{" not in template:
        return str(error)
    args = [error.current, error.expected]
    if error.extra is not None:
        args.append(error.extra)
    quoted = [json.dumps(arg) if isinstance(arg, str | int | float) else str(arg) for arg in args]
    try:
        return _PLACEHOLDER.sub("{}", template).format(*quoted)
    except (IndexError, ValueError):
        return str(error)


def _children(node: Any) -> list[Any]:
    """The operands of ``node`` that are still evaluated against the (absent) context item."""
    kind = getattr(node, "type", None)
    if kind == "binary" or kind == "apply":
        return [node.lhs, node.rhs]
    if kind == "bind":
        return [node.rhs]
    if kind == "unary":
        if node.value == "{":
            return [part for pair in (node.lhs_object or []) for part in pair]
        if node.value == "[":
            return list(node.expressions or [])
        return [node.expression]
    if kind in ("function", "partial"):
        return list(node.arguments or [])
    if kind == "condition":
        return [node.condition, node.then, node._else]
    if kind == "block":
        return list(node.expressions or [])
    return []


def _top_level_reference(node: Any) -> str:
    """The first bare name read at the top level of ``node`` ('' when there is none)."""
    pending = [node]
    while pending:
        current = pending.pop(0)
        if current is None:
            continue
        kind = getattr(current, "type", None)
        if kind == "name":
            return str(current.value)
        if kind == "path":
            steps = current.steps or []
            if steps and getattr(steps[0], "type", None) == "name":
                return str(steps[0].value)
            continue
        if kind == "variable" and current.value == "$":
            return "$$"
        pending.extend(_children(current))
    return ""


def check_string(ctx: Ctx, value: str, location: str, *, catcher: bool = False) -> None:
    """One string of a JSONata field; ``catcher``: it sits in a Catch's Output or Assign."""
    if value.startswith("{%") and value.endswith("%}") and len(value) >= 4:
        code, message = parse_problem(value[2:-2])
        if code == ERROR_OUTPUT:
            if not catcher:
                ctx.error(msg.UNSUPPORTED_JSONATA, msg.no_error_output(), location)
        elif code:
            ctx.error(code, message, location)
    elif value.startswith("{%"):
        ctx.schema(msg.jsonata_delimiters(), location)


def check_value(
    ctx: Ctx, value: Any, location: str, *, payload: bool = True, catcher: bool = False
) -> None:
    """Every JSONata string in ``value`` (a payload: any key may hold an expression)."""
    if isinstance(value, str):
        check_string(ctx, value, location, catcher=catcher)
    elif isinstance(value, dict):
        for key, item in value.items():
            if payload or key not in _NOT_PARSED:
                inner = payload or key in _PAYLOAD_FIELDS
                check_value(ctx, item, f"{location}/{key}", payload=inner, catcher=catcher)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_value(ctx, item, f"{location}[{index}]", payload=payload, catcher=catcher)


def check_state(ctx: Ctx, state: dict[str, Any], location: str) -> None:
    """Every JSONata string among the fields of one JSONata state."""
    check_value(ctx, state, location, payload=False)
