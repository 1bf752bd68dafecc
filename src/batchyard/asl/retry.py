"""Retry and Catch: which retrier or catcher handles an error, and how long to back off.

AWS rules kept here: the *first* retrier whose ``ErrorEquals`` matches is used even when its
attempts are exhausted (then the error goes to Catch); every retrier counts its own attempts;
``States.ALL`` matches everything except ``States.Runtime``; ``States.TaskFailed`` matches
everything except that and ``States.Timeout``.

batchyard's one extension: ``ECS.TaskFailedToStart`` matches an ``ecs:runTask.sync`` failure
(``States.TaskFailed``, whose cause is the stopped task as JSON) when the task's ``StopCode`` is
``TaskFailedToStart``. The error keeps AWS's name, so a definition using it stays valid on AWS,
where the name simply never matches. Matching reads only the error and its cause, so replaying
an execution matches the same way.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from batchyard.asl.model import Catcher, Retrier

# Errors that only an explicit ErrorEquals entry naming them can match.
# (A DataLimitExceeded that a *task* reports is caught by States.ALL in AWS's recordings; the
# one a state's own output raises is terminal and never reaches Catch.)
_NOT_MATCHED_BY_ALL = frozenset({"States.Runtime"})
_NOT_MATCHED_BY_TASK_FAILED = _NOT_MATCHED_BY_ALL | {"States.Timeout"}
TASK_FAILED_TO_START = "ECS.TaskFailedToStart"


def error_matches(error_equals: Sequence[str], error: str, cause: str | None = None) -> bool:
    for name in error_equals:
        if name == error:
            return True
        if name == "States.ALL" and error not in _NOT_MATCHED_BY_ALL:
            return True
        if name == "States.TaskFailed" and error not in _NOT_MATCHED_BY_TASK_FAILED:
            return True
        if name == TASK_FAILED_TO_START and failed_to_start(error, cause):
            return True
    return False


def failed_to_start(error: str, cause: str | None) -> bool:
    """Whether a failure is an ECS task that failed to start: ``States.TaskFailed`` whose cause
    is a stopped task (PascalCase JSON, as ``ecs:runTask.sync`` writes it) with that stop code."""
    if error != "States.TaskFailed" or not cause or not cause.startswith("{"):
        return False
    try:
        task = json.loads(cause)
    except ValueError:
        return False
    return (
        isinstance(task, dict)
        and task.get("StopCode") == "TaskFailedToStart"
        and isinstance(task.get("TaskArn"), str)
    )


def find_retrier(retriers: Sequence[Retrier], error: str, cause: str | None = None) -> int | None:
    for index, retrier in enumerate(retriers):
        if error_matches(retrier.error_equals, error, cause):
            return index
    return None


def find_catcher(
    catchers: Sequence[Catcher], error: str, cause: str | None = None
) -> Catcher | None:
    for catcher in catchers:
        if error_matches(catcher.error_equals, error, cause):
            return catcher
    return None


def retry_delay(retrier: Retrier, attempt: int, rng: random.Random) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based) of ``retrier``."""
    delay = retrier.interval_seconds * (retrier.backoff_rate**attempt)
    if retrier.max_delay_seconds is not None:
        delay = min(delay, retrier.max_delay_seconds)
    if retrier.jitter_full:
        delay = rng.uniform(0.0, delay)
    return delay
