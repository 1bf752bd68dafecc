"""Durable timers: Wait states, retry back-off, task timeouts and heartbeats.

A timer is identified by ``(execution_arn, key)``; setting it again moves it (replay sets the
same key to the same instant, so it is harmless). Firing is :meth:`Timers.delete` inside the
transaction that appends the resulting history events: only one replica can delete the row,
so a timer fires once even when two replicas see it due.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from batchyard.store.records import JSON, Timer
from batchyard.store.repository import Repository, to_records
from batchyard.store.schema import from_millis, timers

_C = timers.c


class Timers(Repository):
    """``store.timers``."""

    def set(self, execution_arn: str, key: str, fire_at: datetime, payload: JSON = None) -> None:
        """Create the timer, or move it to ``fire_at`` with ``payload`` if it exists."""
        stmt = self._db.insert(timers).values(
            execution_arn=execution_arn, key=key, fire_at=fire_at, payload=payload
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[_C.execution_arn, _C.key],
            set_={"fire_at": stmt.excluded.fire_at, "payload": stmt.excluded.payload},
        )
        with self._write() as conn:
            conn.execute(stmt)

    def delete(self, execution_arn: str, key: str) -> bool:
        """Cancel or fire the timer. ``True`` only for the one caller that removed it."""
        with self._write() as conn:
            result = conn.execute(
                timers.delete().where(_C.execution_arn == execution_arn).where(_C.key == key)
            )
            return result.rowcount == 1

    def due(self, now: datetime | None = None, *, limit: int = 100) -> list[Timer]:
        """Timers whose ``fire_at`` is at or before ``now``, earliest first."""
        query = (
            sa.select(timers)
            .where(_C.fire_at <= self._now(now))
            .order_by(_C.fire_at, _C.execution_arn, _C.key)
            .limit(limit)
        )
        with self._read() as conn:
            return to_records(Timer, conn.execute(query))

    def next_fire_at(self) -> datetime | None:
        """When the earliest timer fires (how long a timer loop may sleep)."""
        with self._read() as conn:
            value: datetime | None = conn.execute(sa.select(sa.func.min(_C.fire_at))).scalar()
        # min() loses the column type on some dialects; normalise to an aware datetime.
        return _as_datetime(value)

    def for_execution(self, execution_arn: str) -> list[Timer]:
        query = sa.select(timers).where(_C.execution_arn == execution_arn).order_by(_C.fire_at)
        with self._read() as conn:
            return to_records(Timer, conn.execute(query))

    def delete_for_execution(self, execution_arn: str) -> int:
        """Cancel every timer of an execution (it stopped or finished)."""
        with self._write() as conn:
            return conn.execute(timers.delete().where(_C.execution_arn == execution_arn)).rowcount


def _as_datetime(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, int):
        return from_millis(value)
    raise TypeError(f"unexpected timer instant {value!r}")
