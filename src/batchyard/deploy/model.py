"""``batchyard.yaml``: what a project declares, as plain dataclasses.

``schema.parse`` builds a :class:`Project` from the file (checking everything, with
locations); the resource kinds in ``resources/`` read it to plan. Task definitions stay ECS
``RegisterTaskDefinition`` input as written; the other sections are batchyard's short forms of
the AWS calls deploy makes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_TAG = "batchyard:project"
EGRESS_TAG = "batchyard:egress"
DEFAULT_ROLE = "arn:aws:iam::123456789012:role/batchyard"
NAME = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")
SECTIONS = (
    "project",
    "log_groups",
    "clusters",
    "egress_profiles",
    "task_definitions",
    "functions",
    "state_machines",
    "schedule_groups",
    "schedules",
)
LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")
MACHINE_TYPES = ("STANDARD", "EXPRESS")
RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13")
# Scheduling policies, carried as batchyard:<name> tags of a schedule group (scheduler/policies).
GROUP_POLICIES = ("overlap", "catch-up", "catch-up-limit", "starting-deadline")
EGRESS_SETTINGS = ("proxy", "https_proxy", "no_proxy", "docker_network")


@dataclass
class LogGroup:
    name: str
    retention_days: int | None = None


@dataclass
class Function:
    name: str
    directory: Path
    handler: str
    runtime: str = "python3.12"
    timeout: int = 3
    memory: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    role: str = DEFAULT_ROLE
    description: str = ""


@dataclass
class StateMachine:
    name: str
    definition_file: Path
    definition: dict[str, Any]
    role: str = DEFAULT_ROLE
    type: str = "STANDARD"
    log_level: str | None = None
    include_execution_data: bool = False
    log_group: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class ScheduleGroup:
    name: str
    policies: dict[str, str] = field(default_factory=dict)


@dataclass
class Schedule:
    name: str
    expression: str
    target: str  # a state machine of the project, by name
    group: str
    timezone: str = "UTC"
    input: str | None = None
    role: str = DEFAULT_ROLE
    enabled: bool = True
    description: str = ""
    flexible_window_minutes: int | None = None


@dataclass
class Project:
    name: str
    root: Path
    log_groups: dict[str, LogGroup] = field(default_factory=dict)
    clusters: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> tags
    egress_profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    task_definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    state_machines: dict[str, StateMachine] = field(default_factory=dict)
    schedule_groups: dict[str, ScheduleGroup] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
