"""The scheduler worker on SQLite and PostgreSQL, driven by a fake clock.

Replicas are several ``Scheduler`` objects on one store; "dying" is simply never firing what
was claimed. Deliveries are recorded by a fake state-machine target, except for the policy
tests, which start real executions on the engine (left RUNNING: no engine worker runs them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from batchyard.engine import Engine
from batchyard.scheduler import (
    ScheduleBook,
    Scheduler,
    TargetError,
    Targets,
    dead_letters,
    replay_dead_letter,
    slot_history,
)
from batchyard.scheduler.service import flexible_offset
from batchyard.store import Store
from tests.engine.conftest import deploy
from tests.scheduler.conftest import FakeClock, Recorder, schedule

Make = Callable[..., Scheduler]


def _run(schedulers: list[Scheduler], clock: FakeClock, seconds: int, step: float = 1.0) -> None:
    for _ in range(int(seconds / step)):
        for scheduler in schedulers:
            scheduler.run_once(clock.now)
        clock.advance(seconds=step)


def test_two_replicas_fire_every_slot_once(
    book: ScheduleBook, make_scheduler: Make, clock: FakeClock, recorder: Recorder
) -> None:
    book.create(schedule("every-10s", "rate(10 seconds)"))
    book.create(schedule("minutely", "cron(* * * * ? *)"))
    replicas = [make_scheduler(), make_scheduler()]
    _run(replicas, clock, 300)
    counts = Counter((d.schedule_name, d.slot) for d in recorder.deliveries)
    assert max(counts.values()) == 1
    assert sum(1 for name, _ in counts if name == "every-10s") == 30
    assert sum(1 for name, _ in counts if name == "minutely") == 5


def test_a_claimed_slot_of_a_dead_replica_is_delivered_after_its_lease(
    store: Store, book: ScheduleBook, make_scheduler: Make, clock: FakeClock, recorder: Recorder
) -> None:
    arn = book.create(schedule("once-a-minute", "rate(1 minute)"))
    dying = make_scheduler(lease_seconds=30)
    assert dying.materialize(clock.now) == 1  # claimed, then the replica dies: never fired
    survivor = make_scheduler(lease_seconds=30)
    _run([survivor], clock, 29)
    assert recorder.slots() == []  # the lease still protects the slot
    _run([survivor], clock, 2)
    assert len(recorder.deliveries) == 1
    assert slot_history(store, arn, 1)[0].status == "STARTED"


def test_a_clean_stop_gives_its_claimed_slots_back(
    book: ScheduleBook, make_scheduler: Make, clock: FakeClock, recorder: Recorder
) -> None:
    book.create(schedule("handed-over", "rate(1 minute)"))
    stopping = make_scheduler(lease_seconds=300)
    assert stopping.materialize(clock.now) == 1
    stopping.stop()
    _run([make_scheduler(lease_seconds=300)], clock, 2)
    assert len(recorder.deliveries) == 1  # on time, not after the 300 s lease


@pytest.mark.parametrize(
    ("catch_up", "fired", "skipped"),
    [("latest", 1, 60), ("none", 0, 61), ("all", 5, 56)],
)
def test_catch_up_after_downtime(
    store: Store,
    book: ScheduleBook,
    make_scheduler: Make,
    clock: FakeClock,
    recorder: Recorder,
    catch_up: str,
    fired: int,
    skipped: int,
) -> None:
    book.create_group(
        "ops",
        {"batchyard:catch-up": catch_up, "batchyard:catch-up-limit": "5",
         "batchyard:starting-deadline": "20"},
    )  # fmt: skip
    arn = book.create(schedule("hourly-catch", "cron(* * * * ? *)", GroupName="ops"))
    clock.advance(hours=1, seconds=30)  # an hour with no scheduler running
    scheduler = make_scheduler()
    scheduler.run_once(clock.now)
    history = slot_history(store, arn, 500)
    statuses = Counter(s.status for s in history)
    # 61 slots (12:00 to 13:00), all older than the 20 s starting deadline.
    assert len(recorder.deliveries) == fired
    assert statuses["SKIPPED"] == skipped
    if catch_up == "latest":
        assert recorder.deliveries[0].slot == clock.now.replace(second=0)
    assert all(s.reason for s in history if s.status == "SKIPPED")


def test_retries_then_dead_letter_then_replay(
    store: Store, book: ScheduleBook, make_scheduler: Make, clock: FakeClock, recorder: Recorder
) -> None:
    queue = "arn:aws:sqs:us-east-1:123456789012:nightly-dlq"
    arn = book.create(
        schedule(
            "flaky",
            "at(2026-03-01T12:00:30)",
            Target={
                "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
                "DeadLetterConfig": {"Arn": queue},
                "Input": '{"attempt": "<aws.scheduler.attempt-number>"}',
            },
        )
    )
    recorder.fail_with = TargetError("ExecutionLimitExceeded", "too many")
    _run([make_scheduler()], clock, 60)
    assert [d.input for d in recorder.deliveries] == [
        '{"attempt": "1"}', '{"attempt": "2"}', '{"attempt": "3"}'
    ]  # fmt: skip
    assert slot_history(store, arn, 1)[0].status == "DEAD_LETTERED"
    letters = dead_letters(store, queue)
    assert len(letters) == 1 and "ExecutionLimitExceeded" in letters[0].error
    recorder.fail_with = None
    targets = Targets()
    targets.extra["states"] = recorder
    reference = replay_dead_letter(store, letters[0].id, targets=targets)
    assert reference.endswith(recorder.deliveries[-1].slot_key)
    assert dead_letters(store, queue)[0].replay_ref == reference


def test_permanent_errors_skip_retries(
    store: Store, book: ScheduleBook, make_scheduler: Make, clock: FakeClock, recorder: Recorder
) -> None:
    arn = book.create(schedule("broken", "rate(1 minute)"))
    recorder.fail_with = TargetError("StateMachineDoesNotExist", "gone", retryable=False)
    _run([make_scheduler()], clock, 5)
    assert len(recorder.deliveries) == 1
    slot = slot_history(store, arn, 1)[0]
    assert slot.status == "FAILED" and "StateMachineDoesNotExist" in (slot.reason or "")


def test_at_with_delete_after_completion(
    book: ScheduleBook, make_scheduler: Make, clock: FakeClock, recorder: Recorder
) -> None:
    book.create(schedule("one-shot", "at(2026-03-01T12:00:05)", ActionAfterCompletion="DELETE"))
    book.create(schedule("kept", "at(2026-03-01T12:00:05)"))
    _run([make_scheduler()], clock, 10)
    assert sorted(d.schedule_name for d in recorder.deliveries) == ["kept", "one-shot"]
    assert book.get("kept", None).next_slot is None
    with pytest.raises(Exception, match="Schedule one-shot does not exist"):
        book.get("one-shot", None)


def test_end_date_with_delete_after_completion(
    book: ScheduleBook, make_scheduler: Make, clock: FakeClock, recorder: Recorder
) -> None:
    book.create(
        schedule(
            "until-end", "rate(1 minute)", ActionAfterCompletion="DELETE",
            EndDate=clock.now + timedelta(seconds=150),
            Target={"Input": '{"id": "<aws.scheduler.execution-id>"}'},
        )
    )  # fmt: skip
    _run([make_scheduler()], clock, 240, step=5)
    assert [d.slot - recorder.deliveries[0].slot for d in recorder.deliveries] == [
        timedelta(0), timedelta(minutes=1), timedelta(minutes=2)
    ]  # fmt: skip
    ids = {d.input for d in recorder.deliveries}
    assert len(ids) == 3 and all(d.execution_id in (d.input or "") for d in recorder.deliveries)
    with pytest.raises(Exception, match="Schedule until-end does not exist"):
        book.get("until-end", None)


def test_flexible_window_offsets_are_deterministic_and_inside_the_window(
    book: ScheduleBook, make_scheduler: Make, clock: FakeClock, recorder: Recorder
) -> None:
    book.create(
        schedule(
            "flex", "cron(0 * * * ? *)",
            FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10},
        )
    )  # fmt: skip
    record = book.get("flex", None)
    first = record.next_slot
    assert first is not None
    window = record.flexible_window
    offset = flexible_offset(record.id, first, window)
    assert offset == flexible_offset(record.id, first, window)
    assert timedelta(0) <= offset < timedelta(minutes=10)
    clock.now = first
    _run([make_scheduler()], clock, 11 * 60, step=5)
    assert len(recorder.deliveries) == 1
    assert recorder.deliveries[0].slot == first


def test_disabled_schedules_do_not_fire(
    book: ScheduleBook, make_scheduler: Make, clock: FakeClock, recorder: Recorder
) -> None:
    book.create(schedule("off", "rate(1 minute)", State="DISABLED"))
    _run([make_scheduler()], clock, 120)
    assert recorder.deliveries == []


# --------------------------------------------------------------------------- policies


WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}


def _engine_scheduler(store: Store, clock: FakeClock) -> tuple[Engine, Scheduler]:
    engine = Engine(store)
    return engine, Scheduler(store, Targets(stepfunctions=engine), clock=clock)


@pytest.mark.parametrize("overlap", ["allow", "forbid", "queue", "replace"])
def test_overlap_policies(store: Store, book: ScheduleBook, clock: FakeClock, overlap: str) -> None:
    machine = deploy(store, "long-job", WAIT)
    book.create_group("jobs", {"batchyard:overlap": overlap})
    arn = book.create(schedule("long", "rate(1 minute)", GroupName="jobs", Target={"Arn": machine}))
    engine, scheduler = _engine_scheduler(store, clock)
    try:
        _run([scheduler], clock, 61)
        history = sorted(slot_history(store, arn, 10), key=lambda s: s.slot)
        statuses = [s.status for s in history]
        running = (
            [e for e in store.executions.list(machine).items if e.status == "RUNNING"]
            if False
            else None
        )
        del running
        if overlap == "allow":
            assert statuses == ["STARTED", "STARTED"]
        elif overlap == "forbid":
            assert statuses == ["STARTED", "SKIPPED"]
            assert "overlap forbid" in (history[1].reason or "")
        elif overlap == "queue":
            assert statuses == ["STARTED", "PENDING"]
            engine.stop_execution(str(history[0].target_ref))
            _run([scheduler], clock, 2)
            history = sorted(slot_history(store, arn, 10), key=lambda s: s.slot)
            assert [s.status for s in history] == ["STARTED", "STARTED"]
        else:
            assert statuses == ["STARTED", "STARTED"]
            first = engine.describe(str(history[0].target_ref))
            assert first.status == "ABORTED"
    finally:
        scheduler.stop()


def test_max_concurrency_of_a_state_machine_queues_slots(
    store: Store, book: ScheduleBook, clock: FakeClock
) -> None:
    machine = deploy(store, "limited", WAIT)
    store.tags.put(machine, {"batchyard:max-concurrency": "1"})
    a = book.create(schedule("a", "rate(1 minute)", Target={"Arn": machine}))
    b = book.create(schedule("b", "rate(1 minute)", Target={"Arn": machine}))
    engine, scheduler = _engine_scheduler(store, clock)
    try:
        _run([scheduler], clock, 2)
        slots = slot_history(store, a, 5) + slot_history(store, b, 5)
        assert sorted(s.status for s in slots) == ["PENDING", "STARTED"]
        started = next(s for s in slots if s.status == "STARTED")
        engine.stop_execution(str(started.target_ref))
        _run([scheduler], clock, 2)
        slots = slot_history(store, a, 5) + slot_history(store, b, 5)
        assert sorted(s.status for s in slots) == ["STARTED", "STARTED"]
    finally:
        scheduler.stop()


def test_real_executions_are_named_by_slot_and_never_duplicated(
    store: Store, book: ScheduleBook, clock: FakeClock
) -> None:
    machine = deploy(store, "named", WAIT)
    arn = book.create(schedule("named", "rate(1 minute)", Target={"Arn": machine}))
    engine, scheduler = _engine_scheduler(store, clock)
    dying = Scheduler(store, Targets(stepfunctions=engine), clock=clock, lease_seconds=5)
    try:
        dying.materialize(clock.now)
        slot = slot_history(store, arn, 1)[0]
        # The dying replica delivered but died before recording it:
        from batchyard.scheduler.targets import Delivery

        Targets(stepfunctions=engine).deliver(
            Delivery(slot.schedule_id, arn, "named", slot.slot, 1, "x", {"Arn": machine}, "{}")
        )
        _run([scheduler], clock, 10)
        history = slot_history(store, arn, 1)
        assert history[0].status == "STARTED"
        names = [e.name for e in _executions(store, machine)]
        assert len(names) == 1 and ":" not in names[0] and len(names[0]) <= 80
    finally:
        dying.stop()
        scheduler.stop()


def _executions(store: Store, machine: str) -> list[Any]:
    import sqlalchemy as sa

    from batchyard.store.schema import executions

    with store.db.read() as conn:
        return list(
            conn.execute(sa.select(executions).where(executions.c.state_machine_arn == machine))
        )


def test_a_dead_letter_replays_on_the_store_once_its_machine_exists(
    store: Store, book: ScheduleBook, clock: FakeClock
) -> None:
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:later"
    queue = "arn:aws:sqs:us-east-1:123456789012:dlq"
    book.create(
        schedule("early", "rate(1 hour)",
                 Target={"Arn": machine, "DeadLetterConfig": {"Arn": queue}})
    )  # fmt: skip
    engine, scheduler = _engine_scheduler(store, clock)
    try:
        _run([scheduler], clock, 2)
    finally:
        scheduler.stop()
    letters = dead_letters(store, queue)
    assert len(letters) == 1 and "StateMachineDoesNotExist" in letters[0].error
    deploy(store, "later", WAIT)
    arn = replay_dead_letter(store, letters[0].id)
    assert engine.describe(arn).status == "RUNNING"
    assert replay_dead_letter(store, letters[0].id) == arn  # the same slot: not a second run
    assert len(_executions(store, machine)) == 1
