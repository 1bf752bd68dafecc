"""SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat: answers to callback and activity
tasks (and GetActivityTask's delivery, which starts an activity). The token row decides (exactly one answer wins it, conditionally on WAITING); the answer
reaches the execution through its inbox, in the same transaction, and wakes it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from batchyard.engine import journal
from batchyard.engine.errors import EngineError, InvalidToken, TaskTimedOut
from batchyard.engine.journal import Input
from batchyard.store import NotFound, Store, TaskToken, Transaction

KIND = "execution"


class Answers:
    """The token side of :class:`~batchyard.engine.core.Core` (a mixin over its state)."""

    store: Store
    work_ready: threading.Event
    now: Callable[[], datetime]

    def complete_token(self, token: str, message: Input, status: str) -> None:
        """SendTaskSuccess / SendTaskFailure: exactly one answer wins the token."""
        found = self._token(token)
        now = self.now()
        with self.store.transaction() as tx:
            if not tx.task_tokens.complete(
                token,
                status,
                output=message.get("o"),
                error=message.get("e"),
                cause=message.get("c"),
                now=now,
            ):
                raise _closed(tx.task_tokens.get(token).status)
            worker = tx.connection.execute(
                sa.text("SELECT worker_name FROM activity_tasks WHERE task_token = :t"),
                {"t": token},
            ).scalar()
            body = {key: value for key, value in message.items() if key != "o"}
            if worker is not None:
                body["w"] = worker
            journal.post(tx.connection, found.execution_arn, {"k": "token", "token": token, **body})
            tx.work.wake(KIND, found.execution_arn, at=now)
        self.work_ready.set()

    def activity_started(self, token: TaskToken, worker_name: str | None) -> None:
        """GetActivityTask handed the task to a worker: ActivityStarted is recorded now."""
        now = self.now()
        message: Input = {"k": "started", "token": token.token}
        if worker_name is not None:
            message["w"] = worker_name
        with self.store.transaction() as tx:
            journal.post(tx.connection, token.execution_arn, message)
            self._restart_heartbeat(tx, token, now)
            tx.work.wake(KIND, token.execution_arn, at=now)
        self.work_ready.set()

    def _restart_heartbeat(self, tx: Transaction, token: TaskToken, now: datetime) -> None:
        if token.heartbeat_seconds is None:
            return
        key = "h:" + token.token
        for timer in tx.timers.for_execution(token.execution_arn):
            if timer.key == key:
                due = now + timedelta(seconds=token.heartbeat_seconds)
                tx.timers.set(token.execution_arn, key, due, timer.payload)

    def heartbeat(self, token: str) -> None:
        found = self._token(token)
        if found.status != "WAITING":
            raise _closed(found.status)
        now = self.now()
        with self.store.transaction() as tx:
            if not tx.task_tokens.heartbeat(token, now=now):
                raise _closed(tx.task_tokens.get(token).status)
            self._restart_heartbeat(tx, found, now)

    def _token(self, token: str) -> TaskToken:

        try:
            return self.store.task_tokens.get(token)
        except NotFound:
            raise InvalidToken("Invalid token") from None


def _closed(status: str) -> EngineError:
    # AWS answers any late answer (the task succeeded, failed, timed out or its execution
    # ended) with TaskTimedOut and this text; a token it never issued is InvalidToken.
    return TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
