"""The task supervisor: the server worker that runs what RunTask recorded.

Each task is a leased work item (``store.work``, kind ``ecs-task``). A replica claims it, and a
driver thread of that replica moves the task through its lifecycle — PROVISIONING → PENDING
(injected failures are decided here) → RUNNING (the runner's ``start``) → STOPPED (the runner's
exit) — persisting each step with a conditional update. Leases are renewed by the claimer loop;
a replica that dies stops renewing, so another one claims the item and calls ``start`` again,
which the runner answers by re-attaching to the task it already runs (runners are idempotent
by task id). A replica that loses a lease simply lets go.

Waiters (``EcsService.run_task(..., waiter=...)``) are told of a STOPPED task after it is
persisted; the ``delivered`` column is set only once every callback has returned, so a crash in
between delivers again (at least once) — after a takeover, or by the sweep of undelivered stops.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from batchyard.ecs import documents, injection, launch
from batchyard.ecs.arns import task_definition_parts
from batchyard.ecs.backends import Backends
from batchyard.ecs.context import TASK_WORK, EcsContext
from batchyard.ecs.documents import Body
from batchyard.ecs.egress import RECORD_TAG
from batchyard.ecs.records import TaskRecord
from batchyard.runners.base import LogSink, RunningTask, StartFailure, TaskExit
from batchyard.store.errors import LeaseLost
from batchyard.store.records import Claim

log = logging.getLogger("batchyard.ecs")

StopCallback = Callable[[dict[str, Any], str], None]
SWEEP_SECONDS = 30.0
RETRY_SECONDS = 5.0
# Unexpected errors (not StartFailure) tolerated before a task that never started is given up.
MAX_START_ATTEMPTS = 5


class TaskSupervisor:
    """Claims ``ecs-task`` work items and drives each task on its cluster's runner."""

    def __init__(
        self,
        ctx: EcsContext,
        backends: Backends,
        sink: LogSink | None,
        *,
        owner: str,
        reclaim_own_leases: bool = False,
        lease_seconds: float = 30.0,
        poll_seconds: float = 0.5,
        max_tasks: int = 256,
    ) -> None:
        self.ctx = ctx
        self.backends = backends
        self.sink = sink
        self.owner = owner
        self.callbacks: list[StopCallback] = []
        self._reclaim = reclaim_own_leases
        self._lease = lease_seconds
        self._poll = poll_seconds
        self._max = max_tasks
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._held: dict[str, Claim] = {}
        self._renewed: dict[str, float] = {}
        self._lost: set[str] = set()
        self._drivers: dict[str, threading.Thread] = {}
        self._thread: threading.Thread | None = None
        self._swept = 0.0
        self.retry_seconds = RETRY_SECONDS  # after an unexpected error (tests shorten it)

    # ------------------------------------------------------------------ worker

    def start(self) -> None:
        self._stopping.clear()
        if self._reclaim:
            self.ctx.store.work.reclaim_owner(self.owner)
        self._swept = 0.0
        self._thread = threading.Thread(target=self._loop, name="ecs-supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Let go of every task (they keep running on their backends) and stop."""
        self._stopping.set()
        self.ctx.bell.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            drivers = list(self._drivers.values())
        for driver in drivers:
            driver.join(timeout=10)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._renew_due()
                self._claim()
                if time.monotonic() - self._swept > SWEEP_SECONDS:
                    self._swept = time.monotonic()
                    self.sweep()
            except Exception:
                log.exception("ECS supervisor pass failed")
            self.ctx.bell.wait(self._poll)
            self.ctx.bell.clear()

    def _claim(self) -> None:
        with self._lock:
            free = self._max - len(self._drivers)
        if free <= 0:
            return
        for claim in self.ctx.store.work.claim(
            TASK_WORK, self.owner, self._lease, limit=min(free, 16)
        ):
            with self._lock:
                if claim.key in self._drivers:  # our own driver is finishing it; next round
                    self.ctx.store.work.release(claim)
                    continue
                self._held[claim.key] = claim
                self._renewed[claim.key] = time.monotonic()
                self._lost.discard(claim.key)
                driver = threading.Thread(
                    target=self._drive, args=(claim.key,), name="ecs-task", daemon=True
                )
                self._drivers[claim.key] = driver
            driver.start()

    def _renew_due(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [k for k, at in self._renewed.items() if now - at > self._lease / 3]
        for key in due:
            with self._lock:
                claim = self._held.get(key)
            if claim is None:
                continue
            try:
                renewed = self.ctx.store.work.renew(claim, self._lease)
            except LeaseLost:
                log.warning("lost the lease of %s to another replica", key)
                with self._lock:
                    self._lost.add(key)
                    self._held.pop(key, None)
                    self._renewed.pop(key, None)
                continue
            with self._lock:
                if key in self._held:
                    self._held[key] = renewed
                    self._renewed[key] = now

    # ------------------------------------------------------------------ one task

    def _drive(self, key: str) -> None:
        try:
            finished = self._run(key)
            claim = self._release_claim(key)
            if claim is not None:
                if finished:
                    self.ctx.store.work.complete(claim)
                else:
                    self.ctx.store.work.release(claim)
        except LeaseLost:
            log.info("task %s is another replica's now", key)
        except Exception as exc:
            log.exception("driving task %s failed", key)
            claim = self._release_claim(key)
            if claim is None:
                return
            try:
                if claim.attempts >= MAX_START_ATTEMPTS and self._give_up(key, exc):
                    self.ctx.store.work.complete(claim)
                else:
                    retry = self.ctx.now() + timedelta(seconds=self.retry_seconds)
                    self.ctx.store.work.release(claim, available_at=retry)
            except LeaseLost:
                pass
        finally:
            with self._lock:
                self._drivers.pop(key, None)

    def _give_up(self, key: str, error: Exception) -> bool:
        """After repeated unexpected errors, a task that never started fails to start (ECS's
        ``CannotStartContainerError``) instead of being retried for ever; ``True`` if so."""
        record = self.ctx.tasks.get(key.rsplit("/", 1)[-1])
        if record is None or record.last_status not in ("PROVISIONING", "PENDING"):
            return False
        reason = f"CannotStartContainerError: {error}"[:1024]
        final = self._finish(record, "TaskFailedToStart", reason, None, reason)
        self.deliver(final)
        return True

    def _release_claim(self, key: str) -> Claim | None:
        with self._lock:
            self._renewed.pop(key, None)
            if key in self._lost:
                self._lost.discard(key)
                return None
            return self._held.pop(key, None)

    def _interrupted(self, key: str) -> bool:
        with self._lock:
            return self._stopping.is_set() or key in self._lost

    def _run(self, key: str) -> bool:
        """Drive the task; ``True`` when it is STOPPED and delivered, ``False`` to let go."""
        record = self.ctx.tasks.get(key.rsplit("/", 1)[-1])
        if record is None:
            return True
        if record.last_status != "STOPPED":
            final = self._execute(record, key)
            if final is None:
                return False
            record = final
        if not self.deliver(record):
            raise RuntimeError(f"a stop callback of {record.arn} failed")
        return True

    def _execute(self, record: TaskRecord, key: str) -> TaskRecord | None:
        ctx = self.ctx
        body = record.body
        if record.desired_status == "STOPPED" and record.last_status == "PROVISIONING":
            reason = body.get("stoppedReason") or "Task stopped by user"
            return self._finish(record, "UserInitiated", reason, exits=None, container_reason=None)
        family, revision = task_definition_parts(body["taskDefinitionArn"])
        definition = ctx.definitions.get(family, revision)
        if definition is None:  # deleted under the task: nothing can start
            reason = "CannotStartContainerError: the task definition no longer exists"
            return self._finish(record, "TaskFailedToStart", reason, None, reason)
        cluster_tags = ctx.tags(ctx.scope.cluster_arn(record.cluster))
        if record.launch_number is None:
            number = ctx.definitions.count_launch(family, definition.revision)
            ctx.tasks.set_launch_number(record.arn, number)
            record = self._reload(record)
        if record.last_status == "PROVISIONING":
            injected = injection.failure_for(
                launch_number=record.launch_number or 1,
                task_id=record.task_id,
                definition_tags=ctx.tags(definition.arn),
                cluster_tags=cluster_tags,
            )
            if injected is not None:
                return self._finish(record, "TaskFailedToStart", injected, None, injected)
            # The runner is chosen once, at the launch, and kept in the task: a replica that
            # takes the task over must re-attach on the same backend, whatever the cluster's
            # tag or its own default say by then.
            chosen = self.backends.kind_for(cluster_tags)
            record = self._update(record, lambda b: documents.pending(b, ctx.now(), runner=chosen))
        tags = {t["key"]: t["value"] for t in record.body.get("tags", [])}
        profile_name = tags.get(RECORD_TAG)
        profile = ctx.egress_profiles.get(profile_name) if profile_name else None
        kind = documents.runner_of(record.body) or self.backends.kind_for(cluster_tags)
        try:
            runner = self.backends.runner(kind)
        except Exception as exc:  # a configuration problem: no launch can succeed
            log.exception("the %s runner cannot be made", kind)
            reason = f"ResourceInitializationError: the {kind} runner is unavailable: {exc}"
            return self._finish(record, "TaskFailedToStart", reason, None, reason)
        try:
            spec = launch.task_spec(
                task=record.body, task_id=record.task_id, definition=definition.body, egress=profile
            )
            handle = runner.start(spec, self.sink)
        except StartFailure as failure:
            return self._finish(record, "TaskFailedToStart", failure.reason, None, failure.reason)
        if record.last_status != "RUNNING":
            started = handle.started_at
            record = self._update(record, lambda b: documents.running(b, started, ctx.now()))
        final = self._follow(record, key, handle)
        if final is not None:
            # STOPPED is stored: the runner may drop the exit it kept for a late re-attach.
            try:
                runner.forget(record.task_id)
            except Exception:  # leftover state is harmless; the next task must not suffer
                log.warning("the %s runner kept task %s's state", kind, record.task_id)
        return final

    def _follow(self, record: TaskRecord, key: str, handle: RunningTask) -> TaskRecord | None:
        """Wait for the task's end, passing on StopTask (from any replica)."""
        asked_to_stop = False
        while True:
            end = handle.wait(timeout=self._poll)
            if end is not None:
                return self._ended(record, end)
            if self._interrupted(key):
                # The task goes on on its backend; whoever holds it next re-attaches.
                detach = getattr(handle, "detach", None)
                if callable(detach):
                    detach()
                return None
            record = self._reload(record)
            if record.desired_status == "STOPPED" and not asked_to_stop:
                handle.stop(record.body.get("stoppedReason") or "Task stopped by user")
                asked_to_stop = True

    def _ended(self, record: TaskRecord, end: TaskExit) -> TaskRecord:
        record = self._reload(record)
        exits = {c.name: (c.exit_code, c.reason) for c in end.containers}
        if record.body.get("stopCode") == "UserInitiated":
            code, reason = "UserInitiated", record.body.get("stoppedReason", "Task stopped by user")
        elif end.stop_code is not None:
            code, reason = end.stop_code, end.stopped_reason or ""
        else:
            code, reason = documents.ESSENTIAL_EXITED
        return self._finish(record, code, reason, exits, None, end.stopped_at)

    def _finish(
        self,
        record: TaskRecord,
        stop_code: str,
        reason: str,
        exits: dict[str, tuple[int | None, str | None]] | None,
        container_reason: str | None,
        execution_stopped_at: datetime | None = None,
    ) -> TaskRecord:
        def stop(body: Body) -> Body:
            return documents.stopped(
                body,
                now=self.ctx.now(),
                stop_code=stop_code,
                reason=reason,
                exits=exits,
                container_reason=container_reason,
                execution_stopped_at=execution_stopped_at,
            )

        final = self._update(record, stop)
        log.info("task %s stopped: %s (%s)", record.task_id, stop_code, reason)
        return final

    def _update(self, record: TaskRecord, change: Callable[[Body], Body]) -> TaskRecord:
        """Apply a transition, re-reading the task when another writer (StopTask, tags) won."""
        while True:
            updated = self.ctx.tasks.replace(record, change(record.body))
            if updated is not None:
                return updated
            record = self._reload(record)

    def _reload(self, record: TaskRecord) -> TaskRecord:
        fresh = self.ctx.tasks.get(record.task_id)
        if fresh is None:
            raise LookupError(f"task {record.arn} disappeared from the store")
        return fresh

    # ------------------------------------------------------------------ waiters

    def deliver(self, record: TaskRecord) -> bool:
        """Tell the callbacks of a STOPPED task with a waiter; ``True`` when nothing is left to
        deliver (the work item may then be completed)."""
        if not record.waiter or record.delivered:
            return True
        if not self.callbacks:
            return True  # the sweep delivers once a callback is registered
        wire = documents.to_wire(record.body)
        try:
            for callback in list(self.callbacks):
                callback(wire, record.waiter)
        except Exception:
            log.exception("a stop callback for %s failed; it will be called again", record.arn)
            return False
        self.ctx.tasks.mark_delivered(record.arn)
        return True

    def sweep_soon(self) -> None:
        self._swept = 0.0
        self.ctx.bell.set()

    def sweep(self) -> int:
        """Deliver stopped tasks whose delivery never completed (their work item is gone)."""
        if not self.callbacks:
            return 0
        delivered = 0
        for record in self.ctx.tasks.undelivered():
            if self.ctx.store.work.get(TASK_WORK, record.arn) is not None:
                continue  # a driver (here or elsewhere) still owns it
            if self.deliver(record):
                delivered += 1
        return delivered
