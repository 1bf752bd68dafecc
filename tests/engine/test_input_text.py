"""ExecutionStarted echoes the input text as the caller wrote it (as AWS does); the states see
it as compact JSON, and the in-memory ``execute`` (given a Python value) shows compact JSON."""

from __future__ import annotations

import json
from pathlib import Path

from batchyard import asl
from batchyard.engine import Engine, history_event
from batchyard.logs import LogStore
from batchyard.store import Store
from tests.engine.conftest import ACCOUNT, REGION, deploy

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
GIVEN = '{\n  "b" : [1, 2],\n  "a": "é"\n}'


def test_standard_execution_echoes_the_given_text(store: Store, engine: Engine) -> None:
    arn = deploy(store, "echo", PASS)
    execution = engine.start_execution(arn, name="e", input=GIVEN)
    engine.run_until_idle()
    history = [history_event(event) for event in store.history.all(execution.arn)]
    assert history[0]["executionStartedEventDetails"]["input"] == GIVEN
    assert history[1]["stateEnteredEventDetails"]["input"] == '{"b":[1,2],"a":"é"}'
    assert store.executions.get(execution.arn).input == GIVEN
    # A rebuilt run (another engine, as after a restart) regenerates the same first event.
    other = Engine(store, owner="replayer")
    rebuilt = other.core.rebuild(store.executions.get(execution.arn))
    assert rebuilt.interp.events[0]["executionStartedEventDetails"]["input"] == GIVEN


def test_express_logging_sees_the_given_text(store: Store, tmp_path: Path) -> None:
    group = "/aws/vendedlogs/states/echo"
    config = {
        "level": "ALL",
        "includeExecutionData": True,
        "destinations": [
            {
                "cloudWatchLogsLogGroup": {
                    "logGroupArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:*"
                }
            }
        ],
    }
    arn = deploy(store, "echo-express", PASS, type_="EXPRESS", logging=config)
    logs = LogStore(str(tmp_path / "logs.duckdb"))
    try:
        engine = Engine(store, owner="express", logs=logs)
        result = engine.start_sync_execution(arn, input=GIVEN)
        assert result["input"] == GIVEN
        lines = [json.loads(e["message"]) for e in logs.filter_log_events(group)["events"]]
    finally:
        logs.close()
    assert lines[0]["type"] == "ExecutionStarted"
    assert lines[0]["details"]["input"] == GIVEN


def test_in_memory_execute_keeps_compact_json() -> None:
    done = asl.execute(PASS, json.loads(GIVEN))
    assert done.events[0]["executionStartedEventDetails"]["input"] == '{"b":[1,2],"a":"é"}'
