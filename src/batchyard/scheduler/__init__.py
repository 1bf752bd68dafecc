"""EventBridge Scheduler for batchyard: expressions, the exactly-once slot ledger, policies.

The public Python API (the CLI and the web console call these):

``next_fire_times(schedule, n, *, after=None) -> list[datetime]``
    The next ``n`` fire instants (aware UTC) of a schedule — a :class:`ScheduleRecord` or a
    ``GetSchedule`` answer (``ScheduleExpression``, ``ScheduleExpressionTimezone``,
    ``StartDate``, ``EndDate``) — after ``after`` (default now). Pure: no store needed.
``slot_history(store, schedule_arn, limit=50) -> list[Slot]``
    The newest slots of a schedule, newest first: ``slot`` (nominal time), ``due_at``,
    ``status`` (``PENDING`` | ``STARTED`` | ``SKIPPED`` | ``FAILED`` | ``DEAD_LETTERED``),
    ``target_ref`` (execution or task ARN when started), ``reason`` (why skipped/failed),
    ``attempts``.
``dead_letters(store, queue_arn=None, limit=100) -> list[DeadLetter]``
    Deliveries that failed for good, newest first, optionally of one dead-letter queue ARN
    (the schedule's ``Target.DeadLetterConfig.Arn``).
``replay_dead_letter(store, letter_id, *, targets=None) -> str``
    Deliver a dead letter again (same slot, so the same idempotency key); the started
    execution/task ARN. Raises ``KeyError`` for an unknown id, ``TargetError`` if the delivery
    fails again. Without ``targets``, state machines are started on the store directly (for a
    CLI that only has the store URL); a server passes its own (``SchedulerInstall.targets``).

Building blocks: :class:`Scheduler` (the worker, ``service.py``), :class:`ScheduleBook` (the
API's semantics, ``book.py``), :class:`Targets` (``targets.py``), :func:`parse`
(``expressions.py``), policies in ``policies.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from batchyard.scheduler.book import ScheduleBook, SchedulerError
from batchyard.scheduler.expressions import Expression, ExpressionError, parse
from batchyard.scheduler.records import DeadLetter, ScheduleGroup, ScheduleRecord, Slot
from batchyard.scheduler.repository import SchedulerRepo
from batchyard.scheduler.service import Scheduler, expression_of
from batchyard.scheduler.targets import Delivery, TargetError, Targets
from batchyard.store import Store

__all__ = [
    "DeadLetter",
    "Delivery",
    "Expression",
    "ExpressionError",
    "ScheduleBook",
    "ScheduleGroup",
    "ScheduleRecord",
    "Scheduler",
    "SchedulerError",
    "Slot",
    "TargetError",
    "Targets",
    "dead_letters",
    "next_fire_times",
    "parse",
    "replay_dead_letter",
    "slot_history",
]


def next_fire_times(
    schedule: ScheduleRecord | Mapping[str, Any], n: int, *, after: datetime | None = None
) -> list[datetime]:
    """The next ``n`` fire instants of ``schedule`` after ``after`` (default now)."""
    moment = after or datetime.now(UTC)
    if isinstance(schedule, ScheduleRecord):
        expr = expression_of(schedule)
        anchor: datetime | None = schedule.anchor
    else:
        expr = parse(
            str(schedule["ScheduleExpression"]),
            schedule.get("ScheduleExpressionTimezone"),
            start=schedule.get("StartDate"),
            end=schedule.get("EndDate"),
            allow_seconds=True,
        )
        # rate() counts from StartDate, else from the last create/update (whole seconds).
        changed = schedule.get("LastModificationDate") or schedule.get("CreationDate")
        anchor = schedule.get("StartDate") or (
            changed.replace(microsecond=0) if isinstance(changed, datetime) else None
        )
    times: list[datetime] = []
    for instant in expr.fire_times(moment, anchor=anchor):
        times.append(instant)
        if len(times) >= n:
            break
    return times


def slot_history(store: Store, schedule_arn: str, limit: int = 50) -> list[Slot]:
    """The newest ``limit`` slots of the schedule, newest first."""
    return SchedulerRepo(store.db).slots(schedule_arn, limit)


def dead_letters(store: Store, queue_arn: str | None = None, limit: int = 100) -> list[DeadLetter]:
    """Dead letters, newest first (of one dead-letter queue ARN if given)."""
    return SchedulerRepo(store.db).dead_letters(queue_arn, limit)


def replay_dead_letter(store: Store, letter_id: str, *, targets: Targets | None = None) -> str:
    """Deliver a dead letter again; the ARN of what it started (``TargetError`` if it fails).

    Without ``targets`` (a CLI process with only the store's URL), state-machine letters are
    started on the store directly — the server's engine workers then run the execution.
    """
    if targets is None:
        from batchyard.engine import Engine

        targets = Targets(stepfunctions=Engine(store))
    repo = SchedulerRepo(store.db)
    letter = repo.find_dead_letter(letter_id)
    if letter is None:
        raise KeyError(f"no dead letter {letter_id!r}")
    name = letter.schedule_arn.rsplit("/", 1)[-1]
    delivery = Delivery(
        schedule_id=letter.schedule_id,
        schedule_arn=letter.schedule_arn,
        schedule_name=name,
        slot=letter.slot,
        attempt=letter.attempts + 1,
        execution_id=letter.id,
        target=letter.target,
        input=letter.input,
    )
    reference = targets.deliver(replace(delivery))
    repo.mark_replayed(letter.id, datetime.now(UTC), reference)
    return reference
