"""The scheduler loop: claim each slot once, fire it on time, record what became of it.

Design (exactly once across replicas on one database):

1. **Claim with the advance.** One transaction locks the enabled schedules whose
   ``next_slot`` is due within the look-ahead (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; the
   write transaction is exclusive on SQLite), inserts one ``scheduler_slots`` row per slot —
   primary key ``(schedule_id, slot)`` — leased to this replica until the slot's due time plus
   the lease, and moves ``next_slot`` on (conditional on the row's ``version``). A slot row
   exists once or not at all, whoever tries.
2. **Fire from memory.** The claimed slots wait in an in-memory heap and are delivered at
   their due time (the nominal time plus the flexible-window offset), so lateness is the
   timer's, not a database round trip's.
3. **Settle conditionally.** The outcome is written only while this replica still holds the
   slot (``WHERE lease_owner = me AND status = 'PENDING'``).
4. **Take over.** A PENDING slot whose lease ran out (its replica died between claim and
   settle) is claimable by any replica, which delivers it again. Delivery is idempotent per
   slot (execution name / ECS clientToken from the slot), so the second delivery finds the
   first one's execution instead of starting another.

Catch-up after downtime and overlap/concurrency policies are applied here (``policies.py``).
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from batchyard.scheduler import expressions
from batchyard.scheduler.policies import MAX_RECORDED_SKIPS, Policy, policy
from batchyard.scheduler.records import (
    DEAD_LETTERED,
    FAILED,
    PENDING,
    SKIPPED,
    STARTED,
    DeadLetter,
    ScheduleRecord,
    Slot,
)
from batchyard.scheduler.repository import SchedulerRepo
from batchyard.scheduler.tables import scheduler_groups, scheduler_slots
from batchyard.scheduler.targets import (
    Delivery,
    TargetError,
    Targets,
    execution_prefix,
    target_kind,
)
from batchyard.store import Store
from batchyard.store.schema import executions

log = logging.getLogger("batchyard.scheduler")
Clock = Callable[[], datetime]

DEFAULT_MAX_AGE = 86400  # RetryPolicy defaults, as AWS reports them
DEFAULT_MAX_RETRIES = 185
MAX_BACKOFF_S = 300.0
QUEUE_RECHECK = timedelta(seconds=1)
# Slots due this soon are prepared (schedule re-read, policies looked up) before their time,
# then delivered at it: an UpdateSchedule this close to a slot may miss that slot.
PREPARE = timedelta(milliseconds=500)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def flexible_offset(schedule_id: str, slot: datetime, window: dict[str, Any]) -> timedelta:
    """Deterministic offset inside a FLEXIBLE window: every replica computes the same one."""
    if window.get("Mode") != "FLEXIBLE":
        return timedelta(0)
    span_ms = int(window.get("MaximumWindowInMinutes") or 1) * 60_000
    key = f"{schedule_id}/{int(slot.timestamp() * 1000)}".encode()
    value = int.from_bytes(hashlib.sha256(key).digest()[:8], "big")
    return timedelta(milliseconds=value % span_ms)


def expression_of(record: ScheduleRecord) -> expressions.Expression:
    return _parsed(record.expression, record.timezone, record.start_date, record.end_date)


@functools.lru_cache(maxsize=4096)
def _parsed(
    text: str, timezone: str, start: datetime | None, end: datetime | None
) -> expressions.Expression:
    # accepted at create time already: never refuse a stored one (allow_seconds)
    return expressions.parse(text, timezone, start=start, end=end, allow_seconds=True)


def first_slot(record: ScheduleRecord, now: datetime) -> datetime | None:
    """The first slot of a new (or updated) schedule at ``now``.

    rate() without StartDate fires at once, as AWS documents; cron() fires at its next
    matching minute; at() at its time, even if that is already past (it fires late once).
    """
    expr = expression_of(record)
    if expr.kind == "at":
        return expr.at
    if expr.kind == "rate" and record.start_date is None:
        return now if record.end_date is None or now <= record.end_date else None
    return expr.next_after(now - timedelta(microseconds=1), anchor=record.anchor)


def substitute(text: str | None, values: dict[str, str]) -> str | None:
    """Input with AWS's context attributes (``<aws.scheduler.scheduled-time>`` …) filled in."""
    if text is None:
        return None
    for key, value in values.items():
        text = text.replace(f"<aws.scheduler.{key}>", value)
    return text


