"""The CLI reference (``docs/cli.md``), generated from the commands' own ``--help``.

``python -m batchyard.cli.reference > docs/cli.md`` rewrites it; a test fails when the file and
the commands disagree, so the reference cannot rot.
"""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from batchyard.cli.main import app

_HEADER = """# CLI reference

Generated from `--help` by `python -m batchyard.cli.reference > docs/cli.md`; do not edit by
hand.
"""


def _commands(group: typer.Typer, prefix: list[str]) -> list[list[str]]:
    """Every command path below ``group``, depth first, in name order."""
    paths: list[list[str]] = []
    for command in group.registered_commands:
        if command.hidden:
            continue
        name = command.name or (command.callback.__name__ if command.callback else "")
        paths.append([*prefix, name.replace("_", "-")])
    for sub in group.registered_groups:
        if sub.typer_instance is None or sub.hidden:
            continue
        name = sub.name or sub.typer_instance.info.name or ""
        paths.append([*prefix, name])
        paths.extend(_commands(sub.typer_instance, [*prefix, name]))
    return sorted(paths)


def render() -> str:
    """The whole reference as Markdown: one section per command, its help verbatim."""
    runner = CliRunner()
    sections = [_HEADER]
    for path in [[], *_commands(app, [])]:
        # A wide, colourless terminal so the text does not depend on where it is generated.
        result = runner.invoke(
            app, [*path, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
        )
        title = " ".join(["batchyard", *path])
        help_text = "\n".join(line.rstrip() for line in result.output.strip().splitlines())
        sections.append(f"## `{title}`\n\n```text\n{help_text}\n```\n")
    return "\n".join(sections)


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
