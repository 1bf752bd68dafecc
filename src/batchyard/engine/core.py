"""The durable engine: the interpreter decides, the engine persists, then acts.

Design (after Temporal's SDK: history in, commands out, replay on takeover):

* An execution *is* its ordered interpreter inputs (``journal.py``). One *step* takes the
  inputs that are ready (task outcomes, due timers, inbox messages), applies them to the
  in-memory :class:`~batchyard.engine.run.Run`, and commits in ONE transaction: the inputs, the
  history events they produced, the timers and task tokens of the new commands, the consumed
  inbox rows and fired timers, and the execution row (status, output; its ``version`` bumped).
  Only after the commit are commands acted on (a function invoked, a child started). A crash
  before the commit loses nothing that anyone saw; a crash after it is repaired by replay.
* Work is shared through ``store.work`` leases (one item per RUNNING execution, available again
  when its next timer is due or when something wakes it). The holder keeps the ``Run`` in memory
  between steps; a ``version`` mismatch on claim (another replica moved it) means replay.
* Correctness does not rest on the lease: the inputs' primary key and the execution row's
  optimistic ``version`` refuse a second writer, whose transaction then rolls back whole.
* Recovery: replaying the inputs regenerates the history, which must equal the persisted one
  (:class:`NondeterminismError` otherwise); outstanding tasks are re-attached — activity and
  callback tokens are rows already, a child execution has a deterministic name — and only
  in-process functions are invoked again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import sqlalchemy as sa

import batchyard.engine.integrations  # noqa: F401 - registers the engine's task integrations
from batchyard import asl
from batchyard.asl.distributed_map_run import MapRunRecord
from batchyard.asl.events import to_json
from batchyard.engine import ecs_tasks, journal, names
from batchyard.engine.answers import Answers
from batchyard.engine.dispatch import Dispatch
from batchyard.engine.errors import (
    EngineError,
    NondeterminismError,
    execution_already_exists,
    execution_does_not_exist,
)
from batchyard.engine.invocations import BackgroundInvocations, Key
from batchyard.engine.journal import Input, to_ms, truncate
from batchyard.engine.run import Pending, Run, history_rows, replay, to_record
from batchyard.store import (
    AlreadyExists,
    Claim,
    Conflict,
    Execution,
    LeaseLost,
    MapRun,
    Store,
    Transaction,
)
from batchyard.store.fastpath import FastInsert
from batchyard.store.schema import history_events

log = logging.getLogger("batchyard.engine")
_COPY_HISTORY = (
    "COPY history_events (execution_arn, id, previous_event_id, type, timestamp, details) "
    "FROM STDIN"
)

KIND = "execution"
LEASE_SECONDS = 30.0
IDLE = timedelta(hours=1)  # a waiting execution with no timer is re-checked this often
Clock = Callable[[], datetime]
Handler = Callable[[Any, Any], Any]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Core(Dispatch, Answers):
    """The durable part of :class:`~batchyard.engine.Engine`: steps, replay, dispatch."""

    def __init__(
        self,
        store: Store,
        *,
        region: str,
        account: str,
        owner: str,
        clock: Clock | None,
        functions: Mapping[str, Handler] | None,
    ) -> None:
        self.store = store
        self.region = region
        self.account = account
        self.owner = owner
        self.clock: Clock = clock or _utc_now
        self.functions: dict[str, Handler] = dict(functions or {})
        self.lease_seconds = LEASE_SECONDS
        self._runs: dict[str, Run] = {}
        self._machines: dict[tuple[str, str], tuple[asl.StateMachine, str]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._held: dict[str, Claim] = {}
        self._held_guard = threading.Lock()
        self._renewer: threading.Thread | None = None
        self.closing = threading.Event()  # set by Engine.stop: the renewer ends
        self.activity_ready = threading.Condition()
        self.work_ready = threading.Event()
        self.invocations = BackgroundInvocations(self._after_invocation)
        self.on_events: Callable[[Execution, list[Any]], None] | None = None
        # History rows go straight to the driver: the hottest statement of the engine.
        self._insert_sql = FastInsert(history_events).sql[store.dialect == "postgresql"]

    def now(self) -> datetime:
        return truncate(self.clock())

    def lock(self, arn: str) -> threading.Lock:
        with self._locks_guard:
            found = self._locks.get(arn)
            if found is None:
                found = self._locks[arn] = threading.Lock()
            return found

    # --- machines and runs -------------------------------------------------------------------

    def machine(self, state_machine_arn: str, revision_id: str) -> tuple[asl.StateMachine, str]:
        key = (state_machine_arn, revision_id)
        found = self._machines.get(key)
        if found is None:
            revision = self.store.state_machines.revision(state_machine_arn, revision_id)
            machine = asl.compile(revision.definition)
            machine.name = state_machine_arn.rsplit(":", 1)[-1]
            found = self._machines[key] = (machine, revision.role_arn)
        return found

    def new_run(self, execution: Execution) -> Run:
        machine, role_arn = self.machine(execution.state_machine_arn, execution.revision_id)
        return Run(machine, execution, role_arn, self.region, self.account, _parse(execution.input))

    def rebuild(self, execution: Execution) -> Run:
        """Replay the persisted inputs through a fresh interpreter (takeover, crash recovery)."""
        run = self.new_run(execution)
        with self.store.transaction() as tx:
            items = journal.load_inputs(tx.connection, execution.arn)
        history = self.store.history.all(execution.arn)
        replay(run, items, history)
        run.execution = execution
        return run

    # --- one step ------------------------------------------------------------------------------

    def process(self, arn: str) -> datetime | None:
        """Run execution ``arn`` until it waits; return when it next needs attention (None: it
        ended or is not ours). Serialised per execution within this process."""
        lock = self.lock(arn)
        with lock:
            try:
                return self._process(arn, lock)
            except (Conflict, AlreadyExists, sa.exc.IntegrityError) as exc:
                # Someone else advanced it (another replica, or StopExecution): start over.
                log.info("execution %s moved on elsewhere: %s", arn, exc)
                self._runs.pop(arn, None)
                return self.now()
            except NondeterminismError:
                log.exception("determinism guard stopped %s", arn)
                self._runs.pop(arn, None)
                return None
            except BaseException:
                # The in-memory run may hold inputs whose transaction rolled back.
                self._runs.pop(arn, None)
                raise

    def _process(self, arn: str, lock: threading.Lock) -> datetime | None:
        execution = self.store.executions.find(arn)
        if execution is None or execution.status != "RUNNING":
            self._runs.pop(arn, None)
            return None
        run = self._runs.get(arn)
        local: list[Input] = []
        if run is None and execution.version == 1:
            run = self.new_run(execution)  # never stepped: nothing to replay
            self._runs[arn] = run
        elif run is None or run.execution.version != execution.version:
            run = self.rebuild(execution)
            self._runs[arn] = run
            answered = self._answered_in_inbox(arn)
            tasks = [p for th, p in run.tasks.items() if (th, p.seq) not in answered]
            outcomes = self._act_unlocked(run, tasks, lock)
            if outcomes is None:
                return self.now()
            local = outcomes
        for _ in range(10_000):
            fresh = self._step(run, local)
            if fresh is None:
                break
            if run.interp.status != "RUNNING":
                break
            outcomes = self._act_unlocked(run, fresh, lock)
            if outcomes is None:
                return self.now()
            local = outcomes
        if run.interp.status != "RUNNING":
            self._runs.pop(arn, None)
            with self._locks_guard:
                self._locks.pop(arn, None)  # a late caller makes a new one: harmless now
            return None
        timers = self.store.timers.for_execution(arn)
        return min((t.fire_at for t in timers), default=self.now() + IDLE)

    def _act_unlocked(
        self, run: Run, tasks: list[Pending], lock: threading.Lock
    ) -> list[Input] | None:
        """Act on ``tasks`` without holding the execution's lock (a function may run long, and
        StopExecution must not wait for it); ``None`` if the run changed hands meanwhile."""
        if not tasks:
            return []
        lock.release()
        try:
            local = self._reattach(run, tasks)
        finally:
            lock.acquire()
        if self._runs.get(run.arn) is not run or run.interp.status != "RUNNING":
            return None  # stopped or taken over while we acted: the outcomes are moot
        return local

    def _step(self, run: Run, local: list[Input]) -> list[Pending] | None:
        """Apply what is ready and persist it, in one transaction; return the tasks to act on
        now (``None`` when nothing was ready)."""
        arn = run.arn
        now = self.now()
        t = to_ms(now)
        items: list[Input] = [{**item, "t": t} for item in local]
        if run.seq == 0:
            items.insert(0, {"k": "start", "t": to_ms(run.execution.start_date)})
        ecs_running = ecs_tasks.running_sync(run)
        with self.store.transaction() as tx:
            inbox = journal.read_inbox(tx.connection, arn)
            fired = [timer for timer in tx.timers.for_execution(arn) if timer.fire_at <= now]
            for _, message in inbox:
                found = self._from_message(run, message, t)
                if found is not None:
                    items.append(found)
            for timer in fired:
                items.append(self._from_timer(timer.key, timer.payload, t))
            if not items and not inbox and not fired:
                return None
            applied: list[Input] = []
            for item in items:
                if not run.accepts(item):
                    continue
                # A token's time-out counts only if it wins the token: an answer committed
                # meanwhile (its inbox message not seen yet) has already won it.
                if "tok" in item and not tx.task_tokens.complete(item["tok"], "TIMED_OUT", now=now):
                    continue
                run.apply(item)
                applied.append(item)
            fresh = list(run.new_tasks)
            consumed = [i for i, _ in inbox]
            self._write(tx, run, applied, consumed, [t.key for t in fired])
        self._committed(run)
        if ecs_running:  # .sync ECS tasks this step gave up on are stopped
            gone = ecs_tasks.abandoned(ecs_running, run, applied)
            ecs_tasks.stop_tasks(self, gone, arn, stopped=False)
        return fresh

    def _write(
        self,
        tx: Transaction,
        run: Run,
        applied: list[Input],
        consumed: list[int],
        fired: list[str],
    ) -> None:
        """Everything one step changed, inside the caller's transaction."""
        arn = run.arn
        now = self.now()
        raw = run.interp.events[run.persisted :]
        interp = run.interp
        execution = run.execution
        finished = interp.status != "RUNNING"
        if finished:
            execution = replace(
                execution,
                status=interp.status,
                output=to_json(interp.output) if interp.status == "SUCCEEDED" else None,
                error=interp.error,
                cause=interp.cause,
                stop_date=raw[-1]["timestamp"] if raw else now,
                redrive_status="NOT_REDRIVABLE" if interp.status == "SUCCEEDED" else "REDRIVABLE",
                updated=now,
            )
        conn = tx.connection
        journal.append_inputs(conn, arn, run.seq - len(applied), applied)
        journal.consume(conn, consumed)
        for key in fired:
            tx.timers.delete(arn, key)
        if raw:
            self._append(conn, history_rows(arn, raw))
        self._write_map_runs(tx, run, now)
        if finished:
            self._close(tx, run, execution, now)
        else:
            for thread_id, seq, due in run.new_timers:
                tx.timers.set(arn, f"w:{thread_id}:{seq}", due)
            for pending in run.new_tasks:
                self._record_dispatch(tx, run, pending, now)
            deadline = interp.deadline
            if run.seq == len(applied) and deadline is not None:
                tx.timers.set(arn, "x", deadline)
        run.saved = tx.executions.save(execution)
        run.written = raw

    def _write_map_runs(self, tx: Transaction, run: Run, now: datetime) -> None:
        """What the step changed in Distributed Map Runs: the runs' rows (DescribeMapRun,
        ListMapRuns) and their children, as executions with their own histories (a row when a
        child starts, completed with the rest of its history when it ends)."""
        for record in run.unpersisted_map_runs():
            state_name = run.interp.map_run_states.get(record.map_run_arn, "")
            tx.map_runs.put(map_run_row(record, state_name, now))
        for child in run.unpersisted_children():
            done = child.execution
            row = Execution(
                arn=done.execution_arn,
                state_machine_arn=done.state_machine_arn,
                name=done.name,
                type="STANDARD",
                status=done.status,
                input=done.input,
                revision_id=run.execution.revision_id,
                start_date=done.start_date,
                created=done.start_date,
                updated=done.stop_date or now,
                output=done.output,
                error=done.error,
                cause=done.cause,
                stop_date=done.stop_date,
                redrive_status=None if done.status == "RUNNING" else "NOT_REDRIVABLE",
                map_run_arn=child.map_run_arn,
            )
            written = run.child_events.get(done.execution_arn)
            current = tx.executions.find(done.execution_arn) if written is not None else None
            if current is None:
                tx.executions.create(row)
            else:
                # Only the parent's steps write a child's row; a redrive may meet it again.
                tx.executions.save(replace(row, version=current.version))
            self._append_child(tx, done.execution_arn, child.events[written or 0 :])
            # Kept even if the transaction rolls back: the run is then dropped and replayed.
            run.child_events[done.execution_arn] = len(child.events)
            if done.status == "RUNNING":
                run.child_logs[done.execution_arn] = child.events
            else:
                run.child_logs.pop(done.execution_arn, None)
        for arn, events in run.child_logs.items():  # running children's new events
            written = run.child_events[arn]
            if len(events) > written:
                self._append_child(tx, arn, events[written:])
                run.child_events[arn] = len(events)

    def _append_child(self, tx: Transaction, arn: str, events: list[dict[str, Any]]) -> None:
        """A Map Run child's new events. After a redrive the rewound interpreter regenerates
        events its child already has in the store (up to its abort): those are skipped."""
        if not events:
            return
        last = tx.connection.execute(
            sa.select(sa.func.max(history_events.c.id)).where(history_events.c.execution_arn == arn)
        ).scalar()
        fresh = [event for event in events if last is None or event["id"] > last]
        if fresh:
            self._append(tx.connection, history_rows(arn, fresh))

    def write_step(self, tx: Transaction, run: Run, applied: list[Input]) -> None:
        """Persist inputs applied outside a worker step (redrive), in ``tx``."""
        self._write(tx, run, applied, [], [])

    def committed(self, run: Run) -> None:
        self._committed(run)

    def forget(self, arn: str) -> None:
        """Drop the in-memory run: the next step replays it from the store."""
        self._runs.pop(arn, None)

    def _committed(self, run: Run) -> None:
        run.execution = run.saved
        raw = run.written
        run.mark_persisted()
        if self.on_events is not None and raw:
            self.on_events(run.execution, [to_record(run.arn, event) for event in raw])

    def _append(self, conn: sa.Connection, rows: list[tuple[Any, ...]]) -> None:
        """Insert history rows: COPY on PostgreSQL (one round trip), executemany on SQLite."""
        if self.store.dialect != "postgresql":
            conn.exec_driver_sql(self._insert_sql, rows)
            return
        driver: Any = conn.connection.driver_connection
        try:
            with driver.cursor() as cursor, cursor.copy(_COPY_HISTORY) as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.errors.IntegrityError as exc:
            # The same refusal as on SQLite: someone else wrote these events first.
            raise AlreadyExists("history event", rows[0][0]) from exc

    def _close(self, tx: Transaction, run: Run, execution: Execution, now: datetime) -> None:
        """The execution ended: drop its timers and tokens, tell a waiting parent."""
        tx.timers.delete_for_execution(run.arn)
        for token in tx.task_tokens.for_execution(run.arn, status="WAITING"):
            tx.task_tokens.complete(token.token, "CLOSED", now=now)
        parent = execution.parent_execution_arn
        if parent is not None:
            journal.post(tx.connection, parent, {"k": "child", "arn": run.arn})
            tx.work.wake(KIND, parent, at=now)

    # --- inputs from outside -----------------------------------------------------------------

    def _from_message(self, run: Run, message: Input, t: int) -> Input | None:
        kind = message["k"]
        if kind == "started":  # a worker's GetActivityTask took the task
            pending = run.find_token(message["token"])
            if pending is None:
                return None
            started: Input = {"k": "started", "th": pending.command.thread_id, "d": pending.seq}
            if "w" in message:
                started["w"] = message["w"]
            return {**started, "t": t}
        if kind == "token":
            pending = run.find_token(message["token"])
            if pending is None:
                return None
            item: Input = {"k": "task", "th": pending.command.thread_id, "d": pending.seq, "t": t}
            for key in ("r", "e", "c", "w"):
                if key in message:
                    item[key] = message[key]
            return item
        if kind == "fn":  # a Lambda task's outcome, from the background invocations
            item = {"k": "task", "th": message["th"], "d": message["d"], "t": t}
            for key in ("r", "e", "c", "to"):
                if key in message:
                    item[key] = message[key]
            return item
        if kind == "child":
            pending = run.find_child(message["arn"])
            if pending is None or not getattr(pending.command.integration, "sync", ""):
                return None
            child = self.store.executions.find(message["arn"])
            if child is None or child.status == "RUNNING":
                return None
            return {**self._child_outcome(pending, child), "t": t}
        return None

    def _answered_in_inbox(self, arn: str) -> set[tuple[int, int]]:
        """The Lambda tasks whose outcome waits in the inbox: not to be invoked again."""
        with self.store.db.read() as conn:  # a read: no need for SQLite's write lock
            inbox = journal.read_inbox(conn, arn)
        return {(m["th"], m["d"]) for _, m in inbox if m.get("k") == "fn"}

    def _after_invocation(self, key: Key, message: Input | None) -> None:
        """A background Lambda task ended (see ``invocations.py``): post its outcome, continue
        the execution in this thread, and settle the lease if nothing else is in flight."""
        arn = key[0]
        due: datetime | None = self.now()  # if anything below fails: available again now
        try:
            if message is None:
                # The invocation itself broke (integrations report failures as outcomes):
                # forget the run, so that the next claim rebuilds it and invokes again.
                with self.lock(arn):
                    self._runs.pop(arn, None)
            else:
                now = self.now()
                with self.store.transaction() as tx:
                    execution = tx.executions.find(arn)
                    if execution is not None and execution.status == "RUNNING":
                        journal.post(tx.connection, arn, message)
                        with self._held_guard:
                            held = arn in self._held
                        if not held:  # the lease lapsed meanwhile: whoever holds it next
                            tx.work.wake(KIND, arn, at=now)
                due = self.process(arn)
        except Exception:
            log.exception("continuing %s after a Lambda task failed", arn)
        finally:
            claim = self.invocations.last_one_out(key, arn, lambda: self._pop_held(arn))
            if claim is not None:
                self._settle(claim, due)
                self.work_ready.set()

    def _from_timer(self, key: str, payload: Any, t: int) -> Input:
        if key == "x":
            return {"k": "timeout", "t": t}
        if key.startswith("w:"):
            _, thread_id, seq = key.split(":")
            return {"k": "timer", "th": int(thread_id), "d": int(seq), "t": t}
        if key.startswith("c:"):
            return {
                "k": "task",
                "th": payload["th"],
                "d": payload["d"],
                "t": t,
                "e": "States.Timeout",
                "to": 1,
            }
        error = "States.Timeout" if key.startswith("t:") else "States.HeartbeatTimeout"
        return {
            "k": "task",
            "th": payload["th"],
            "d": payload["d"],
            "t": t,
            "e": error,
            "to": 1,
            "tok": key[2:],
        }

    # --- creating executions -----------------------------------------------------------------

    def create_execution(
        self,
        state_machine_arn: str,
        name: str,
        input_text: str,
        *,
        parent: str | None = None,
        trace_header: str | None = None,
        version_arn: str | None = None,
        alias_arn: str | None = None,
        revision_id: str | None = None,
    ) -> Execution:
        """Insert a STANDARD execution and queue it; the idempotent answer if it exists."""
        from batchyard.engine.names import execution_arn

        machine = self.store.state_machines.find(state_machine_arn)
        if machine is None:
            from batchyard.engine.errors import state_machine_does_not_exist

            raise state_machine_does_not_exist(state_machine_arn)
        now = self.now()
        execution = Execution(
            arn=execution_arn(state_machine_arn, name),
            state_machine_arn=state_machine_arn,
            name=name,
            type="STANDARD",
            status="RUNNING",
            input=input_text,
            revision_id=revision_id or machine.revision_id,
            start_date=now,
            created=now,
            updated=now,
            state_machine_version_arn=version_arn,
            state_machine_alias_arn=alias_arn,
            parent_execution_arn=parent,
            trace_header=trace_header,
        )
        try:
            with self.store.transaction() as tx:
                tx.executions.create(execution)
                tx.work.enqueue(KIND, execution.arn, now=now)
        except AlreadyExists:
            existing = self.store.executions.find_by_name(state_machine_arn, name)
            if existing is None:  # pragma: no cover - a purge raced with us
                raise
            same = existing.input == input_text and existing.status == "RUNNING"
            if parent is not None and existing.parent_execution_arn == parent:
                return existing  # our own child, started before a crash
            if not same:
                raise execution_already_exists(existing.arn) from None
            return existing
        self.work_ready.set()
        return execution

    # --- StopExecution ---------------------------------------------------------------------------

    def abort(self, arn: str, error: str | None, cause: str | None) -> Execution:
        """StopExecution, applied at once (it is synchronous on AWS)."""
        for _ in range(20):
            with self.lock(arn):
                execution = self.store.executions.find(arn)
                if execution is None:
                    raise execution_does_not_exist(arn)
                if execution.status != "RUNNING":
                    return execution
                run = self._runs.get(arn)
                try:
                    if run is None or run.execution.version != execution.version:
                        run = self.rebuild(execution)
                    if run.seq == 0:
                        run.apply({"k": "start", "t": to_ms(execution.start_date)})
                        starting = [{"k": "start", "t": to_ms(execution.start_date)}]
                    else:
                        starting = []
                    item: Input = {"k": "abort", "t": to_ms(self.now())}
                    if error is not None:
                        item["e"] = error
                    if cause is not None:
                        item["c"] = cause
                    children = [
                        names.execution_arn(
                            str(p.command.request.parameters.get("StateMachineArn", "")),
                            p.child_name,
                        )
                        for p in run.tasks.values()
                        if p.child_name
                        and getattr(p.command.integration, "sync", "")
                        and isinstance(p.command.request.parameters, dict)
                    ]
                    managed = ecs_tasks.managed_tasks(run)
                    run.apply(item)
                    with self.store.transaction() as tx:
                        self._write(tx, run, [*starting, item], [], [])
                    self._committed(run)
                    self._runs.pop(arn, None)
                    stopped = run.execution
                    break
                except (Conflict, AlreadyExists, sa.exc.IntegrityError):
                    self._runs.pop(arn, None)
                except BaseException:
                    self._runs.pop(arn, None)
                    raise
            time.sleep(0.01)
        else:  # pragma: no cover
            raise EngineError(f"could not stop {arn}: it keeps changing")
        # A child started with .sync is managed by the Task state: it stops with it.
        cause = (
            f"The Task state in AWS Step Functions execution [{arn}] which was managing this "
            "resource was aborted"
        )
        for child in children:
            with contextlib.suppress(EngineError):
                self.abort(child, None, cause)
        ecs_tasks.stop_tasks(self, managed, arn)  # and so does a .sync ECS task
        return stopped

    # --- the worker loop -------------------------------------------------------------------------

    def claim_and_run(self, limit: int = 8) -> int:
        """Claim up to ``limit`` runnable executions and run each; return how many."""
        claims = self.store.work.claim(KIND, self.owner, self.lease_seconds, limit, now=self.now())
        with self._held_guard:
            for claim in claims:
                self._held[claim.key] = claim
        self._ensure_renewer()
        for claim in claims:
            self._run_claim(claim.key)
        return len(claims)

    def _run_claim(self, key: str) -> None:
        try:
            due = self.process(key)
        except LeaseLost:
            self._pop_held(key)
            self._runs.pop(key, None)
            return
        except BaseException:
            self._pop_held(key)  # the lease lapses; the next holder goes on
            raise
        # With Lambda tasks in flight the lease stays held (and renewed): the last one to end
        # settles it (``_after_invocation``).
        claim = self.invocations.last_one_out(None, key, lambda: self._pop_held(key))
        if claim is not None:
            self._settle(claim, due)

    def _pop_held(self, key: str) -> Claim | None:
        with self._held_guard:
            return self._held.pop(key, None)

    def _settle(self, claim: Claim, due: datetime | None) -> None:
        """Give a lease back: done with the execution (``due`` None), or until ``due``."""
        try:
            if due is None:
                self.store.work.complete(claim, now=self.now())
            else:
                self.store.work.release(claim, available_at=due, now=self.now())
        except LeaseLost:
            self._runs.pop(claim.key, None)

    def _ensure_renewer(self) -> None:
        """Keep held leases alive while steps run (a long function must not let another
        replica take the execution over and invoke it a second time)."""
        with self._held_guard:
            if self._renewer is not None or not self._held:
                return
            self._renewer = threading.Thread(
                target=self._renew_loop, name="lease-renewer", daemon=True
            )
            self._renewer.start()

    def _renew_loop(self) -> None:
        while not self.closing.wait(self.lease_seconds / 3):
            with self._held_guard:
                held = list(self._held.items())
                if not held:
                    self._renewer = None  # idle: the next claim starts a new renewer
                    return
            for key, claim in held:
                try:
                    renewed = self.store.work.renew(claim, self.lease_seconds, now=self.now())
                except LeaseLost:
                    continue
                except Exception:  # the store is briefly unavailable: try again next round
                    log.warning("could not renew the lease of %s", key, exc_info=True)
                    continue
                with self._held_guard:
                    if key in self._held:
                        self._held[key] = renewed


def map_run_row(record: MapRunRecord, state_name: str, now: datetime) -> MapRun:
    """The store row of a Map Run record (counts under DescribeMapRun's member names)."""
    return MapRun(
        arn=record.map_run_arn,
        execution_arn=record.execution_arn,
        state_name=state_name,
        status=record.status,
        start_date=record.start_date,
        created=record.start_date,
        updated=now,
        max_concurrency=record.max_concurrency,
        tolerated_failure_percentage=record.tolerated_failure_percentage,
        tolerated_failure_count=record.tolerated_failure_count,
        item_counts=record.item_counts.to_api(),
        execution_counts=record.execution_counts.to_api(),
        stop_date=record.stop_date,
        redrive_count=record.redrive_count,
        redrive_date=record.redrive_date,
    )


def _parse(text: str) -> Any:
    import json

    return json.loads(text)


def new_owner() -> str:
    return f"engine-{uuid.uuid4().hex[:12]}"
