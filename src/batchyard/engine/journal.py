"""The engine's own tables: the interpreter inputs of every execution, and its inbox.

The interpreter is deterministic, so an execution *is* its ordered inputs (start, task outcomes,
timer firings, timeout, abort). ``engine_inputs`` keeps them; ``(execution_arn, seq)`` is the
primary key, so two engines that both think they own an execution cannot both append input
``n`` — the loser's whole transaction (inputs, history events, timers) rolls back. That is the
fence that makes leases an optimisation rather than a correctness requirement.

Both tables are declared in :mod:`batchyard.store.schema` and created by the store's
migrations. ``engine_inbox`` holds what arrives from outside while another thread or replica may be running
the execution (SendTaskSuccess, a child execution finishing). The execution's runner turns each
message into an input inside the transaction that deletes it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from batchyard.store import schema

Input = dict[str, Any]

# Declared with the store's tables and created by its migrations (revision 0002).
inputs = schema.engine_inputs
inbox = schema.engine_inbox

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def to_ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def from_ms(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)


def truncate(moment: datetime) -> datetime:
    """``moment`` at millisecond precision: what the store keeps, so replay sees the same time."""
    return from_ms(to_ms(moment))


def append_inputs(conn: sa.Connection, arn: str, first_seq: int, items: Sequence[Input]) -> None:
    if not items:
        return
    rows = [
        {"execution_arn": arn, "seq": first_seq + i, "body": _dumps(item)}
        for i, item in enumerate(items)
    ]
    conn.execute(inputs.insert(), rows)


def load_inputs(conn: sa.Connection, arn: str) -> list[Input]:
    rows = conn.execute(
        sa.select(inputs.c.body).where(inputs.c.execution_arn == arn).order_by(inputs.c.seq)
    )
    return [json.loads(row[0]) for row in rows]


def count_inputs(conn: sa.Connection, arn: str) -> int:
    query = sa.select(sa.func.count()).where(inputs.c.execution_arn == arn)
    return int(conn.execute(query).scalar_one())


def delete_inputs_from(conn: sa.Connection, arn: str, seq: int) -> None:
    """Forget inputs ``seq`` onwards (a redrive replaces the failing tail)."""
    conn.execute(inputs.delete().where(inputs.c.execution_arn == arn).where(inputs.c.seq >= seq))


def delete_orphans(conn: sa.Connection) -> None:
    """Drop inputs and inbox messages of executions that no longer exist (purged)."""
    for table in (inputs, inbox):
        known = sa.select(schema.executions.c.arn)
        conn.execute(table.delete().where(~table.c.execution_arn.in_(known)))


def post(conn: sa.Connection, arn: str, message: Input) -> None:
    conn.execute(inbox.insert().values(execution_arn=arn, body=_dumps(message)))


def read_inbox(conn: sa.Connection, arn: str) -> list[tuple[int, Input]]:
    rows = conn.execute(
        sa.select(inbox.c.id, inbox.c.body).where(inbox.c.execution_arn == arn).order_by(inbox.c.id)
    )
    return [(row[0], json.loads(row[1])) for row in rows]


def consume(conn: sa.Connection, ids: Sequence[int]) -> None:
    if ids:
        conn.execute(inbox.delete().where(inbox.c.id.in_(list(ids))))


def dumps(value: Any) -> str:
    return _dumps(value)
