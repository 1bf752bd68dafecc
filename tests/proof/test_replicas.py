"""Two ``batchyard server`` replicas on one PostgreSQL: executions are shared, each state runs once.

Both replicas serve the API and run engine workers on the same database (a schema made for the
test). Executions are started through both, and activity workers poll both. Evidence:

* each replica writes the history events *its engine* committed into its own log store
  (LoggingConfiguration level ALL; every replica has its own data directory), so reading the
  log group from each replica shows who ran what: both ran some, and every event of every
  history was written by exactly one of them, once;
* every activity task (the states with an effect) reached a worker exactly once.

PostgreSQL is ``BATCHYARD_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``);
skipped when it is down, unless ``BATCHYARD_REQUIRE_SERVICES=1`` (CI), which makes that a failure.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from tests.proof.servers import ServerProcess
from tests.proof.workers import ActivityWorker, history

pytestmark = pytest.mark.timeout(180)

POSTGRES_URL = os.environ.get(
    "BATCHYARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/StepFunctions"
ACTIVITY_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:activity:replica-ask"
GROUP = "/proof/replicas"
EXECUTIONS = 60


def ask(state: str, after: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": ACTIVITY_ARN,
        "Parameters": {"n.$": "$.n", "state": state},
        "ResultPath": f"$.{state}",
        "Next": after,
    }


MACHINE = {
    "StartAt": "First",
    "States": {
        "First": ask("First", "Nap"),
        "Nap": {"Type": "Wait", "Seconds": 1, "Next": "Second"},
        "Second": ask("Second", "Done"),
        "Done": {"Type": "Pass", "End": True},
    },
}


def expected_output(n: int) -> Any:
    # What the activity worker answers for each state (see workers.answer_activity).
    return {"n": n, "First": {"doubled": 2 * n}, "Second": {"doubled": 2 * n}}


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema on the test PostgreSQL, dropped afterwards."""
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is unreachable at {POSTGRES_URL}: {exc}"
        if os.environ.get("BATCHYARD_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} (BATCHYARD_REQUIRE_SERVICES=1 requires it)", pytrace=False)
        pytest.skip(message)
    schema = f"by_proof_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def logged_events(server: ServerProcess) -> list[tuple[str, int]]:
    """(execution ARN, event id) of every line this replica wrote to the log group."""
    logs = server.client("logs")
    found: list[tuple[str, int]] = []
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=GROUP):
        for event in page["events"]:
            line = json.loads(event["message"])
            found.append((line["execution_arn"], int(line["id"])))
    return found


def test_two_replicas_share_executions_and_run_each_state_once(
    postgres_url: str, tmp_path: Path
) -> None:
    replicas = [ServerProcess(tmp_path / name, "--store", postgres_url) for name in ("a", "b")]
    workers: list[ActivityWorker] = []
    try:
        for replica in replicas:  # one after the other: the first one migrates the schema
            replica.start()
            replica.client("logs").create_log_group(logGroupName=GROUP)
        sfn = [replica.client() for replica in replicas]
        sfn[0].create_activity(name="replica-ask")
        machine = sfn[0].create_state_machine(
            name="replicas",
            definition=json.dumps(MACHINE),
            roleArn=ROLE,
            loggingConfiguration={
                "level": "ALL",
                "includeExecutionData": False,
                "destinations": [
                    {
                        "cloudWatchLogsLogGroup": {
                            "logGroupArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{GROUP}:*"
                        }
                    }
                ],
            },
        )["stateMachineArn"]
        workers = [
            ActivityWorker(replica.client, ACTIVITY_ARN, f"via-{name}")
            for replica, name in zip(replicas, "ab", strict=True)
        ]
        for worker in workers:
            worker.start()

        arns = [
            sfn[n % 2].start_execution(
                stateMachineArn=machine, name=f"shared-{n}", input=json.dumps({"n": n})
            )["executionArn"]
            for n in range(EXECUTIONS)
        ]
        deadline = time.monotonic() + 90
        while any(sfn[0].describe_execution(executionArn=a)["status"] == "RUNNING" for a in arns):
            assert time.monotonic() < deadline, "executions still RUNNING after 90 s"
            time.sleep(0.5)

        histories: dict[str, list[dict[str, Any]]] = {}
        for n, arn in enumerate(arns):
            described = sfn[(n + 1) % 2].describe_execution(executionArn=arn)  # either replica
            assert described["status"] == "SUCCEEDED", described
            assert json.loads(described["output"]) == expected_output(n)
            events = history(sfn[n % 2], arn)
            assert [e["id"] for e in events] == list(range(1, len(events) + 1))
            histories[arn] = events

        # Each state with an effect ran once: every activity task reached a worker once.
        tasks = Counter((task["n"], task["state"]) for w in workers for task in w.inputs)
        expected_tasks = {(n, state) for n in range(EXECUTIONS) for state in ("First", "Second")}
        assert set(tasks) == expected_tasks
        assert set(tasks.values()) == {1}
        tokens = sum((w.tokens for w in workers), Counter[str]())
        assert set(tokens.values()) == {1} and len(tokens) == 2 * EXECUTIONS
        assert [p for w in workers for p in w.problems] == []

        # Shared: both engines ran executions, and each event was written by one replica, once.
        by_replica = [logged_events(replica) for replica in replicas]
        everything = Counter(by_replica[0] + by_replica[1])
        assert set(everything.values()) == {1}
        assert set(everything) == {(a, e["id"]) for a, events in histories.items() for e in events}
        ran = [{arn for arn, _ in logged} for logged in by_replica]
        assert all(ran), f"one replica ran nothing: {[len(r) for r in ran]}"
        print(
            f"\nreplicas proof: {EXECUTIONS} executions, {len(everything)} events; replica a "
            f"wrote {len(by_replica[0])} events of {len(ran[0])} executions, replica b "
            f"{len(by_replica[1])} of {len(ran[1])}; {len(ran[0] & ran[1])} executions ran on "
            f"both; {sum(tasks.values())} activity tasks, each delivered once "
            f"(via a: {len(workers[0].inputs)}, via b: {len(workers[1].inputs)})"
        )
    finally:
        for worker in workers:
            worker.stop.set()
        for replica in replicas:
            replica.kill9()  # the schema is dropped next; a clean stop would drain long polls
        for worker in workers:
            worker.join(timeout=10)
