"""Injected start failures, for testing retry flows against ECS's exact texts.

* ``batchyard:inject-start-failures`` = N on a task definition: its first N launches fail to
  start (``stopCode: TaskFailedToStart``), launch k with ``injected_reason(k)``.
* ``batchyard:start-failure-rate`` = r (0..1) on a cluster: a task fails to start when a hash of
  its id falls below r, so the same task always gets the same answer (replays, takeovers).

Both tags stay valid AWS tags, so the definitions deploy to AWS unchanged (where they do nothing).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from batchyard.ecs import errors
from batchyard.runners import classify

FAILURES_TAG = "batchyard:inject-start-failures"
RATE_TAG = "batchyard:start-failure-rate"


def injected_reason(n: int) -> str:
    """The ``stoppedReason`` of the n-th injected failure (1-based): ECS's own texts, from
    ``batchyard.runners.classify``, in a fixed cycle."""
    return classify.injected_reason(n - 1)


def check_tags(tags: Mapping[str, str]) -> None:
    """Refuse injection tags whose value cannot mean anything."""
    if FAILURES_TAG in tags:
        value = tags[FAILURES_TAG]
        if not value.isdigit():
            raise errors.invalid(
                f"Tag {FAILURES_TAG} must be a whole number of launches, got '{value}'."
            )
    if RATE_TAG in tags:
        value = tags[RATE_TAG]
        try:
            rate = float(value)
        except ValueError:
            rate = -1.0
        if not 0.0 <= rate <= 1.0:
            raise errors.invalid(f"Tag {RATE_TAG} must be a number from 0 to 1, got '{value}'.")


def failure_for(
    *,
    launch_number: int,
    task_id: str,
    definition_tags: Mapping[str, str],
    cluster_tags: Mapping[str, str],
) -> str | None:
    """The injected ``stoppedReason`` for this launch, or ``None`` to start normally."""
    planned = definition_tags.get(FAILURES_TAG, "")
    if planned.isdigit() and launch_number <= int(planned):
        return injected_reason(launch_number)
    rate_text = cluster_tags.get(RATE_TAG)
    if rate_text:
        try:
            rate = float(rate_text)
        except ValueError:
            return None
        draw = int.from_bytes(hashlib.sha256(task_id.encode()).digest()[:8], "big") / 2**64
        if draw < rate:
            return injected_reason(launch_number)
    return None
