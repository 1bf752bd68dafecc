"""The README's two commands stay true: CI runs exactly the README's test command."""

from __future__ import annotations

import re
from pathlib import Path


def _readme_commands(root: Path) -> list[str]:
    text = (root / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text)[:2]


def test_ci_runs_exactly_the_readmes_test_command(repo_root: Path) -> None:
    _, test_command = _readme_commands(repo_root)
    ci_lines = (repo_root / ".ci" / "run").read_text().strip().splitlines()
    assert ci_lines[-1] == test_command


def test_the_services_script_the_test_command_calls_exists(repo_root: Path) -> None:
    _, test_command = _readme_commands(repo_root)
    script = test_command.split(" && ")[0]
    path = repo_root / script
    assert path.is_file() and path.stat().st_mode & 0o111, f"{script} must be an executable file"
