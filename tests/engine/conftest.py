"""Engines on real SQLite files, a fake clock, and helpers to deploy state machines."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from batchyard.engine import Engine
from batchyard.store import StateMachine, Store, open_store

ROOT_DIR = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/StepFunctions"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


class FakeClock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def machine_arn(name: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"


def deploy(
    store: Store,
    name: str,
    definition: dict[str, Any],
    *,
    type_: str = "STANDARD",
    logging: dict[str, Any] | None = None,
) -> str:
    arn = machine_arn(name)
    now = datetime.now(UTC)
    store.state_machines.create(
        StateMachine(
            arn=arn,
            name=name,
            type=type_,
            definition=json.dumps(definition),
            role_arn=ROLE,
            revision_id="r1",
            created=now,
            updated=now,
            logging_configuration=logging,
        )
    )
    return arn


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'state.db'}", clock=clock)
    yield opened
    opened.close()


EngineFactory = Callable[..., Engine]


@pytest.fixture
def engine(store: Store, clock: FakeClock) -> Engine:
    return Engine(store, clock=clock, owner="test-engine")


def types(store: Store, arn: str) -> list[str]:
    return [event.type for event in store.history.all(arn)]
