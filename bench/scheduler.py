"""Firing lateness of 1,000 schedules: batchyard's scheduler beside APScheduler 3.

Run with ``python bench/scheduler.py`` (needs ``pip install -e '.[bench]'``); ``--minutes 10``
for the ten-minute drift check (default 3), ``--schedules`` to change the 1,000,
``--postgres`` to add batchyard on PostgreSQL (``BATCHYARD_TEST_POSTGRES``), ``--only`` to run
one side.

Both schedulers get the same job, configured the same way:

* 1,000 schedules firing every minute at second 0 (``cron(* * * * ? *)`` /
  ``CronTrigger(minute="*")``) — the harsh case: 1,000 slots fall due at the same instant;
* a durable store in a SQLite file (batchyard's store / APScheduler's
  ``SQLAlchemyJobStore``; a third row shows APScheduler with its memory store, for
  context), 8 worker threads (the scheduler's delivery pool /
  APScheduler's ``ThreadPoolExecutor(8)``), no coalescing, a generous misfire grace;
* the target is an in-process function that notes the moment it is called.

Lateness = the moment the target runs minus the slot's nominal time. The table shows p50, p99 and
max per scheduler, then p99 minute by minute (a growing lag would show as a rising row).
Goals: batchyard p99 ≤ 100 ms and below APScheduler's; no growing lag.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from batchyard.scheduler import Delivery, ScheduleBook, Scheduler, Targets
from batchyard.store import open_store

POSTGRES_URL = os.environ.get(
    "BATCHYARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
ROLE = "arn:aws:iam::123456789012:role/bench"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:bench"


class Lateness:
    """Lateness samples (ms) by the minute they belong to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_minute: dict[int, list[float]] = defaultdict(list)

    def note(self, nominal: float, now: float) -> None:
        with self._lock:
            self.by_minute[int(nominal // 60)].append((now - nominal) * 1000)

    def all(self) -> list[float]:
        return sorted(x for values in self.by_minute.values() for x in values)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _wait_for_minutes(minutes: int) -> None:
    """Start on a minute boundary plus a little, run ``minutes`` whole minutes."""
    start = time.time()
    first = (int(start // 60) + 1) * 60
    time.sleep(max(0.0, first + minutes * 60 + 2 - time.time()))


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema on ``BATCHYARD_TEST_POSTGRES``, dropped afterwards."""
    import psycopg

    schema = f"by_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run_batchyard(schedules: int, minutes: int, work: Path, url: str | None = None) -> Lateness:
    store = open_store(url or f"sqlite:///{work / 'batchyard.db'}")
    lateness = Lateness()

    def target(delivery: Delivery) -> str:
        lateness.note(delivery.slot.timestamp(), time.time())
        return delivery.slot_key

    targets = Targets()
    targets.extra["states"] = target
    book = ScheduleBook(store)
    for i in range(schedules):
        book.create(
            {
                "Name": f"bench-{i:04d}",
                "ScheduleExpression": "cron(* * * * ? *)",
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "Target": {"Arn": MACHINE, "RoleArn": ROLE},
            }
        )
    scheduler = Scheduler(store, targets)
    scheduler.start()
    try:
        _wait_for_minutes(minutes)
    finally:
        scheduler.stop()
        store.close()
    return lateness


def run_apscheduler(schedules: int, minutes: int, work: Path, *, durable: bool = True) -> Lateness:
    from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
    from apscheduler.jobstores.memory import MemoryJobStore  # type: ignore[import-untyped]
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore  # type: ignore[import-untyped]
    from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
    from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

    lateness = Lateness()
    path = work / "apscheduler.db"
    store = SQLAlchemyJobStore(url=f"sqlite:///{path}") if durable else MemoryJobStore()
    scheduler = BackgroundScheduler(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(8)},
        job_defaults={"coalesce": False, "misfire_grace_time": 3600, "max_instances": 10},
        timezone=UTC,
    )
    for i in range(schedules):
        scheduler.add_job(
            note_apscheduler,
            CronTrigger(minute="*", timezone=UTC),
            args=[f"bench-{i:04d}"],
            id=f"bench-{i:04d}",
        )
    global _APS_LATENESS
    _APS_LATENESS = lateness
    scheduler.start()
    try:
        _wait_for_minutes(minutes)
    finally:
        scheduler.shutdown(wait=True)
    return lateness


_APS_LATENESS: Lateness | None = None


def note_apscheduler(_name: str) -> None:
    """APScheduler 3 does not pass the scheduled time: the nominal time is the minute."""
    now = time.time()
    assert _APS_LATENESS is not None
    _APS_LATENESS.note(float(int(now // 60) * 60), now)


def report(results: dict[str, Lateness], schedules: int, minutes: int) -> None:
    print(
        f"\nFiring lateness, {schedules} schedules every minute at :00, {minutes} min "
        f"(SQLite stores, 8 threads), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    print("| scheduler | fires | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for name, lateness in results.items():
        values = lateness.all()
        print(
            f"| {name} | {len(values)} | {percentile(values, 0.5):.1f} | "
            f"{percentile(values, 0.99):.1f} | {max(values, default=float('nan')):.1f} |"
        )
    print("\np99 ms by minute (a growing lag would rise along the row):\n")
    for name, lateness in results.items():
        row = [f"{percentile(v, 0.99):.0f}" for _, v in sorted(lateness.by_minute.items())]
        print(f"- {name}: {', '.join(row)}")
    if "batchyard" not in results or "APScheduler 3" not in results:
        return
    ours = percentile(results["batchyard"].all(), 0.99)
    theirs = percentile(results["APScheduler 3"].all(), 0.99)
    print(
        f"\ngoal p99 <= 100 ms: {'met' if ours <= 100 else 'NOT met'} ({ours:.1f} ms); "
        f"below APScheduler's: {'met' if ours < theirs else 'NOT met'} ({theirs:.1f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=3)
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument(
        "--postgres", action="store_true", help="also batchyard on PostgreSQL (replicas' store)"
    )
    parser.add_argument(
        "--only", choices=["batchyard", "apscheduler"], help="run one side (the drift check)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results: dict[str, Lateness] = {}
        if args.only in (None, "batchyard"):
            results["batchyard"] = run_batchyard(args.schedules, args.minutes, work)
        if args.postgres:
            with postgres_schema() as url:
                results["batchyard, PostgreSQL"] = run_batchyard(
                    args.schedules, args.minutes, work, url
                )
        if args.only in (None, "apscheduler"):
            results["APScheduler 3"] = run_apscheduler(args.schedules, args.minutes, work)
            # For context, not the comparison: APScheduler without a durable store.
            results["APScheduler 3, memory store"] = run_apscheduler(
                args.schedules, args.minutes, work, durable=False
            )
    report(results, args.schedules, args.minutes)


if __name__ == "__main__":
    main()
