"""`batchyard schedules dead-letters` and `replay`: the dead-letter store from the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from batchyard.cli.main import app
from batchyard.scheduler import ScheduleBook
from batchyard.store import Store
from tests.engine.conftest import deploy
from tests.scheduler.conftest import FakeClock, schedule
from tests.scheduler.test_scheduler import WAIT, _engine_scheduler, _executions, _run


def test_list_and_replay_a_dead_letter(store: Store, book: ScheduleBook, clock: FakeClock) -> None:
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:cli-later"
    queue = "arn:aws:sqs:us-east-1:123456789012:cli-dlq"
    book.create(
        schedule("cli-early", "rate(1 hour)",
                 Target={"Arn": machine, "DeadLetterConfig": {"Arn": queue}})
    )  # fmt: skip
    _, scheduler = _engine_scheduler(store, clock)
    try:
        _run([scheduler], clock, 2)
    finally:
        scheduler.stop()
    runner = CliRunner()

    listed = runner.invoke(
        app, ["schedules", "dead-letters", "--store", store.url, "--queue", queue, "-o", "json"]
    )
    assert listed.exit_code == 0, listed.output
    (letter,) = json.loads(listed.output)
    assert letter["schedule"] == "default/cli-early" and letter["replayed"] == ""
    assert "StateMachineDoesNotExist" in letter["error"]

    refused = runner.invoke(app, ["schedules", "replay", letter["id"], "--store", store.url])
    assert refused.exit_code == 1 and "the replay failed" in refused.output  # still no machine

    deploy(store, "cli-later", WAIT)
    replayed = runner.invoke(app, ["schedules", "replay", letter["id"], "--store", store.url])
    assert replayed.exit_code == 0, replayed.output
    execution_arn = replayed.output.strip()
    assert execution_arn.startswith("arn:aws:states:us-east-1:123456789012:execution:cli-later:")
    again = runner.invoke(app, ["schedules", "replay", letter["id"], "--store", store.url])
    assert again.output.strip() == execution_arn and len(_executions(store, machine)) == 1

    missing = runner.invoke(app, ["schedules", "replay", "nope", "--store", store.url])
    assert missing.exit_code == 1 and "no dead letter 'nope'" in missing.output
