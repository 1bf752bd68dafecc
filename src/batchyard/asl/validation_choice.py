"""Choice rules: the operator table and the recursive rule check (``And`` / ``Or`` / ``Not``).

A JSONPath rule is ``Variable`` plus exactly one comparison operator, or one combinator; a JSONata
rule is a ``Condition``. Only top-level rules carry ``Next`` (and ``Output`` / ``Assign``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from batchyard.asl import validation_jsonata as jsonata_checks
from batchyard.asl import validation_messages as msg
from batchyard.asl.validation_context import JSONATA, JSONPATH, Ctx, is_number, is_timestamp
from batchyard.asl.validation_paths import check_assign, looks_like_path, reference_path_problem

OperandCheck = Callable[[Any], str]


def _string(value: Any) -> str:
    return "" if isinstance(value, str) else msg.expected_type("STRING")


def _number(value: Any) -> str:
    return "" if is_number(value) else msg.expected_type("NUMBER")


def _boolean(value: Any) -> str:
    return "" if isinstance(value, bool) else msg.expected_type("BOOLEAN")


def _timestamp(value: Any) -> str:
    if not isinstance(value, str):
        return msg.expected_type("STRING")
    return "" if is_timestamp(value) else msg.bad_timestamp()


def _reference(value: Any) -> str:
    problem = reference_path_problem(value, context=True, variables=True)
    return msg.not_reference_path(problem) if problem else ""


_FAMILIES: tuple[tuple[str, OperandCheck, tuple[str, ...]], ...] = (
    (
        "String",
        _string,
        ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"),
    ),
    (
        "Numeric",
        _number,
        ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"),
    ),
    ("Boolean", _boolean, ("Equals",)),
    (
        "Timestamp",
        _timestamp,
        ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"),
    ),
)


def _operator_table() -> dict[str, OperandCheck]:
    """Every comparison operator with the check of its operand, in the Developer Guide's order."""
    table: dict[str, OperandCheck] = {}
    for family, check, suffixes in _FAMILIES:
        for suffix in suffixes:
            table[family + suffix] = check
            table[family + suffix + "Path"] = _reference
        if family == "String":
            table["StringMatches"] = _string
    for test in ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"):
        table[test] = _boolean
    return table


OPERATORS = _operator_table()
COMBINATORS = ("And", "Or", "Not")
_JSONPATH_RULE_FIELDS = frozenset({"Variable", *COMBINATORS, *OPERATORS})
_JSONATA_RULE_FIELDS = frozenset({"Condition", "Output"})
# A rule is exactly one of these (Condition in JSONata, the others in JSONPath).
_SELECTORS = ("And", "Or", "Not", "Variable", "Condition")
_NESTED_FIELDS = frozenset({"Comment", "Condition", *_JSONPATH_RULE_FIELDS})
_TOP_FIELDS = _NESTED_FIELDS | {"Next", "Output", "Assign"}


def check_choice(ctx: Ctx, state: dict[str, Any], where: str, language: str) -> None:
    choices = state.get("Choices")
    if not isinstance(choices, list):
        return
    if not choices:
        ctx.schema(msg.cannot_be_empty(), f"{where}/Choices")
    for index, rule in enumerate(choices):
        _rule(ctx, rule, f"{where}/Choices[{index}]", language, top=True)


def _fields(ctx: Ctx, rule: dict[str, Any], where: str, language: str, top: bool) -> None:
    allowed = _TOP_FIELDS if top else _NESTED_FIELDS
    for name in rule:
        if name not in allowed:
            ctx.schema(msg.not_supported(name), where)
        elif name in (_JSONPATH_RULE_FIELDS if language == JSONATA else _JSONATA_RULE_FIELDS):
            ctx.schema(msg.wrong_query_language(language, name), where)
    if top:
        if "Next" not in rule:
            ctx.schema(msg.required(["Next"]), where)
        elif not isinstance(rule["Next"], str):
            ctx.schema(msg.expected_type("STRING"), f"{where}/Next")
        elif not rule["Next"]:
            ctx.schema(msg.should_be_non_empty("Next"), f"{where}/Next")
        if "Assign" in rule:
            check_assign(ctx, rule["Assign"], f"{where}/Assign", jsonpath=language == JSONPATH)


def _rule(ctx: Ctx, rule: Any, where: str, language: str, *, top: bool) -> None:
    if not isinstance(rule, dict):
        ctx.schema(msg.expected_type("OBJECT"), where)
        return
    _fields(ctx, rule, where, language, top)
    if language == JSONATA:
        _jsonata_rule(ctx, rule, where, top)
        return
    selectors = [name for name in _SELECTORS if name in rule]
    if len(selectors) != 1:
        ctx.schema(msg.choice_rule_selector(), where)
    if "Variable" in rule:
        _comparison(ctx, rule, where)
    for name in ("And", "Or"):
        if name in rule:
            _rule_list(ctx, rule[name], f"{where}/{name}", language)
    if "Not" in rule:
        _rule(ctx, rule["Not"], f"{where}/Not", language, top=False)


def _comparison(ctx: Ctx, rule: dict[str, Any], where: str) -> None:
    problem = _reference(rule["Variable"])
    if problem:
        ctx.schema(problem, f"{where}/Variable")
    present = [name for name in rule if name in OPERATORS]
    if len(present) > 1:
        ctx.schema(msg.only_one_of(OPERATORS), where)
    elif not present:
        ctx.schema(msg.exactly_one_of(OPERATORS), where)
    for name in present:
        problem = OPERATORS[name](rule[name])
        if problem:
            ctx.schema(problem, f"{where}/{name}")
        elif not name.endswith("Path") and looks_like_path(rule[name]):
            # "StringEquals": "$.other" compares with the literal text; AWS warns.
            ctx.warning(msg.NO_PATH, msg.no_path(), f"{where}/{name}")


def _rule_list(ctx: Ctx, rules: Any, where: str, language: str) -> None:
    if not isinstance(rules, list):
        ctx.schema(msg.expected_type("ARRAY"), where)
        return
    if not rules:
        ctx.schema(msg.cannot_be_empty(), where)
    for index, rule in enumerate(rules):
        _rule(ctx, rule, f"{where}[{index}]", language, top=False)


def _jsonata_rule(ctx: Ctx, rule: dict[str, Any], where: str, top: bool) -> None:
    if "Condition" not in rule:
        # A JSONPath selector (``Variable``, ``And``, ...) in a JSONata rule is reported by the
        # field checks; here only the missing Condition is.
        ctx.schema(msg.required(["Condition"]), where)
    else:
        condition = rule["Condition"]
        if isinstance(condition, str):
            jsonata_checks.check_string(ctx, condition, f"{where}/Condition")
        elif not isinstance(condition, bool):
            ctx.schema(msg.expected_type("STRING"), f"{where}/Condition")
    if top:
        for name in ("Output", "Assign"):
            if name in rule:
                jsonata_checks.check_value(ctx, rule[name], f"{where}/{name}")
