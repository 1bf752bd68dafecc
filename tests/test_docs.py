"""Docs that cannot rot: every state type, intrinsic, Insights command, function, decision,
CLI command, server setting and API operation must be documented; the CLI reference must match
the commands' ``--help``; the index links every guide; every ``batchyard`` command line in the
guides names a real command."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from batchyard.api.coverage import SERVICES
from batchyard.asl.intrinsics import FUNCTION_NAMES
from batchyard.asl.states import STATE_KINDS
from batchyard.cli import reference
from batchyard.cli.main import app
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
    """The served operations in docs/api-coverage.md are exactly the server's handlers, and
    every service the server speaks or the platform plans has its table.

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
    server = served_app(tmp_path)
    try:
        served = {name: set(svc.handlers) for name, svc in server.services.items()}
    finally:
        server.stop()
    expected = {name: served.get(name, set()) for name in {*SERVICES, *served}}
    assert documented == expected, "run: python -m batchyard.api.coverage > docs/api-coverage.md"


# ---------------------------------------------------------------- the CLI and the server


def _click_commands() -> dict[str, Any]:
    """Every command of the ``batchyard`` CLI by its path ("server", "logs query", ...).

    Typer vendors its own click, so groups are told apart by their ``commands``."""
    found: dict[str, Any] = {}

    def walk(command: Any, path: str) -> None:
        found[path] = command
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}".strip())

    walk(typer.main.get_command(app), "")
    return found


_COMMANDS = _click_commands()


def _guides_text() -> str:
    """Every guide but the generated CLI reference."""
    return "\n".join(
        path.read_text(encoding="utf-8")
        for path in sorted(DOCS.glob("*.md"))
        if path.name != "cli.md"
    )


def _all_code_spans() -> set[str]:
    spans: set[str] = set()
    for path in sorted(DOCS.glob("*.md")):
        if path.name != "cli.md":
            spans |= _code_spans(Path(path.name))
    return spans


@pytest.mark.parametrize("path", sorted(p for p in _COMMANDS if p))
def test_every_command_explains_itself(path: str) -> None:
    """A command without a help text would have an empty entry in the generated reference."""
    command = _COMMANDS[path]
    assert (command.help or command.short_help or "").strip(), f"batchyard {path} has no help"


@pytest.mark.parametrize("path", sorted(p for p in _COMMANDS if p))
def test_every_command_appears_in_a_guide(path: str) -> None:
    """Beyond the generated reference, a guide shows each command at work."""
    assert f"batchyard {path}" in _guides_text(), f"show `batchyard {path}` in a guide"


_SERVER_OPTIONS = sorted(
    opt
    for param in _COMMANDS["server"].params
    if param.param_type_name == "option"
    for opt in param.opts
    if opt.startswith("--") and opt != "--help"
)


@pytest.mark.parametrize("option", _SERVER_OPTIONS)
def test_every_server_setting_is_documented(option: str) -> None:
    """Each ``batchyard server`` option appears as code in a guide (its table in server.md)."""
    assert option.lower() in _all_code_spans(), f"document {option} (docs/server.md's options)"


# Variables batchyard sets for its own child processes, never for a person to set.
_INTERNAL_VARIABLES = {
    "BATCHYARD_FD_IN": "the function worker's pipe to its parent",
    "BATCHYARD_FD_OUT": "the function worker's pipe to its parent",
    "BATCHYARD_RLIMIT_AS": "the function worker's memory limit, from MemorySize",
    "BATCHYARD_STORE": "the store URL handed to Alembic's env.py",
}
_SRC = DOCS.parent / "src" / "batchyard"
_VARIABLES = sorted(
    {
        name
        for path in _SRC.rglob("*.py")
        for name in re.findall(r"[\"'](BATCHYARD_[A-Z0-9_]+)[\"']", path.read_text("utf-8"))
    }
    - set(_INTERNAL_VARIABLES)
)


@pytest.mark.parametrize("variable", _VARIABLES)
def test_every_environment_setting_is_documented(variable: str) -> None:
    """A ``BATCHYARD_*`` variable the code reads is a setting: a guide must name it."""
    assert variable.lower() in _all_code_spans(), f"document {variable} in a guide"


def test_every_command_line_in_the_guides_names_a_real_command() -> None:
    """``batchyard X Y`` in a shell block of a guide or the README is a command that exists."""
    texts = [_guides_text(), (DOCS.parent / "README.md").read_text(encoding="utf-8")]
    blocks = [
        b for text in texts for b in re.findall(r"```(?:sh|console|bash)\n(.*?)```", text, re.S)
    ]
    groups = {p for p, c in _COMMANDS.items() if getattr(c, "commands", None)}
    missing = set()
    for block in blocks:
        for words in re.findall(r"(?:^|&& |\$ )batchyard((?: [a-z][a-z-]*)*)", block, re.M):
            parts = words.split()
            known = bool(parts) and parts[0] in _COMMANDS
            if known and parts[0] in groups and len(parts) > 1:
                known = f"{parts[0]} {parts[1]}" in _COMMANDS
            if not known:
                missing.add(f"batchyard{words}")
    assert not missing, f"the guides show commands that do not exist: {sorted(missing)}"


def test_the_index_links_every_guide() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([\w-]+\.md)(?:#[\w-]*)?\)", index))
    guides = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    assert guides <= linked, f"docs/index.md does not link {sorted(guides - linked)}"
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    assert "(docs/index.md)" in readme


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_between_the_docs_resolves() -> None:
    """Relative links in the guides and the READMEs point at files that exist, and anchors at
    headings that exist (a renamed heading or a moved file breaks this test, not the reader)."""
    broken = []
    examples = sorted((DOCS.parent / "examples").rglob("README.md"))
    for page in [*sorted(DOCS.glob("*.md")), DOCS.parent / "README.md", *examples]:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        for link in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", link):
                continue  # http:, https:, mailto:
            path, _, anchor = link.partition("#")
            target = (page.parent / path).resolve() if path else page
            if not target.exists():
                broken.append(f"{page.name}: {link} (no such file)")
            elif anchor and target.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", target.read_text(encoding="utf-8"), re.M)
                if anchor not in {_slug(h) for h in headings}:
                    broken.append(f"{page.name}: {link} (no such heading)")
    assert not broken, broken
