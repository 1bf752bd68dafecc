"""Rows of the scheduler's tables as frozen dataclasses (field names = column names)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

DEFAULT_GROUP = "default"

# Slot outcomes.
PENDING = "PENDING"
STARTED = "STARTED"
SKIPPED = "SKIPPED"
FAILED = "FAILED"
DEAD_LETTERED = "DEAD_LETTERED"


@dataclass(frozen=True)
class ScheduleGroup:
    name: str
    arn: str
    state: str
    tags: dict[str, str]
    created: datetime
    updated: datetime


@dataclass(frozen=True)
class ScheduleRecord:
    id: str
    group_name: str
    name: str
    arn: str
    description: str | None
    expression: str
    timezone: str
    start_date: datetime | None
    end_date: datetime | None
    state: str
    flexible_window: dict[str, Any]
    action_after_completion: str
    kms_key_arn: str | None
    client_token: str | None
    target: dict[str, Any]
    anchor: datetime
    next_slot: datetime | None
    version: int
    created: datetime
    updated: datetime


@dataclass(frozen=True)
class Slot:
    """One nominal fire time of one schedule and what became of it."""

    schedule_id: str
    slot: datetime
    schedule_arn: str
    due_at: datetime
    status: str
    available_at: datetime | None
    lease_owner: str | None
    attempts: int
    target_ref: str | None
    reason: str | None
    settled: datetime | None
    created: datetime
    updated: datetime


@dataclass(frozen=True)
class DeadLetter:
    """A delivery that failed for good, kept for listing and replay."""

    id: str
    queue_arn: str
    schedule_arn: str
    schedule_id: str
    slot: datetime
    target: dict[str, Any]
    input: str | None
    error: str
    attempts: int
    created: datetime
    replayed: datetime | None
    replay_ref: str | None
