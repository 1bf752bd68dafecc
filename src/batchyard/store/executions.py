"""Executions: creation with name uniqueness, optimistic saves, keyset-paginated listing."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa

from batchyard.store.errors import AlreadyExists, Conflict, NotFound
from batchyard.store.fastpath import FastInsert, FastUpdate
from batchyard.store.records import Execution, Page, columns_of
from batchyard.store.repository import (
    Repository,
    decode_token,
    encode_token,
    past,
    to_record,
    to_records,
)
from batchyard.store.schema import (
    executions,
    from_millis,
    state_machine_revisions,
    state_machines,
    to_millis,
)

_COLUMNS = columns_of(Execution)
# Fixed when the execution starts (a redrive keeps them too). Leaving them out of the UPDATE
# also spares SQLite from rewriting the index entries of unchanged columns on every save.
_IMMUTABLE = frozenset(
    {
        "arn",
        "state_machine_arn",
        "state_machine_version_arn",
        "state_machine_alias_arn",
        "revision_id",
        "name",
        "type",
        "input",
        "start_date",
        "parent_execution_arn",
        "map_run_arn",
        "trace_header",
        "created",
        "version",
    }
)
_MUTABLE = tuple(c for c in _COLUMNS if c not in _IMMUTABLE)
# Saves run on every transition: see fastpath.py. Key values: arn, then the version seen.
# ON CONFLICT without a target covers the ARN and the partial unique index on names alike.
_FAST_CREATE = FastInsert(executions, " ON CONFLICT DO NOTHING RETURNING arn")
_FAST_SAVE = FastUpdate(executions, (*_MUTABLE, "version"), ("arn", "version"))
_GET = sa.select(executions).where(executions.c.arn == sa.bindparam("_arn"))


class Executions(Repository):
    """``store.executions``."""

    def create(self, execution: Execution) -> Execution:
        """Insert ``execution``.

        Raises :class:`AlreadyExists` when the ARN exists or, for a STANDARD execution, the
        state machine already has an execution of that name. The check is the unique index
        itself (``INSERT ... ON CONFLICT DO NOTHING``), so two replicas racing on one name
        cannot both win, and the surrounding transaction stays usable for the caller to read
        the existing execution (StartExecution's idempotent answer).
        """
        (row,) = _FAST_CREATE.rows([execution])
        with self._write() as conn:
            if conn.exec_driver_sql(_FAST_CREATE.sql[self._db.is_postgresql], row).first() is None:
                raise AlreadyExists("execution", f"{execution.state_machine_arn}/{execution.name}")
        return execution

    def get(self, arn: str) -> Execution:
        found = self.find(arn)
        if found is None:
            raise NotFound("execution", arn)
        return found

    def find(self, arn: str) -> Execution | None:
        with self._read() as conn:
            row = conn.execute(_GET, {"_arn": arn}).first()
        return None if row is None else to_record(Execution, row)

    def find_by_name(self, state_machine_arn: str, name: str) -> Execution | None:
        """The STANDARD execution named ``name`` of ``state_machine_arn``, if any."""
        with self._read() as conn:
            row = conn.execute(
                sa.select(executions)
                .where(executions.c.state_machine_arn == state_machine_arn)
                .where(executions.c.name == name)
                .where(executions.c.type == "STANDARD")
            ).first()
        return None if row is None else to_record(Execution, row)

    def save(self, execution: Execution) -> Execution:
        """Write ``execution`` if it is still at ``execution.version``; return it one version on.

        Raises :class:`Conflict` when someone saved it in between (e.g. StopExecution racing
        with the engine completing it): the caller re-reads and decides again. Fields fixed at
        start (ARN, names, input, start date, parent, map run, version/alias, revision) are
        not written.
        """
        saved = replace(execution, version=execution.version + 1)
        row = _FAST_SAVE.row(saved, execution.arn, execution.version)
        with self._write() as conn:
            if conn.exec_driver_sql(_FAST_SAVE.sql[self._db.is_postgresql], row).rowcount != 1:
                raise Conflict("execution", execution.arn, execution.version)
        return saved

    def save_all(self, batch: Sequence[Execution]) -> builtins.list[Execution]:
        """:meth:`save` for many executions in one statement (the engine's batched commit).

        If any of them moved on, :class:`Conflict` is raised (its ``key`` lists the batch, as
        the database does not say which row missed) and the transaction must roll back: the
        other rows of the batch were updated by the same statement.
        """
        if not batch:
            return []
        saved = [replace(execution, version=execution.version + 1) for execution in batch]
        rows = [
            _FAST_SAVE.row(new, old.arn, old.version) for old, new in zip(batch, saved, strict=True)
        ]
        with self._write() as conn:
            if conn.exec_driver_sql(_FAST_SAVE.sql[self._db.is_postgresql], rows).rowcount != len(
                batch
            ):
                arns = ", ".join(execution.arn for execution in batch)
                raise Conflict("one of the executions", arns, batch[0].version)
        return saved

    def list(
        self,
        *,
        state_machine_arn: str | None = None,
        version_arn: str | None = None,
        alias_arn: str | None = None,
        map_run_arn: str | None = None,
        status: str | None = None,
        redriven: bool | None = None,
        limit: int = 100,
        next_token: str | None = None,
    ) -> Page[Execution]:
        """Executions newest first (``start_date`` descending), ``limit`` per page.

        Filters combine: a state machine, or the version or alias it was started through
        (ListExecutions accepts all three ARNs), a map run, a status, and ``redriven``
        (``True``: redriven at least once, ListExecutions' ``REDRIVEN`` redriveFilter).
        """
        c = executions.c
        query = sa.select(executions).order_by(c.start_date.desc(), c.arn.desc())
        for column, value in (
            (c.state_machine_arn, state_machine_arn),
            (c.state_machine_version_arn, version_arn),
            (c.state_machine_alias_arn, alias_arn),
            (c.map_run_arn, map_run_arn),
            (c.status, status),
        ):
            if value is not None:
                query = query.where(column == value)
        if redriven is not None:
            query = query.where(c.redrive_count > 0 if redriven else c.redrive_count == 0)
        if next_token is not None:
            start, arn = decode_token(next_token)
            query = query.where(past(c.start_date, c.arn, [from_millis(start), arn], desc=True))
        with self._read() as conn:
            items = to_records(Execution, conn.execute(query.limit(limit + 1)))
        if len(items) <= limit:
            return Page(items)
        last = items[limit - 1]
        return Page(items[:limit], encode_token(to_millis(last.start_date), last.arn))

    def purge_closed(self, before: datetime) -> int:
        """Delete executions that stopped before ``before`` with their history, timers and
        tokens (AWS keeps closed executions 90 days, after which the name is free again), and
        the revisions of deleted state machines that no execution runs any more."""
        with self._write() as conn:
            result = conn.execute(
                executions.delete()
                .where(executions.c.stop_date.is_not(None))
                .where(executions.c.stop_date < before)
            )
            revisions = state_machine_revisions
            conn.execute(
                revisions.delete()
                .where(~sa.exists().where(state_machines.c.arn == revisions.c.state_machine_arn))
                .where(
                    ~sa.exists()
                    .where(executions.c.state_machine_arn == revisions.c.state_machine_arn)
                    .where(executions.c.revision_id == revisions.c.revision_id)
                )
            )
            return result.rowcount
