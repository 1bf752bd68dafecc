"""The durable engine's throughput, and end to end over HTTP beside moto's server.

Run with ``python bench/engine.py`` (needs ``pip install -e '.[bench]'``); one table:

(a) durable transitions/s through ``Engine`` + store, driven by ``run_until_idle`` in this
    process: every history event committed before it is acted on, as in production (after one
    untimed warm-up execution, so the definition is compiled already). Workloads:
    one execution of the 1,000-Pass chain (best of 3), and N executions of the 10-state machine (both from
    ``bench/workloads.py``), on SQLite (a temporary file) and on PostgreSQL (a fresh schema at
    ``BATCHYARD_TEST_POSTGRES``; the row says so when it is unreachable).
(b) end to end: ``StartExecution`` then ``DescribeExecution`` polled until the execution is
    done, one after the other, with boto3 over HTTP -- against ``batchyard server`` (a
    subprocess, SQLite) and against moto's ``ThreadedMotoServer`` with its Step Functions
    execution enabled (``POST /moto-api/config``). Same 10-state machine, same input.

A transition is a state entered (every ``*StateEntered`` event), as in ``asl_throughput.py``.
Goals: >= 20,000 durable transitions/s on SQLite for the chain; >= 20x moto end to end.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3  # type: ignore[import-untyped]
import psycopg
from botocore.config import Config  # type: ignore[import-untyped]

from batchyard import asl
from batchyard.engine import Engine
from batchyard.store import StateMachine, Store, open_store
from workloads import pass_chain, ten_state_input, ten_state_machine  # bench/ is on sys.path

POSTGRES_URL = os.environ.get(
    "BATCHYARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/bench"
CLIENT_CONFIG = Config(retries={"max_attempts": 1}, read_timeout=60)


def transitions(definition: dict[str, Any], payload: Any) -> int:
    events = asl.execute(definition, payload).events
    return sum(1 for event in events if event["type"].endswith("StateEntered"))


# --- (a) the engine, in process ---------------------------------------------------------------


def deploy(store: Store, name: str, definition: dict[str, Any]) -> str:
    arn = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:{name}"
    now = datetime.now(UTC)
    store.state_machines.create(
        StateMachine(
            arn=arn,
            name=name,
            type="STANDARD",
            definition=json.dumps(definition),
            role_arn=ROLE,
            revision_id="r1",
            created=now,
            updated=now,
        )
    )
    return arn


def engine_run(
    url: str, definition: dict[str, Any], payload: Any, executions: int, repeats: int = 1
) -> float:
    """Seconds to run ``executions`` executions to the end (starts included) on ``url``, the
    best of ``repeats`` rounds.

    One execution runs first, untimed: the engine compiles (validates) a definition once and
    keeps it, like a server that has run the machine before.
    """
    store = open_store(url)
    try:
        arn = deploy(store, f"bench-{uuid.uuid4().hex[:8]}", definition)
        engine = Engine(store, owner="bench")
        text = json.dumps(payload)

        def run(count: int) -> float:
            started = time.perf_counter()
            arns = [engine.start_execution(arn, input=text).arn for _ in range(count)]
            engine.run_until_idle(timeout=600)
            elapsed = time.perf_counter() - started
            for execution_arn in arns:
                status = store.executions.get(execution_arn).status
                assert status == "SUCCEEDED", (execution_arn, status)
            return elapsed

        run(1)
        return min(run(executions) for _ in range(repeats))
    finally:
        store.close()


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as directory:
        yield f"sqlite:///{Path(directory) / 'state.db'}"


@contextmanager
def postgres_url() -> Iterator[str]:
    schema = f"by_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def postgres_reachable() -> str | None:
    """``None`` if PostgreSQL answers, else why not."""
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        return f"PostgreSQL unreachable at {POSTGRES_URL}: {str(exc).strip().splitlines()[0]}"
    return None


# --- (b) end to end over HTTP -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def client(url: str) -> Any:
    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=CLIENT_CONFIG,
    )


def run_once(sfn: Any, machine: str, text: str, name: str, poll: float) -> None:
    """StartExecution, then DescribeExecution until it is done."""
    arn = sfn.start_execution(stateMachineArn=machine, name=name, input=text)["executionArn"]
    while True:
        status = sfn.describe_execution(executionArn=arn)["status"]
        if status != "RUNNING":
            assert status == "SUCCEEDED", (arn, status)
            return
        time.sleep(poll)


@contextmanager
def batchyard_server() -> Iterator[str]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-server-") as directory:
        proc = subprocess.Popen(
            [sys.executable, "-m", "batchyard.cli.main", "server", "--port", str(port),
             "--data-dir", directory, "--log-level", "warning"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(url + "/healthz", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError("batchyard server did not start") from None
                    time.sleep(0.05)
            yield url
        finally:
            proc.kill()
            proc.wait()


def batchyard_http(executions: int, poll: float) -> float:
    text = json.dumps(ten_state_input())
    with batchyard_server() as url:
        sfn = client(url)
        machine = sfn.create_state_machine(
            name="small", definition=json.dumps(ten_state_machine()), roleArn=ROLE
        )["stateMachineArn"]
        run_once(sfn, machine, text, "warm-up", poll)
        started = time.perf_counter()
        for index in range(executions):
            run_once(sfn, machine, text, f"small-{index}", poll)
        return time.perf_counter() - started


def moto_http(executions: int, poll: float) -> float:
    """Time ``executions`` runs against moto's server; setup is not timed.

    moto deep-copies its backend on every ``StartExecution``, and that copy fails once an
    execution has run (it holds a lock), so moto is reset -- and reconfigured -- between runs.
    """
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    text = json.dumps(ten_state_input())
    config = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
    total = 0.0
    try:
        sfn = client(url)
        for index in range(executions):
            urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", method="POST"))
            urllib.request.urlopen(
                urllib.request.Request(url + "/moto-api/config", data=config, method="POST")
            )
            machine = sfn.create_state_machine(
                name="small", definition=json.dumps(ten_state_machine()), roleArn=ROLE
            )["stateMachineArn"]
            started = time.perf_counter()
            run_once(sfn, machine, text, f"small-{index}", poll)
            total += time.perf_counter() - started
    finally:
        server.stop()
    return total


# --- the table ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain", type=int, default=1000, help="Pass states of the chain")
    parser.add_argument("--executions", type=int, default=200, help="10-state runs in (a)")
    parser.add_argument("--http-executions", type=int, default=50, help="runs in (b), each side")
    parser.add_argument("--poll", type=float, default=0.005, help="DescribeExecution interval")
    args = parser.parse_args()

    chain = pass_chain(args.chain)
    small, payload = ten_state_machine(), ten_state_input()
    per_chain = transitions(chain, {"value": 1})
    per_small = transitions(small, payload)
    rows: list[tuple[str, str, str, str]] = []

    backends: list[tuple[str, Any]] = [("SQLite", sqlite_url)]
    unreachable = postgres_reachable()
    backends.append(("PostgreSQL", postgres_url if unreachable is None else None))
    for label, make_url in backends:
        if make_url is None:
            rows.append((f"(a) engine, {label}", "transitions/s", "skipped", unreachable or ""))
            continue
        with make_url() as url:
            seconds = engine_run(url, chain, {"value": 1}, 1, repeats=3)
        rows.append((f"(a) {args.chain}-Pass chain, {label}", "transitions/s",
                     f"{per_chain / seconds:,.0f}", "goal >= 20,000" if label == "SQLite" else ""))  # fmt: skip
        with make_url() as url:
            seconds = engine_run(url, small, payload, args.executions)
        rows.append((f"(a) 10-state x{args.executions}, {label}", "transitions/s",
                     f"{per_small * args.executions / seconds:,.0f}",
                     f"{args.executions / seconds:,.1f} executions/s"))  # fmt: skip

    ours = args.http_executions / batchyard_http(args.http_executions, args.poll)
    theirs = args.http_executions / moto_http(args.http_executions, args.poll)
    rows.append((f"(b) HTTP 10-state x{args.http_executions}, batchyard", "executions/s",
                 f"{ours:,.1f}", f"{ours / theirs:,.1f}x moto (goal >= 20x)"))  # fmt: skip
    rows.append((f"(b) HTTP 10-state x{args.http_executions}, moto", "executions/s",
                 f"{theirs:,.1f}", ""))  # fmt: skip

    print(f"{'workload':<40} {'unit':<14} {'value':>10}  note")
    for workload, unit, value, note in rows:
        print(f"{workload:<40} {unit:<14} {value:>10}  {note}")


if __name__ == "__main__":
    main()
