"""Problems in a batchyard.yaml name file, line, column and path -- all of them, in one pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchyard.deploy import ProjectError, load_project
from tests.cli.conftest import Cli, write

VALID_ASL = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})


def problems_of(tmp_path: Path, text: str) -> list[str]:
    write(tmp_path / "flow.asl.json", VALID_ASL)
    path = write(tmp_path / "batchyard.yaml", text)
    with pytest.raises(ProjectError) as caught:
        load_project(path)
    prefix = str(path)
    return [str(p).replace(prefix, "batchyard.yaml") for p in caught.value.problems]


def test_schedule_expression_points_at_its_value(tmp_path: Path) -> None:
    text = """\
project: p
state_machines:
  flow:
    definition: flow.asl.json
schedules:
  nightly:
    target: flow
    expression: cron(0 2 * * * *)
"""
    assert problems_of(tmp_path, text) == [
        "batchyard.yaml:8:17: schedules.nightly.expression: "
        "Invalid Schedule Expression cron(0 2 * * * *)."
    ]


def test_every_problem_in_file_order(tmp_path: Path) -> None:
    text = """\
project: p
state_machines:
  flow:
    definition: flow.asl.json
    typo: 1
    logging:
      level: SOME
schedule_groups:
  g:
    policies:
      overlap: sometimes
schedules:
  other:
    expression: rate(1 hour)
    timezone: Mars/Base
    target: nope
task_definitions:
  app:
    containerDefinitions:
      - name: app
        image: busybox
        memory: "512"
        imagee: x
    tags:
      batchyard:egress: partner
"""
    assert problems_of(tmp_path, text) == [
        "batchyard.yaml:5:5: state_machines.flow.typo: unknown key; expected one of: "
        "definition, substitutions, role, type, logging, tags",
        "batchyard.yaml:7:14: state_machines.flow.logging.level: "
        "must be one of ALL, ERROR, FATAL, OFF, got 'SOME'",
        "batchyard.yaml:11:7: schedule_groups.g.policies: "
        "Tag batchyard:overlap must be one of allow, forbid, queue, replace; got 'sometimes'.",
        "batchyard.yaml:15:15: schedules.other.timezone: "
        "Invalid Schedule Expression Timezone Mars/Base.",
        "batchyard.yaml:16:13: schedules.other.target: "
        "no state machine 'nope' in this project (state machines: flow)",
        "batchyard.yaml:22:17: task_definitions.app.containerDefinitions[0].memory: "
        "invalid type text, expected int",
        "batchyard.yaml:23:9: task_definitions.app.containerDefinitions[0].imagee: "
        "unknown field of RegisterTaskDefinition; did you mean 'image'?",
        "batchyard.yaml:25:25: task_definitions.app.tags.batchyard:egress: "
        "egress profile 'partner' is not in egress_profiles (declared: none)",
    ]


def test_invalid_definition_file_is_reported_at_its_reference(tmp_path: Path) -> None:
    write(tmp_path / "broken.asl.json", json.dumps({"StartAt": "X", "States": {}}))
    text = "project: p\nstate_machines:\n  flow:\n    definition: broken.asl.json\n"
    found = problems_of(tmp_path, text)
    assert found[0].startswith(
        "batchyard.yaml:4:17: state_machines.flow.definition: broken.asl.json/StartAt: "
        "MISSING_TRANSITION_TARGET"
    )


def test_yaml_syntax_and_duplicate_keys(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "project: x\n  bad: [\n") == [
        "batchyard.yaml:2:6: invalid YAML: mapping values are not allowed here"
    ]
    assert problems_of(tmp_path, "project: x\nlog_groups:\n  a: {}\n  a: {}\n") == [
        "batchyard.yaml:4:3: log_groups.a: duplicate key"
    ]


def test_missing_project_and_unknown_section(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "funcs: {}\n") == [
        "batchyard.yaml:1:1: funcs: unknown key; expected one of: project, log_groups, "
        "clusters, egress_profiles, task_definitions, functions, state_machines, "
        "schedule_groups, schedules",
        "batchyard.yaml:1:1: missing required key 'project'",
    ]


def test_cli_prints_locations_and_exits_1(cli: Cli, tmp_path: Path) -> None:
    path = write(
        tmp_path / "batchyard.yaml", "project: p\nlog_groups:\n  g:\n    retention_days: x\n"
    )
    result = cli("deploy", "-f", str(path), "--dry-run")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {path}:4:21: log_groups.g.retention_days: expected a whole number, got text\n"
    )


def test_cli_unreadable_file_exits_2(cli: Cli, tmp_path: Path) -> None:
    result = cli("deploy", "-f", str(tmp_path / "none.yaml"))
    assert result.exit_code == 2
    assert "cannot read the file" in result.stderr
