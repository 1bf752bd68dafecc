"""Throughput of the store's hot paths (not a test): ``python -m tests.store.bench_store [URL]``.

* history: events appended per second, ``BATCH`` events per transaction;
* chain: one execution running a long Pass chain, as the engine persists it: each transition
  is two history events, ``PER_TX`` transitions per transaction plus one save of the execution;
* fan-out: ``PER_TX`` executions advancing one transition each per transaction (two events and
  an optimistic save of each execution).

Rates are printed against wall time and against this process's CPU time; on a shared machine
the second is the better estimate of what an idle machine does.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from batchyard.store import Execution, HistoryEvent, Store, open_store

from .factories import at, execution, state_machine

BATCH = 1000
EVENTS = 50_000
CHAIN = 20_000
EXECUTIONS = 200  # (the fan-out runs the ones bench_start created)
STEPS = 25
PER_TX = 100


def pair(arn: str, step: int) -> list[HistoryEvent]:
    return [
        HistoryEvent(arn, 2 * step + 1, 2 * step, "PassStateEntered", at(step), {"name": "P"}),
        HistoryEvent(arn, 2 * step + 2, 2 * step + 1, "PassStateExited", at(step), {"name": "P"}),
    ]


def bench_history(store: Store) -> int:
    arn = store.executions.create(execution("bench-history")).arn
    for first in range(1, EVENTS + 1, BATCH):
        batch = [
            HistoryEvent(arn, i, i - 1, "PassStateEntered", at(i), {"name": "P", "input": "{}"})
            for i in range(first, first + BATCH)
        ]
        store.history.append(arn, batch)
    return EVENTS


def bench_chain(store: Store) -> int:
    run = store.executions.create(execution("bench-chain"))
    for first in range(0, CHAIN, PER_TX):
        with store.transaction() as tx:
            tx.history.append_all(
                [e for s in range(first, first + PER_TX) for e in pair(run.arn, s)]
            )
            run = tx.executions.save(replace(run, updated=at(first)))
    return CHAIN


def bench_start(store: Store) -> int:
    for i in range(EXECUTIONS):
        store.executions.create(execution(f"fan-{i}"))
    return EXECUTIONS


def bench_fan_out(store: Store) -> int:
    runs: list[Execution] = [
        run
        for run in store.executions.list(limit=EXECUTIONS + 2).items
        if run.name.startswith("fan-")
    ]
    for step in range(STEPS):
        for first in range(0, EXECUTIONS, PER_TX):
            batch = runs[first : first + PER_TX]
            with store.transaction() as tx:
                tx.history.append_all([e for run in batch for e in pair(run.arn, step)])
                saved = tx.executions.save_all([replace(run, updated=at(step)) for run in batch])
            runs[first : first + PER_TX] = saved
    return EXECUTIONS * STEPS


def measure(label: str, dialect: str, run: Callable[[], int]) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    count = run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{dialect:10} {label:32} {count / wall:>9,.0f}/s wall {count / cpu:>9,.0f}/s cpu")


def main(url: str) -> None:
    store = open_store(url)
    store.state_machines.create(state_machine())
    measure("history events appended", store.dialect, lambda: bench_history(store))
    measure("chain transitions (2 events)", store.dialect, lambda: bench_chain(store))
    measure("executions created (1 per tx)", store.dialect, lambda: bench_start(store))
    measure("fan-out transitions (+ save)", store.dialect, lambda: bench_fan_out(store))
    store.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(f"sqlite:///{Path(tmp) / 'bench.db'}")
