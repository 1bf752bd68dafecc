"""Runners: one ECS-style task on one backend (local processes, Docker, AWS ECS).

See ``base.py`` for the contract and ``registry.make_runner`` to build one from configuration.
"""

from batchyard.runners.base import (
    AwsLogs,
    ContainerExit,
    ContainerSpec,
    LogSink,
    Runner,
    RunningTask,
    StartFailure,
    TaskExit,
    TaskSpec,
)
from batchyard.runners.registry import RUNNERS, make_runner

__all__ = [
    "RUNNERS",
    "AwsLogs",
    "ContainerExit",
    "ContainerSpec",
    "LogSink",
    "Runner",
    "RunningTask",
    "StartFailure",
    "TaskExit",
    "TaskSpec",
    "make_runner",
]