@dataclass(order=True)
class _Held:
    due_at: datetime
    seq: int
    slot: Slot = field(compare=False)
    record: ScheduleRecord | None = field(compare=False, default=None)


@dataclass
class _Outcome:
    values: dict[str, Any]
    dead_letter: DeadLetter | None = None


class Scheduler:
    """The scheduler worker of one replica (``start``/``stop``), or driven by ``run_once``."""

    def __init__(
        self,
        store: Store,
        targets: Targets,
        *,
        owner: str | None = None,
        clock: Clock | None = None,
        lease_seconds: float = 30.0,
        lookahead_seconds: float = 2.0,
        poll_seconds: float = 0.25,
        batch: int = 500,
        threads: int = 8,
    ) -> None:
        self.store = store
        self.targets = targets
        self.owner = owner or f"scheduler-{uuid.uuid4().hex[:12]}"
        self.clock = clock or _utc_now
        self.lease = timedelta(seconds=lease_seconds)
        self.lookahead = timedelta(seconds=lookahead_seconds)
        self.poll = poll_seconds
        self.batch = batch
        self._held: list[_Held] = []
        self._held_lock = threading.Lock()
        self._seq = itertools.count()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="scheduler-fire")
        self._local_locks: dict[str, threading.Lock] = {}
        self._local_locks_guard = threading.Lock()

    @property
    def repo(self) -> SchedulerRepo:
        return SchedulerRepo(self.store.db)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self._pool.shutdown(wait=True)
        try:
            self.release_held()
        except Exception:  # the database may be gone: the leases then lapse by themselves
            log.exception("releasing the held slots failed")

    def release_held(self) -> int:
        """Give back the slots claimed but not yet due (a clean stop), so that another
        replica delivers them on time instead of after the lease."""
        with self._held_lock:
            held, self._held = self._held, []
        if not held:
            return 0
        now = self.clock()
        outcomes = [
            (h.slot, {"lease_owner": None, "available_at": h.slot.due_at, "updated": now})
            for h in held
        ]
        return SchedulerRepo(self.store.db).settle_many(self.owner, outcomes)

    def wake(self) -> None:
        """Look at the schedules now (a schedule was created or changed)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                pause = self.run_once()
            except Exception:
                log.exception("scheduler pass failed")
                pause = 1.0
            if pause > 0:
                self._wake.wait(pause)
            self._wake.clear()

    def run_once(self, now: datetime | None = None) -> float:
        """Claim what is due, fire what is due; seconds until something may be due next."""
        moment = now or self.clock()
        # Fire first: what is due now must not wait for the claiming queries.
        self.fire_due(now)
        self.materialize(moment)
        self.take_over(moment)
        self.fire_due(now)
        with self._held_lock:
            next_due = self._held[0].due_at if self._held else None
        pause = self.poll
        if next_due is not None:
            early = next_due - PREPARE
            pause = min(pause, max(0.0, (early - self.clock()).total_seconds()))
        return pause

    # ------------------------------------------------------------------ 1. claim

    def materialize(self, now: datetime) -> int:
        """Claim every slot due within the look-ahead; how many this replica now holds."""
        horizon = now + self.lookahead
        claimed: list[Slot] = []
        with self.store.transaction() as tx:
            repo = SchedulerRepo(self.store.db, tx.connection)
            due = repo.lock_due_schedules(horizon, self.batch)
            if not due:
                return 0
            tags = _group_tags(tx.connection, {s.group_name for s in due})
            pending: list[Slot] = []
            skipped: list[Slot] = []
            moves: list[tuple[str, int, datetime | None]] = []
            for record in due:
                rules = policy(tags.get(record.group_name, {}))
                fire, skip, next_slot = self._plan(record, rules, now, horizon)
                for slot_time in fire:
                    due_at = slot_time + flexible_offset(
                        record.id, slot_time, record.flexible_window
                    )
                    pending.append(
                        _slot_row(
                            record,
                            slot_time,
                            now,
                            due_at=due_at,
                            status=PENDING,
                            available_at=max(due_at, now) + self.lease,
                            lease_owner=self.owner,
                        )
                    )
                skipped += [_skipped(record, t, reason, now) for t, reason in skip]
                moves.append((record.id, record.version, next_slot))
            inserted = repo.insert_slots(pending)
            repo.insert_slots(skipped)
            repo.advance_many(moves)
            claimed = [s for s in pending if (s.schedule_id, s.slot) in inserted]
        by_id = {record.id: record for record in due}
        with self._held_lock:
            for slot in claimed:
                held = _Held(slot.due_at, next(self._seq), slot, by_id.get(slot.schedule_id))
                heapq.heappush(self._held, held)
        return len(claimed)

    def _plan(
        self, record: ScheduleRecord, rules: Policy, now: datetime, horizon: datetime
    ) -> tuple[list[datetime], list[tuple[datetime, str]], datetime | None]:
        """(slots to fire, slots to skip with why, the next unclaimed slot)."""
        expr = expression_of(record)
        edge = now - rules.starting_deadline
        fire: list[datetime] = []
        missed: list[datetime] = []
        passed = 0
        current = record.next_slot
        while current is not None and current <= horizon:
            if current < edge:
                missed.append(current)
                if len(missed) > max(rules.catch_up_limit, MAX_RECORDED_SKIPS) * 2:
                    passed += len(missed) - max(rules.catch_up_limit, MAX_RECORDED_SKIPS)
                    del missed[: -max(rules.catch_up_limit, MAX_RECORDED_SKIPS)]
            else:
                fire.append(current)
            current = expr.next_after(current, anchor=record.anchor)
        skip: list[tuple[datetime, str]] = []
        if missed:
            if rules.catch_up == "all":
                keep = missed[-rules.catch_up_limit :]
                dropped = missed[: -rules.catch_up_limit] if len(missed) > len(keep) else []
                skip = [
                    (t, f"catch-up all: beyond the limit of {rules.catch_up_limit}")
                    for t in dropped
                ]
                fire = keep + fire
            elif rules.catch_up == "latest" and not fire:
                fire = [missed[-1]]
                skip = [(t, "catch-up latest: a later slot ran instead") for t in missed[:-1]]
            elif rules.catch_up == "latest":
                skip = [(t, "catch-up latest: a later slot ran instead") for t in missed]
            else:
                skip = [(t, "catch-up none: missed while no scheduler was running") for t in missed]
            if passed:
                log.warning("%s: %d missed slots skipped without a record", record.arn, passed)
            skip = skip[-MAX_RECORDED_SKIPS:]
        return fire, skip, current

    # ------------------------------------------------------------------ 4. take over

    def take_over(self, now: datetime) -> int:
        """Claim slots whose holder died (lease over) or whose retry or queue wait is due."""
        if self.repo.next_claimable() is None:
            return 0
        slots = SchedulerRepo(self.store.db).claim_slots(
            self.owner, now, now + self.lease, self.batch
        )
        with self._held_lock:
            for slot in slots:
                claimed = replace(slot, lease_owner=self.owner)
                heapq.heappush(self._held, _Held(now, next(self._seq), claimed))
        return len(slots)

    # ------------------------------------------------------------------ 2. fire

    def fire_due(self, now: datetime | None = None) -> int:
        """Deliver every held slot whose due time has come; record the outcomes.

        In real time (``now`` not given) the slots due within the next ``PREPARE`` are
        prepared first — their schedules re-read, their policies looked up — and then each is
        delivered at its exact due time, so the database is not between a due time and its
        delivery. With ``now`` given (tests), what is due at ``now`` is delivered at once.
        """
        real_time = now is None
        moment = now or self.clock()
        horizon = moment + PREPARE if real_time else moment
        popped: list[_Held] = []
        with self._held_lock:
            while self._held and self._held[0].due_at <= horizon:
                popped.append(heapq.heappop(self._held))
        if not popped:
            return 0
        records = self._current_records(popped)
        with self.store.db.read() as conn:
            group_tags = _group_tags(conn, {r.group_name for r in records.values()})
        machine_tags: dict[str, dict[str, str]] = {}
        for record in records.values():
            arn = str(record.target.get("Arn", ""))
            if target_kind(arn) == "states" and arn not in machine_tags:
                machine_tags[arn] = {t.key: t.value for t in self.store.tags.get(arn)}

        # Everything that does not depend on the moment of delivery is done now, before the
        # due time: the delivery itself (input with its context attributes) and the policy.
        rules: dict[str, Policy] = {}
        prepared: dict[tuple[str, datetime], Delivery] = {}
        for held in popped:
            row = records.get(held.slot.schedule_id)
            if row is None:
                continue
            arn = str(row.target.get("Arn", ""))
            rule = rules.setdefault(
                row.id, policy(group_tags.get(row.group_name, {}), machine_tags.get(arn))
            )
            if row.state == "ENABLED" and not (target_kind(arn) == "states" and rule.needs_lock):
                prepared[(held.slot.schedule_id, held.slot.slot)] = self._delivery(held.slot, row)

        def fire(slot: Slot) -> tuple[Slot, _Outcome]:
            record = records.get(slot.schedule_id)
            delivery = prepared.get((slot.schedule_id, slot.slot))
            try:
                if record is not None and delivery is not None:
                    return slot, self._deliver(slot, record, self.clock(), delivery)
                return slot, self._fire_one(slot, record, rules.get(slot.schedule_id, Policy()))
            except Exception as exc:  # never lose a slot to a bug: retry it later
                log.exception("delivering %s at %s failed", slot.schedule_arn, slot.slot)
                return slot, _Outcome(_requeue(moment + QUEUE_RECHECK, f"internal error: {exc}"))

        results: list[tuple[Slot, _Outcome]] = []
        for due_at, group in itertools.groupby(popped, key=lambda held: held.due_at):
            if real_time:
                wait = (due_at - self.clock()).total_seconds()
                if wait > 0:
                    time.sleep(wait)
            results += self._map(fire, [held.slot for held in group])
        self._settle(results, records, moment)
        return len(results)

    def _current_records(self, popped: list[_Held]) -> dict[str, ScheduleRecord]:
        """The schedules of the due slots as they are now: the copies read when the slots
        were claimed, unless UpdateSchedule changed them since (then read again)."""
        repo = self.repo
        fresh = repo.freshness(sorted({h.slot.schedule_id for h in popped}))
        records: dict[str, ScheduleRecord] = {}
        stale: list[str] = []
        for held in popped:
            schedule_id = held.slot.schedule_id
            if schedule_id in records or schedule_id not in fresh:
                continue
            updated, state = fresh[schedule_id]
            if held.record is not None and held.record.updated == updated:
                same = held.record.state == state
                records[schedule_id] = held.record if same else replace(held.record, state=state)
            else:
                stale.append(schedule_id)
        records.update(repo.schedules_by_id(sorted(set(stale))))
        return records

    def _map(
        self, fire: Callable[[Slot], tuple[Slot, _Outcome]], due: list[Slot]
    ) -> list[tuple[Slot, _Outcome]]:
        """Deliver in the pool, a chunk per thread (a future per slot costs more than an
        in-process delivery)."""
        if len(due) == 1:
            return [fire(due[0])]
        size = -(-len(due) // self._threads)
        chunks = [due[i : i + size] for i in range(0, len(due), size)]
        done = self._pool.map(lambda chunk: [fire(s) for s in chunk], chunks)
        return [result for chunk in done for result in chunk]

    def _fire_one(self, slot: Slot, record: ScheduleRecord | None, rules: Policy) -> _Outcome:
        now = self.clock()
        if record is None:
            return _Outcome(_settled(SKIPPED, now, reason="the schedule was deleted"))
        if record.state != "ENABLED":
            return _Outcome(_settled(SKIPPED, now, reason="the schedule is disabled"))
        kind = target_kind(str(record.target.get("Arn", "")))
        if kind == "states" and rules.needs_lock:
            with self._policy_lock(str(record.target["Arn"])):
                return self._fire_with_policy(slot, record, rules, now)
        return self._deliver(slot, record, now)

    def _fire_with_policy(
        self, slot: Slot, record: ScheduleRecord, rules: Policy, now: datetime
    ) -> _Outcome:
        machine = str(record.target["Arn"])
        mine = self._running(machine, execution_prefix(record.id, record.name))
        late = now - slot.due_at > rules.starting_deadline
        if mine and rules.overlap == "forbid":
            return _Outcome(
                _settled(SKIPPED, now, reason=f"overlap forbid: {mine[0]} is still running")
            )
        if mine and rules.overlap == "queue":
            if late:
                return _Outcome(
                    _settled(SKIPPED, now, reason="overlap queue: starting deadline passed")
                )
            return _Outcome(_requeue(now + QUEUE_RECHECK, f"queued behind {mine[0]}"))
        if mine and rules.overlap == "replace" and self.targets.stepfunctions is not None:
            for arn in mine:
                self.targets.stepfunctions.stop_execution(
                    arn,
                    error="batchyard.Replaced",
                    cause=f"replaced by the slot {slot.slot.isoformat()}",
                )
        if rules.max_concurrency is not None:
            running = len(self._running(machine, None))
            if running >= rules.max_concurrency:
                if late:
                    return _Outcome(
                        _settled(SKIPPED, now, reason="max-concurrency: starting deadline passed")
                    )
                return _Outcome(
                    _requeue(
                        now + QUEUE_RECHECK, f"queued: max-concurrency {rules.max_concurrency}"
                    )
                )
        return self._deliver(slot, record, now)

    def _deliver(
        self,
        slot: Slot,
        record: ScheduleRecord,
        now: datetime,
        delivery: Delivery | None = None,
    ) -> _Outcome:
        delivery = delivery or self._delivery(slot, record)
        try:
            reference = self.targets.deliver(delivery)
        except TargetError as error:
            return self._failed(slot, record, delivery, error, now)
        return _Outcome(_settled(STARTED, now, ref=reference, attempts=delivery.attempt))

    @staticmethod
    def _delivery(slot: Slot, record: ScheduleRecord) -> Delivery:
        """The delivery of ``slot``: AWS's context attributes substituted into the Input."""
        attempt = slot.attempts + 1
        execution_id = str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"{record.arn}/{slot.slot.isoformat()}/{attempt}")
        )
        text = substitute(
            record.target.get("Input"),
            {
                "scheduled-time": slot.slot.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "execution-id": execution_id,
                "attempt-number": str(attempt),
                "schedule-arn": record.arn,
            },
        )
        return Delivery(
            schedule_id=record.id,
            schedule_arn=record.arn,
            schedule_name=record.name,
            slot=slot.slot,
            attempt=attempt,
            execution_id=execution_id,
            target=record.target,
            input=text,
        )

    def _failed(
        self,
        slot: Slot,
        record: ScheduleRecord,
        delivery: Delivery,
        error: TargetError,
        now: datetime,
    ) -> _Outcome:
        retry = record.target.get("RetryPolicy") or {}
        max_retries = int(retry.get("MaximumRetryAttempts", DEFAULT_MAX_RETRIES))
        max_age = timedelta(seconds=int(retry.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE)))
        attempt = delivery.attempt
        backoff = timedelta(seconds=min(MAX_BACKOFF_S, 2.0 ** (attempt - 1)))
        if error.retryable and attempt <= max_retries and now + backoff - slot.slot <= max_age:
            values = _requeue(now + backoff, str(error))
            values["attempts"] = attempt
            return _Outcome(values)
        queue = (record.target.get("DeadLetterConfig") or {}).get("Arn")
        if not queue:
            return _Outcome(_settled(FAILED, now, reason=str(error), attempts=attempt))
        letter = DeadLetter(
            id=uuid.uuid4().hex,
            queue_arn=str(queue),
            schedule_arn=record.arn,
            schedule_id=record.id,
            slot=slot.slot,
            target=record.target,
            input=delivery.input,
            error=str(error),
            attempts=attempt,
            created=now,
            replayed=None,
            replay_ref=None,
        )
        return _Outcome(_settled(DEAD_LETTERED, now, reason=str(error), attempts=attempt), letter)

    # ------------------------------------------------------------------ 3. settle

    def _settle(
        self,
        results: list[tuple[Slot, _Outcome]],
        records: dict[str, ScheduleRecord],
        now: datetime,
    ) -> None:
        finished = {
            slot.schedule_id for slot, outcome in results if outcome.values.get("status") != PENDING
        }
        with self.store.transaction() as tx:
            repo = SchedulerRepo(self.store.db, tx.connection)
            plain = [
                (slot, {"updated": now, **o.values}) for slot, o in results if not o.dead_letter
            ]
            recorded = repo.settle_many(self.owner, plain)
            if recorded < len(plain):
                log.warning("lost the lease of %d slots (another replica took them over)",
                            len(plain) - recorded)  # fmt: skip
            for slot, outcome in results:
                if outcome.dead_letter is None:
                    continue
                values = {"updated": now, **outcome.values}
                if repo.settle_many(self.owner, [(slot, values)]):
                    repo.insert_dead_letter(outcome.dead_letter)
            for schedule_id in finished:
                record = records.get(schedule_id)
                if record is not None and record.action_after_completion == "DELETE":
                    _delete_if_complete(tx.connection, record)

    # ------------------------------------------------------------------ policies

    def _running(self, machine: str, prefix: str | None) -> list[str]:
        from batchyard.engine.names import base_state_machine_arn

        query = (
            sa.select(executions.c.arn)
            .where(executions.c.state_machine_arn == base_state_machine_arn(machine))
            .where(executions.c.status == "RUNNING")
        )
        if prefix is not None:
            query = query.where(executions.c.name.startswith(prefix, autoescape=True))
        with self.store.db.read() as conn:
            return [str(r[0]) for r in conn.execute(query)]

    @contextmanager
    def _policy_lock(self, key: str) -> Iterator[None]:
        """Serialise check-and-start per state machine, across replicas on PostgreSQL (a
        session advisory lock, released by the database if the replica dies)."""
        if self.store.dialect == "postgresql":
            number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
            with self.store.db.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": number})
                try:
                    yield
                finally:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": number})
            return
        with self._local_locks_guard:
            lock = self._local_locks.setdefault(key, threading.Lock())
        with lock:
            yield

    # ------------------------------------------------------------------ waiting (tests)

    def held(self) -> int:
        with self._held_lock:
            return len(self._held)


