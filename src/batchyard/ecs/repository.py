"""Repositories of the ECS tables: clusters, task definitions, tasks, RunTask client tokens.

Built like the store's own (``Clusters(store.db)`` per call, ``Clusters(store.db,
tx.connection)`` inside ``store.transaction()``). Writes that several replicas may race are
conditional: a task row is only replaced ``WHERE version = :seen``, a revision number is taken
by its primary key, a client token by its primary key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from batchyard.ecs.records import ClusterRecord, TaskDefinitionRecord, TaskRecord
from batchyard.ecs.tables import ecs_clusters, ecs_run_requests, ecs_task_definitions, ecs_tasks
from batchyard.store.repository import Repository, to_record, to_records

_C = ecs_clusters.c
_D = ecs_task_definitions.c
_T = ecs_tasks.c


class Clusters(Repository):
    def get(self, name: str) -> ClusterRecord | None:
        with self._read() as conn:
            row = conn.execute(sa.select(ecs_clusters).where(_C.name == name)).first()
        return None if row is None else to_record(ClusterRecord, row)

    def put(self, record: ClusterRecord) -> bool:
        """Create the cluster, or re-activate an INACTIVE one; ``False`` if it is ACTIVE."""
        row = dataclasses.asdict(record)
        with self._write() as conn:
            if self._db.insert_if_absent(conn, ecs_clusters, row):
                return True
            result = conn.execute(
                ecs_clusters.update()
                .where(_C.name == record.name)
                .where(_C.status == "INACTIVE")
                .values(status="ACTIVE", settings=record.settings, created=record.created)
            )
            return result.rowcount == 1

    def set_status(self, name: str, status: str) -> None:
        with self._write() as conn:
            conn.execute(ecs_clusters.update().where(_C.name == name).values(status=status))

    def list_active(self) -> list[ClusterRecord]:
        query = sa.select(ecs_clusters).where(_C.status == "ACTIVE").order_by(_C.name)
        with self._read() as conn:
            return to_records(ClusterRecord, conn.execute(query))


class TaskDefinitions(Repository):
    def add(self, record: TaskDefinitionRecord) -> bool:
        """Insert a revision; ``False`` if another writer took that revision number first."""
        row = dataclasses.asdict(record)
        with self._write() as conn:
            return self._db.insert_if_absent(conn, ecs_task_definitions, row)

    def last_revision(self, family: str) -> int:
        with self._read() as conn:
            value = conn.execute(
                sa.select(sa.func.max(_D.revision)).where(_D.family == family)
            ).scalar()
        return int(value or 0)

    def get(self, family: str, revision: int | None) -> TaskDefinitionRecord | None:
        """A revision, or (``revision=None``) the latest ACTIVE one of the family."""
        query = sa.select(ecs_task_definitions).where(_D.family == family)
        if revision is None:
            query = query.where(_D.status == "ACTIVE").order_by(_D.revision.desc()).limit(1)
        else:
            query = query.where(_D.revision == revision)
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else to_record(TaskDefinitionRecord, row)

    def deregister(self, family: str, revision: int, body: dict[str, Any]) -> None:
        with self._write() as conn:
            conn.execute(
                ecs_task_definitions.update()
                .where(_D.family == family)
                .where(_D.revision == revision)
                .values(status="INACTIVE", body=body)
            )

    def count_launch(self, family: str, revision: int) -> int:
        """Add one launch to the revision's counter and return the new count."""
        with self._write() as conn:
            conn.execute(
                ecs_task_definitions.update()
                .where(_D.family == family)
                .where(_D.revision == revision)
                .values(launches=_D.launches + 1)
            )
            value = conn.execute(
                sa.select(_D.launches).where(_D.family == family).where(_D.revision == revision)
            ).scalar_one()
        return int(value)

    def list_arns(
        self, *, family_prefix: str | None, status: str | None, descending: bool
    ) -> list[str]:
        query = sa.select(_D.arn)
        if family_prefix:
            query = query.where(_D.family == family_prefix)
        if status:
            query = query.where(_D.status == status)
        order = (_D.family.desc(), _D.revision.desc()) if descending else (_D.family, _D.revision)
        with self._read() as conn:
            return [row[0] for row in conn.execute(query.order_by(*order))]

    def families(self, *, prefix: str | None, status: str) -> list[str]:
        active = sa.func.max(sa.case((_D.status == "ACTIVE", 1), else_=0))
        query = sa.select(_D.family).group_by(_D.family).order_by(_D.family)
        if prefix:
            query = query.where(_D.family.startswith(prefix, autoescape=True))
        if status == "ACTIVE":
            query = query.having(active == 1)
        elif status == "INACTIVE":
            query = query.having(active == 0)
        with self._read() as conn:
            return [row[0] for row in conn.execute(query)]


