"""Docs that cannot rot: every state type, intrinsic, Insights command, function, decision and
CLI command must be documented, and the CLI reference must match the commands' ``--help``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from batchyard.asl.intrinsics import FUNCTION_NAMES
from batchyard.asl.states import STATE_KINDS
from batchyard.cli import reference
from batchyard.logs.insights import DECISIONS
from batchyard.logs.insights.aggregates import AGGREGATES
from batchyard.logs.insights.commands import COMMANDS
from batchyard.logs.insights.functions import FUNCTIONS

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _code_spans(path: Path) -> set[str]:
    """Every `code span` of a Markdown file, and each word inside it, lower-cased."""
    spans: set[str] = set()
    text = (DOCS / path).read_text(encoding="utf-8")
    for _, span in re.findall(r"(`+)(.+?)\1", text):
        spans.add(span.lower())
        spans.update(word.lower() for word in re.findall(r"[\w.@]+", span))
    return spans


@pytest.mark.parametrize("state_type", sorted(STATE_KINDS))
def test_every_state_type_is_documented(state_type: str) -> None:
    assert state_type.lower() in _code_spans(Path("asl.md"))


@pytest.mark.parametrize("function", sorted(FUNCTION_NAMES))
def test_every_intrinsic_function_is_documented(function: str) -> None:
    assert function.lower() in _code_spans(Path("asl.md"))


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_insights_command_is_documented(command: str) -> None:
    assert command in _code_spans(Path("logs.md"))


@pytest.mark.parametrize("function", sorted({*FUNCTIONS, *AGGREGATES}))
def test_every_insights_function_is_documented(function: str) -> None:
    assert function in _code_spans(Path("logs.md"))


@pytest.mark.parametrize("topic", [topic for topic, _ in DECISIONS])
def test_every_insights_decision_is_documented(topic: str) -> None:
    rows = re.findall(r"^\| ([^|]+?) \|", (DOCS / "logs.md").read_text(encoding="utf-8"), re.M)
    assert topic in rows


def test_cli_reference_is_generated_from_help() -> None:
    expected = reference.render()
    actual = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert actual == expected, "run: python -m batchyard.cli.reference > docs/cli.md"


def test_api_coverage_lists_exactly_the_served_operations(tmp_path: Path) -> None:
    """The served operations in docs/api-coverage.md are exactly the server's handlers.

    Only the served rows are compared: the model's full operation list grows with each botocore
    release, and the table is regenerated with ``python -m batchyard.api.coverage``.
    """
    from batchyard.api.coverage import served_app

    text = (DOCS / "api-coverage.md").read_text(encoding="utf-8")
    documented: dict[str, set[str]] = {}
    service = ""
    for line in text.splitlines():
        heading = re.match(r"^## .*\(`([\w-]+)`\)", line)
        if heading:
            service = heading.group(1)
            documented[service] = set()
        row = re.match(r"^\| `(\w+)` \| yes \|$", line)
        if row:
            documented[service].add(row.group(1))
    app = served_app(tmp_path)
    try:
        served = {name: set(svc.handlers) for name, svc in app.services.items()}
    finally:
        app.stop()
    assert documented == served, "run: python -m batchyard.api.coverage > docs/api-coverage.md"
