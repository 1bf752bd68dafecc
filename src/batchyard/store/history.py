"""Execution history: append-only, numbered events, paged both ways.

``(execution_arn, id)`` is the primary key, so a history event can be written once only: an
engine replica that lost its lease and tries to append the events another replica already wrote
gets :class:`AlreadyExists` and its whole batch is rolled back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from batchyard.store.errors import AlreadyExists, NotFound
from batchyard.store.fastpath import FastInsert
from batchyard.store.records import HistoryEvent
from batchyard.store.repository import Repository, to_record, to_records
from batchyard.store.schema import history_events

_C = history_events.c
_INSERT = FastInsert(history_events)


class History(Repository):
    """``store.history``."""

    def append(self, execution_arn: str, events: Sequence[HistoryEvent]) -> None:
        """Insert ``events`` of one execution atomically (one multi-row statement).

        Raises :class:`AlreadyExists` if any event id is already stored, :class:`NotFound` if
        the execution does not exist, and ``ValueError`` if an event belongs to another one.
        """
        for event in events:
            if event.execution_arn != execution_arn:
                raise ValueError(f"event {event.id} belongs to {event.execution_arn}")
        self.append_all(events)

    def append_all(self, events: Sequence[HistoryEvent]) -> None:
        """Insert events of any number of executions in one statement (the engine's batch)."""
        if not events:
            return
        # The hottest statement of the engine: see fastpath.py.
        rows = _INSERT.rows(events)
        try:
            with self._write() as conn:
                conn.exec_driver_sql(_INSERT.sql[self._db.is_postgresql], rows)
        except IntegrityError as exc:
            raise _translate(exc, events) from exc

    def page(
        self,
        execution_arn: str,
        *,
        after_id: int | None = None,
        limit: int = 1000,
        reverse: bool = False,
    ) -> list[HistoryEvent]:
        """Up to ``limit`` events in id order (descending if ``reverse``), starting after
        ``after_id`` in that order (``None``: from the first, or the last if ``reverse``)."""
        query = sa.select(history_events).where(_C.execution_arn == execution_arn)
        if reverse:
            query = query.order_by(_C.id.desc())
            if after_id is not None:
                query = query.where(_C.id < after_id)
        else:
            query = query.order_by(_C.id)
            if after_id is not None:
                query = query.where(_C.id > after_id)
        with self._read() as conn:
            return to_records(HistoryEvent, conn.execute(query.limit(limit)))

    def all(self, execution_arn: str) -> list[HistoryEvent]:
        """The whole history in order (replay after a restart)."""
        query = sa.select(history_events).where(_C.execution_arn == execution_arn)
        with self._read() as conn:
            return to_records(HistoryEvent, conn.execute(query.order_by(_C.id)))

    def last(self, execution_arn: str) -> HistoryEvent | None:
        """The latest event, or ``None`` for an empty history."""
        query = (
            sa.select(history_events)
            .where(_C.execution_arn == execution_arn)
            .order_by(_C.id.desc())
            .limit(1)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else to_record(HistoryEvent, row)

    def count(self, execution_arn: str) -> int:
        query = sa.select(sa.func.count()).where(_C.execution_arn == execution_arn)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())


def _translate(exc: IntegrityError, events: Sequence[HistoryEvent]) -> Exception:
    """Tell a duplicate event id from a missing execution, on either driver."""
    sqlstate: Any = getattr(exc.orig, "sqlstate", None)
    message = str(exc.orig)
    first = events[0]
    if sqlstate == "23503" or "FOREIGN KEY" in message:
        return NotFound("execution", first.execution_arn)
    return AlreadyExists("history event", f"{first.execution_arn}#{first.id}..")