class Tasks(Repository):
    def add(self, records: Sequence[TaskRecord]) -> None:
        rows = [dataclasses.asdict(r) for r in records]
        with self._write() as conn:
            conn.execute(ecs_tasks.insert(), rows)

    def get(self, task_id: str) -> TaskRecord | None:
        with self._read() as conn:
            row = conn.execute(sa.select(ecs_tasks).where(_T.task_id == task_id)).first()
        return None if row is None else to_record(TaskRecord, row)

    def get_many(self, task_ids: Sequence[str]) -> dict[str, TaskRecord]:
        if not task_ids:
            return {}
        query = sa.select(ecs_tasks).where(_T.task_id.in_(list(task_ids)))
        with self._read() as conn:
            return {r.task_id: r for r in to_records(TaskRecord, conn.execute(query))}

    def replace(
        self, record: TaskRecord, body: dict[str, Any], **columns: Any
    ) -> TaskRecord | None:
        """Write a new body (and columns) if the row is still at ``record.version``; the new
        record, or ``None`` if another writer got there first."""
        version = record.version + 1
        body = {**body, "version": version}
        values = {
            "body": body,
            "version": version,
            "last_status": body["lastStatus"],
            "desired_status": body["desiredStatus"],
            **columns,
        }
        with self._write() as conn:
            result = conn.execute(
                ecs_tasks.update()
                .where(_T.arn == record.arn)
                .where(_T.version == record.version)
                .values(values)
            )
        if result.rowcount != 1:
            return None
        return dataclasses.replace(record, **values)

    def set_launch_number(self, arn: str, number: int) -> bool:
        """Record which launch of its definition a task is, once; ``False`` if it already was."""
        with self._write() as conn:
            result = conn.execute(
                ecs_tasks.update()
                .where(_T.arn == arn)
                .where(_T.launch_number.is_(None))
                .values(launch_number=number)
            )
        return result.rowcount == 1

    def mark_delivered(self, arn: str) -> None:
        with self._write() as conn:
            conn.execute(ecs_tasks.update().where(_T.arn == arn).values(delivered=True))

    def undelivered(self) -> list[TaskRecord]:
        """Stopped tasks with a waiter whose callback has not returned yet."""
        query = (
            sa.select(ecs_tasks)
            .where(_T.waiter.is_not(None))
            .where(_T.last_status == "STOPPED")
            .where(_T.delivered.is_(False))
            .order_by(_T.created)
        )
        with self._read() as conn:
            return to_records(TaskRecord, conn.execute(query))

    def count_active(self, cluster: str) -> int:
        query = (
            sa.select(sa.func.count())
            .select_from(ecs_tasks)
            .where(_T.cluster == cluster)
            .where(_T.last_status != "STOPPED")
        )
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def counts_by_status(self, cluster: str) -> dict[str, int]:
        query = (
            sa.select(_T.last_status, sa.func.count())
            .where(_T.cluster == cluster)
            .group_by(_T.last_status)
        )
        with self._read() as conn:
            return {status: int(n) for status, n in conn.execute(query)}

    def list_arns(
        self,
        cluster: str,
        *,
        family: str | None = None,
        started_by: str | None = None,
        desired_status: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 100,
    ) -> list[tuple[str, datetime]]:
        """``(arn, created)`` of the cluster's tasks, oldest first, after the keyset ``after``."""
        query = sa.select(_T.arn, _T.created).where(_T.cluster == cluster)
        if family:
            query = query.where(_T.family == family)
        if started_by:
            query = query.where(_T.started_by == started_by)
        if desired_status:
            query = query.where(_T.desired_status == desired_status)
        if after is not None:
            created, arn = after
            query = query.where(
                sa.or_(_T.created > created, sa.and_(_T.created == created, _T.arn > arn))
            )
        query = query.order_by(_T.created, _T.arn).limit(limit)
        with self._read() as conn:
            return [(row[0], row[1]) for row in conn.execute(query)]


class RunRequests(Repository):
    """``clientToken`` → the tasks its first RunTask created."""

    def claim(self, cluster: str, token: str, task_arns: list[str], now: datetime) -> bool:
        row = {"cluster": cluster, "client_token": token, "task_arns": task_arns, "created": now}
        with self._write() as conn:
            return self._db.insert_if_absent(conn, ecs_run_requests, row)

    def get(self, cluster: str, token: str) -> list[str] | None:
        query = (
            sa.select(ecs_run_requests.c.task_arns)
            .where(ecs_run_requests.c.cluster == cluster)
            .where(ecs_run_requests.c.client_token == token)
        )
        with self._read() as conn:
            value = conn.execute(query).scalar()
        return None if value is None else list(value)
