"""Task tokens (``.waitForTaskToken`` and activities) and activity task queues.

Completion is a conditional update from ``WAITING``: SendTaskSuccess, SendTaskFailure, a
heartbeat timeout and StopExecution race for the same token, and exactly one of them wins.
An activity task is delivered to one poller only: the poll moves it from ``QUEUED`` to
``DELIVERED`` under a row lock (``SKIP LOCKED`` on PostgreSQL), so concurrent GetActivityTask
calls never receive the same task.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from batchyard.store.errors import AlreadyExists, NotFound
from batchyard.store.records import Activity, ActivityTask, TaskToken, as_row, columns_of
from batchyard.store.repository import Repository, to_record, to_records
from batchyard.store.schema import activities, activity_tasks, task_tokens

_TOKEN_COLUMNS = columns_of(TaskToken)
_T = task_tokens.c
_Q = activity_tasks.c
WAITING = "WAITING"


class TaskTokens(Repository):
    """``store.task_tokens``."""

    def create(self, token: TaskToken) -> TaskToken:
        with self._write() as conn:
            if not self._db.insert_if_absent(conn, task_tokens, as_row(token, _TOKEN_COLUMNS)):
                raise AlreadyExists("task token", token.token)
        return token

    def get(self, token: str) -> TaskToken:
        with self._read() as conn:
            row = conn.execute(sa.select(task_tokens).where(_T.token == token)).first()
        if row is None:
            raise NotFound("task token", token)
        return to_record(TaskToken, row)

    def complete(
        self,
        token: str,
        status: str,
        *,
        output: str | None = None,
        error: str | None = None,
        cause: str | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Move a WAITING token to ``status``; ``True`` only for the caller that did it."""
        with self._write() as conn:
            result = conn.execute(
                task_tokens.update()
                .where(_T.token == token)
                .where(_T.status == WAITING)
                .values(
                    status=status, output=output, error=error, cause=cause, updated=self._now(now)
                )
            )
            return result.rowcount == 1

    def heartbeat(self, token: str, now: datetime | None = None) -> bool:
        """Push the heartbeat deadline of a WAITING token ``heartbeat_seconds`` past ``now``."""
        moment = self._now(now)
        with self._write() as conn:
            row = conn.execute(
                sa.select(_T.heartbeat_seconds).where(_T.token == token).where(_T.status == WAITING)
            ).first()
            if row is None:
                return False
            deadline = None if row[0] is None else moment + timedelta(seconds=row[0])
            result = conn.execute(
                task_tokens.update()
                .where(_T.token == token)
                .where(_T.status == WAITING)
                .values(heartbeat_deadline=deadline, updated=moment)
            )
            return result.rowcount == 1

    def for_execution(self, execution_arn: str, *, status: str | None = None) -> list[TaskToken]:
        query = sa.select(task_tokens).where(_T.execution_arn == execution_arn)
        if status is not None:
            query = query.where(_T.status == status)
        with self._read() as conn:
            return to_records(TaskToken, conn.execute(query.order_by(_T.created)))

    def heartbeat_expired(
        self, now: datetime | None = None, *, limit: int = 100
    ) -> list[TaskToken]:
        """WAITING tokens whose heartbeat deadline has passed (they time out)."""
        query = (
            sa.select(task_tokens)
            .where(_T.status == WAITING)
            .where(_T.heartbeat_deadline <= self._now(now))
            .order_by(_T.heartbeat_deadline)
            .limit(limit)
        )
        with self._read() as conn:
            return to_records(TaskToken, conn.execute(query))


class Activities(Repository):
    """``store.activities``: activities and their queued tasks."""

    def create(self, activity: Activity) -> Activity:
        """Insert ``activity``; :class:`AlreadyExists` if the ARN is taken."""
        with self._write() as conn:
            if not self._db.insert_if_absent(
                conn, activities, as_row(activity, columns_of(Activity))
            ):
                raise AlreadyExists("activity", activity.arn)
        return activity

    def get(self, arn: str) -> Activity:
        with self._read() as conn:
            row = conn.execute(sa.select(activities).where(activities.c.arn == arn)).first()
        if row is None:
            raise NotFound("activity", arn)
        return to_record(Activity, row)

    def list(self) -> list[Activity]:
        query = sa.select(activities).order_by(activities.c.created, activities.c.arn)
        with self._read() as conn:
            return to_records(Activity, conn.execute(query))

    def delete(self, arn: str) -> bool:
        with self._write() as conn:
            return conn.execute(activities.delete().where(activities.c.arn == arn)).rowcount == 1

    def enqueue(self, task: ActivityTask) -> None:
        """Queue a task for the activity's pollers (its token must exist in task_tokens)."""
        with self._write() as conn:
            if not self._db.insert_if_absent(
                conn, activity_tasks, as_row(task, columns_of(ActivityTask))
            ):
                raise AlreadyExists("activity task", task.task_token)

    def poll(
        self, activity_arn: str, worker_name: str | None = None, now: datetime | None = None
    ) -> ActivityTask | None:
        """Deliver the oldest queued task of ``activity_arn`` to this caller, or ``None``.

        One attempt, no waiting: the API layer loops for GetActivityTask's long poll.
        """
        moment = self._now(now)
        queued = (
            sa.select(activity_tasks)
            .where(_Q.activity_arn == activity_arn)
            .where(_Q.status == "QUEUED")
            .order_by(_Q.queued_at, _Q.task_token)
            .limit(1)
        )
        if self._conn is None:
            # Long-polling workers call this in a loop: an empty queue must cost a read only,
            # not SQLite's write lock.
            with self._read() as conn:
                if conn.execute(queued).first() is None:
                    return None
        query = self._db.lock_rows(queued)
        with self._write() as conn:
            row = conn.execute(query).first()
            if row is None:
                return None
            task = to_record(ActivityTask, row)
            result = conn.execute(
                activity_tasks.update()
                .where(_Q.task_token == task.task_token)
                .where(_Q.status == "QUEUED")
                .values(status="DELIVERED", worker_name=worker_name, delivered_at=moment)
            )
            if result.rowcount != 1:  # pragma: no cover - the row lock makes this unreachable
                return None
        return ActivityTask(
            task_token=task.task_token,
            activity_arn=task.activity_arn,
            input=task.input,
            status="DELIVERED",
            queued_at=task.queued_at,
            worker_name=worker_name,
            delivered_at=moment,
        )
