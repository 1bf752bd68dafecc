"""Two engines on one PostgreSQL share executions, and each state runs once."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from batchyard.engine import Engine
from batchyard.store import Store, open_store
from tests.engine.conftest import deploy

POSTGRES_URL = os.environ.get(
    "BATCHYARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def pg_store() -> Iterator[Store]:
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("BATCHYARD_REQUIRE_SERVICES") == "1":
            pytest.fail(f"PostgreSQL is unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"PostgreSQL is unreachable at {POSTGRES_URL}")
    schema = f"by_engine_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    store = open_store(f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}")
    try:
        yield store
    finally:
        store.close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_two_engines_share_executions_and_run_each_state_once(pg_store: Store) -> None:
    calls: Counter[tuple[str, int]] = Counter()
    by_engine: Counter[str] = Counter()
    guard = threading.Lock()

    def handler(engine_name: str) -> Any:
        def step(event: Any, context: Any) -> Any:
            with guard:
                calls[(event["id"], event["step"])] += 1
                by_engine[engine_name] += 1
            time.sleep(0.01)
            return {**event, "step": event["step"] + 1}

        return step

    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "step", "Payload.$": "$"},
        "OutputPath": "$.Payload",
    }
    definition = {
        "StartAt": "A",
        "States": {
            "A": {**task, "Next": "B"},
            "B": {**task, "Next": "C"},
            "C": {**task, "End": True},
        },
    }
    arn = deploy(pg_store, "shared", definition)
    engines = [
        Engine(pg_store, owner=name, functions={"step": handler(name)}) for name in ("one", "two")
    ]
    executions = [
        engines[0].start_execution(arn, name=f"e{i}", input=json.dumps({"id": f"e{i}", "step": 0}))
        for i in range(24)
    ]
    for engine in engines:
        engine.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            statuses = [pg_store.executions.get(e.arn).status for e in executions]
            if "RUNNING" not in statuses:
                break
            time.sleep(0.1)
    finally:
        for engine in engines:
            engine.stop()
    for execution in executions:
        done = pg_store.executions.get(execution.arn)
        assert done.status == "SUCCEEDED"
        assert json.loads(done.output or "")["step"] == 3
        ids = [e.id for e in pg_store.history.all(execution.arn)]
        assert ids == list(range(1, len(ids) + 1))
    assert set(calls.values()) == {1} and len(calls) == 24 * 3
    assert by_engine["one"] > 0 and by_engine["two"] > 0
