"""The full example of docs/deploy.md is a valid project that deploys, and deploys again as
unchanged -- so the documentation cannot drift from what deploy accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path

from batchyard.deploy import load_project
from tests.api.conftest import RunningServer
from tests.cli.conftest import Cli, write

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def example_project(root: Path) -> Path:
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert blocks, "docs/deploy.md has no yaml example"
    write(
        root / "nightly-batch.asl.json",
        json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
    )
    write(root / "functions" / "notify" / "app.py", "def handler(event, context):\n    return 1\n")
    return write(root / "batchyard.yaml", blocks[0])


def test_the_documented_example_loads(tmp_path: Path) -> None:
    project = load_project(example_project(tmp_path))
    assert project.name == "nightly-batch"
    assert set(project.task_definitions) == {"orders-import"}
    assert project.schedule_groups["nightly-batch"].policies["overlap"] == "forbid"
    assert project.schedules["nightly"].input == '{"batch":"nightly"}'


def test_the_documented_example_deploys_idempotently(
    cli: Cli, server: RunningServer, tmp_path: Path
) -> None:
    path = example_project(tmp_path)
    first = cli("deploy", "-f", str(path), "--server-data-dir", str(server.data_dir))
    assert first.exit_code == 0, first.output
    second = cli("deploy", "-f", str(path), "--server-data-dir", str(server.data_dir))
    assert second.exit_code == 0, second.output
    assert "Nothing to do." in second.stdout
    assert "Plan: 0 to create, 0 to update, 0 to delete, 9 unchanged." in second.stdout