def _settled(
    status: str,
    now: datetime,
    *,
    ref: str | None = None,
    reason: str | None = None,
    attempts: int | None = None,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status": status,
        "available_at": None,
        "settled": now,
        "target_ref": ref,
        "reason": reason,
    }
    if attempts is not None:
        values["attempts"] = attempts
    return values


def _requeue(at: datetime, reason: str) -> dict[str, Any]:
    """Keep the slot PENDING, claimable by any replica from ``at``."""
    return {"status": PENDING, "available_at": at, "lease_owner": None, "reason": reason}


def _slot_row(record: ScheduleRecord, slot_time: datetime, now: datetime, **fields: Any) -> Slot:
    """A new ledger row of ``record``'s slot at ``slot_time`` (``fields`` override)."""
    row: dict[str, Any] = {
        "schedule_id": record.id,
        "slot": slot_time,
        "schedule_arn": record.arn,
        "due_at": slot_time,
        "status": PENDING,
        "available_at": None,
        "lease_owner": None,
        "attempts": 0,
        "target_ref": None,
        "reason": None,
        "settled": None,
        "created": now,
        "updated": now,
    }
    row.update(fields)
    return Slot(**row)


def _skipped(record: ScheduleRecord, slot_time: datetime, reason: str, now: datetime) -> Slot:
    return _slot_row(record, slot_time, now, status=SKIPPED, reason=reason, settled=now)


def _group_tags(conn: sa.Connection, names: set[str]) -> dict[str, dict[str, str]]:
    if not names:
        return {}
    rows = conn.execute(
        sa.select(scheduler_groups.c.name, scheduler_groups.c.tags).where(
            scheduler_groups.c.name.in_(sorted(names))
        )
    )
    return {str(name): dict(tags or {}) for name, tags in rows}


def _delete_if_complete(conn: sa.Connection, record: ScheduleRecord) -> None:
    """ActionAfterCompletion DELETE: remove the schedule once it has no slot left to fire."""
    from batchyard.scheduler.tables import schedules

    row = conn.execute(sa.select(schedules.c.next_slot).where(schedules.c.id == record.id)).first()
    if row is None or row[0] is not None:
        return
    pending = conn.execute(
        sa.select(sa.func.count())
        .select_from(scheduler_slots)
        .where(scheduler_slots.c.schedule_id == record.id)
        .where(scheduler_slots.c.status == PENDING)
    ).scalar_one()
    if pending == 0:
        conn.execute(schedules.delete().where(schedules.c.id == record.id))
        log.info("%s completed and was deleted (ActionAfterCompletion DELETE)", record.arn)


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``predicate`` (tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
