"""``Engine``: the operations the Step Functions API calls, on top of the durable core."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from batchyard.engine import express, journal, names
from batchyard.engine.core import Clock, Core, Handler, new_owner
from batchyard.engine.errors import (
    InvalidExecutionInput,
    InvalidOutput,
    StateMachineTypeNotSupported,
    activity_does_not_exist,
    execution_does_not_exist,
    state_machine_does_not_exist,
)
from batchyard.engine.logging import ExecutionLogger
from batchyard.engine.redrive import redrive
from batchyard.logs import LogStore
from batchyard.store import Execution, NotFound, Store

MAX_INPUT_BYTES = 262_144
RETENTION = timedelta(days=90)
PURGE_EVERY = 600.0  # seconds between purges of old closed executions, per engine


class Engine:
    """Durable Step Functions executions over a :class:`Store`.

    ``start``/``stop`` run background worker threads; tests call :meth:`run_until_idle`
    instead. Every method raises the AWS-named errors of :mod:`batchyard.engine.errors`.
    """

    def __init__(
        self,
        store: Store,
        *,
        logs: LogStore | None = None,
        region: str = "us-east-1",
        account: str = "123456789012",
        owner: str | None = None,
        clock: Clock | None = None,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        workers: int = 2,
        lease_seconds: float = 30.0,
        reclaim_own_leases: bool = False,
    ) -> None:
        self.store = store
        self.region = region
        self.account = account
        self.core = Core(
            store,
            region=region,
            account=account,
            owner=owner or new_owner(),
            clock=clock,
            functions=functions,
        )
        self.core.lease_seconds = lease_seconds
        self.logger = ExecutionLogger(store, logs, self.core.now) if logs is not None else None
        if self.logger is not None:
            self.core.on_events = self.logger.write
        self._workers = workers
        # True when ``owner`` is this process's own stable id (``store.owner.OwnerId``): leases
        # still under it at start belong to a dead predecessor and are taken back at once.
        self._reclaim = reclaim_own_leases
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    @property
    def functions(self) -> dict[str, Handler]:
        """In-process Lambda handlers by name or ARN (until server-side functions arrive)."""
        return self.core.functions

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background workers (claim runnable executions and due timers, run them)."""
        if self._threads:
            return
        self._stopping.clear()
        self.core.closing.clear()
        if self._reclaim:
            self.store.work.reclaim_owner(self.core.owner)
        for index in range(self._workers):
            thread = threading.Thread(target=self._loop, name=f"engine-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop the workers after their current step; leases lapse for others to take over."""
        self._stopping.set()
        self.core.closing.set()
        self.core.work_ready.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads = []
        self.core.invocations.shutdown()

    def purge(self, now: datetime | None = None) -> int:
        """Forget executions closed more than 90 days ago (their names become free again, as
        on AWS), with their history, timers, tokens and interpreter inputs."""
        moment = now or self.core.now()
        purged = self.store.executions.purge_closed(moment - RETENTION)
        with self.store.transaction() as tx:
            journal.delete_orphans(tx.connection)
        return purged

    def _loop(self) -> None:
        next_purge = 0.0
        while not self._stopping.is_set():
            if time.monotonic() >= next_purge:
                next_purge = time.monotonic() + PURGE_EVERY
                try:
                    self.purge()
                except Exception:
                    logging.getLogger("batchyard.engine").exception("purge failed")
            try:
                busy = self.core.claim_and_run()
            except Exception:  # keep the worker alive; the item's lease lapses and it is retried
                logging.getLogger("batchyard.engine").exception("engine worker step failed")
                busy = 0
            if not busy:
                self.core.work_ready.wait(0.05)
                self.core.work_ready.clear()

    def run_until_idle(self, timeout: float = 10.0) -> None:
        """Process everything runnable now, in the calling thread (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.core.claim_and_run(limit=32):
                continue
            # Lambda tasks run in the background and continue their executions themselves.
            if not self.core.invocations.busy():
                return
            self.core.invocations.wait_idle(max(0.0, deadline - time.monotonic()))

    # --- executions ----------------------------------------------------------------------------

    def start_execution(
        self,
        state_machine_arn: str,
        *,
        name: str | None = None,
        input: str | None = None,
        trace_header: str | None = None,
        version_arn: str | None = None,
        alias_arn: str | None = None,
    ) -> Execution:
        """StartExecution. STANDARD: durable and idempotent by name; EXPRESS: in memory."""
        names.check_state_machine_arn(state_machine_arn)
        base, version_arn, alias_arn, revision_id = self._resolve(
            state_machine_arn, version_arn, alias_arn
        )
        machine = self.store.state_machines.find(base)
        if machine is None:
            raise state_machine_does_not_exist(state_machine_arn)
        text = _check_input(input)
        if name is not None:
            names.check_name(name)
        if machine.type == "EXPRESS":
            return express.start(self, machine, name, text, revision_id, trace_header)
        return self.core.create_execution(
            base,
            name or str(uuid.uuid4()),
            text,
            trace_header=trace_header,
            version_arn=version_arn,
            alias_arn=alias_arn,
            revision_id=revision_id,
        )

    def start_sync_execution(
        self,
        state_machine_arn: str,
        *,
        name: str | None = None,
        input: str | None = None,
        trace_header: str | None = None,
    ) -> dict[str, Any]:
        """StartSyncExecution (EXPRESS only): run to the end, return AWS's output shape."""
        names.check_state_machine_arn(state_machine_arn)
        base, _, _, revision_id = self._resolve(state_machine_arn, None, None)
        machine = self.store.state_machines.find(base)
        if machine is None:
            raise state_machine_does_not_exist(state_machine_arn)
        if machine.type != "EXPRESS":
            raise StateMachineTypeNotSupported(
                "This operation is not supported by this type of state machine"
            )
        text = _check_input(input)
        if name is not None:
            names.check_name(name)
        return express.run_sync(self, machine, name, text, revision_id, trace_header)

    def stop_execution(
        self, execution_arn: str, *, error: str | None = None, cause: str | None = None
    ) -> datetime:
        """StopExecution: the execution ends ABORTED now; returns its stop date."""
        names.check_execution_arn(execution_arn)
        execution = self.core.abort(execution_arn, error, cause)
        return execution.stop_date or self.core.now()

    def redrive_execution(self, execution_arn: str, *, client_token: str | None = None) -> datetime:
        """RedriveExecution: rerun the unsuccessful part of a FAILED/TIMED_OUT/ABORTED one."""
        names.check_execution_arn(execution_arn)
        return redrive(self.core, execution_arn, client_token)

    def describe(self, execution_arn: str) -> Execution:
        """The stored execution (raises ExecutionDoesNotExist)."""
        found = self.store.executions.find(execution_arn)
        if found is None:
            raise execution_does_not_exist(execution_arn)
        return found

    # --- tasks -----------------------------------------------------------------------------------

    def send_task_success(self, task_token: str, output: str) -> None:
        try:
            value = json.loads(output)
        except ValueError:
            raise InvalidOutput("Invalid output") from None
        self.core.complete_token(task_token, {"r": value, "o": output}, "SUCCEEDED")

    def send_task_failure(
        self, task_token: str, error: str | None = None, cause: str | None = None
    ) -> None:
        message: dict[str, Any] = {}
        if error is not None:
            message["e"] = error
        if cause is not None:
            message["c"] = cause
        self.core.complete_token(task_token, message, "FAILED")

    def send_task_heartbeat(self, task_token: str) -> None:
        self.core.heartbeat(task_token)

    def get_activity_task(
        self, activity_arn: str, worker_name: str | None = None, *, wait_seconds: float = 60.0
    ) -> dict[str, Any]:
        """GetActivityTask: a queued task ``{"taskToken", "input"}``, or ``{}`` after the wait."""
        names.check_activity_arn(activity_arn)
        try:
            self.store.activities.get(activity_arn)
        except NotFound:
            raise activity_does_not_exist(activity_arn) from None
        deadline = time.monotonic() + wait_seconds
        ready = self.core.activity_ready
        while True:
            task = self.store.activities.poll(activity_arn, worker_name, now=self.core.now())
            if task is not None:
                token = self.store.task_tokens.get(task.task_token)
                if token.status == "WAITING":
                    self.core.activity_started(token, worker_name)
                    return {"taskToken": task.task_token, "input": task.input}
                continue  # the task timed out or its execution ended while queued
            left = deadline - time.monotonic()
            if left <= 0:
                return {}
            with ready:
                ready.wait(min(left, 0.5))

    # --- helpers ---------------------------------------------------------------------------------

    def _resolve(
        self, arn: str, version_arn: str | None, alias_arn: str | None
    ) -> tuple[str, str | None, str | None, str | None]:
        """(base ARN, version ARN, alias ARN, revision to run) of a machine, version or alias."""
        base = names.base_state_machine_arn(arn)
        if arn != base and version_arn is None and alias_arn is None:
            qualifier = arn.rsplit(":", 1)[-1]
            if qualifier.isdigit():
                version_arn = arn
            else:
                alias_arn = arn
        if alias_arn is not None and version_arn is None:
            try:
                alias = self.store.aliases.get(alias_arn)
            except NotFound:
                raise state_machine_does_not_exist(arn) from None
            routes = alias.routing_configuration
            weights = [int(route.get("weight", 0)) for route in routes]
            choice = random.choices(routes, weights=weights or None)[0]
            version_arn = str(choice["stateMachineVersionArn"])
        revision_id = None
        if version_arn is not None:
            try:
                revision_id = self.store.versions.get(version_arn).revision_id
            except NotFound:
                raise state_machine_does_not_exist(arn) from None
        return base, version_arn, alias_arn, revision_id


def _check_input(text: str | None) -> str:
    if text is None:
        return "{}"
    if len(text.encode()) > MAX_INPUT_BYTES:
        raise InvalidExecutionInput(
            "Invalid State Machine Execution Input: 'The input exceeds the maximum size'"
        )
    try:
        json.loads(text)
    except ValueError as exc:
        raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{exc}'") from None
    return text


__all__ = ["Engine"]
