"""Scheduler tests run on SQLite and PostgreSQL (the store tests' backends), with a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import batchyard.scheduler.tables  # noqa: F401 - registers the scheduler's tables for cleanup
from batchyard.scheduler import Delivery, ScheduleBook, Scheduler, TargetError, Targets
from batchyard.store import Store
from tests.store.conftest import (  # noqa: F401 - fixtures
    backend,
    open_stores,
    postgres_schema,
    sqlite_template,
    store,
    store_url,
)

SM_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:nightly"
ROLE = "arn:aws:iam::123456789012:role/scheduler"


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class Recorder:
    """A state-machine target that records every delivery (and can be told to fail)."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.fail_with: TargetError | None = None

    def __call__(self, delivery: Delivery) -> str:
        self.deliveries.append(delivery)
        if self.fail_with is not None:
            raise self.fail_with
        return f"{SM_ARN.replace('stateMachine', 'execution')}:{delivery.slot_key}"

    def slots(self) -> list[datetime]:
        return [d.slot for d in self.deliveries]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_scheduler(store: Store, clock: FakeClock, recorder: Recorder) -> Callable[..., Scheduler]:  # noqa: F811
    made: list[Scheduler] = []

    def make(**options: Any) -> Scheduler:
        targets = Targets()
        targets.extra["states"] = recorder
        scheduler = Scheduler(store, targets, clock=clock, **options)
        made.append(scheduler)
        return scheduler

    yield make  # type: ignore[misc]
    for scheduler in made:
        scheduler.stop()


@pytest.fixture
def book(store: Store, clock: FakeClock) -> ScheduleBook:  # noqa: F811
    return ScheduleBook(store, clock=clock, allow_second_rates=True)


def schedule(name: str, expression: str, **extra: Any) -> dict[str, Any]:
    target = {"Arn": SM_ARN, "RoleArn": ROLE, **extra.pop("Target", {})}
    return {
        "Name": name,
        "ScheduleExpression": expression,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": target,
        **extra,
    }
