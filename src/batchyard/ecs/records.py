"""Rows of the ECS tables as frozen dataclasses (field names = column names)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ClusterRecord:
    name: str
    arn: str
    status: str
    settings: list[dict[str, str]]
    created: datetime


@dataclass(frozen=True)
class TaskDefinitionRecord:
    family: str
    revision: int
    arn: str
    status: str
    body: dict[str, Any]
    launches: int
    registered: datetime


@dataclass(frozen=True)
class TaskRecord:
    arn: str
    task_id: str
    cluster: str
    family: str
    started_by: str | None
    desired_status: str
    last_status: str
    created: datetime
    body: dict[str, Any]
    version: int
    launch_number: int | None
    waiter: str | None
    delivered: bool
