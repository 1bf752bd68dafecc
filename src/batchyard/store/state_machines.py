"""State machines and the revisions (definitions) their executions run."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa

from batchyard.store.errors import AlreadyExists, Conflict, NotFound
from batchyard.store.records import Page, Revision, StateMachine, as_row, columns_of
from batchyard.store.repository import (
    Repository,
    decode_token,
    encode_token,
    past,
    to_record,
    to_records,
)
from batchyard.store.schema import (
    from_millis,
    state_machine_revisions,
    state_machines,
    to_millis,
)

_COLUMNS = columns_of(StateMachine)
_REVISION_COLUMNS = columns_of(Revision)
# Columns a save may change: identity and creation stay as they were.
_MUTABLE = tuple(c for c in _COLUMNS if c not in ("arn", "name", "type", "created", "version"))


class StateMachines(Repository):
    """``store.state_machines``: create, read, list, optimistic save, delete."""

    def create(self, machine: StateMachine) -> StateMachine:
        """Insert ``machine`` and record its definition as a revision.

        Raises :class:`AlreadyExists` if the ARN is taken.
        """
        with self._write() as conn:
            if not self._db.insert_if_absent(conn, state_machines, as_row(machine, _COLUMNS)):
                raise AlreadyExists("state machine", machine.arn)
            self._add_revision(conn, machine)
        return machine

    def get(self, arn: str) -> StateMachine:
        """The state machine at ``arn``; :class:`NotFound` if none."""
        with self._read() as conn:
            row = conn.execute(sa.select(state_machines).where(state_machines.c.arn == arn)).first()
        if row is None:
            raise NotFound("state machine", arn)
        return to_record(StateMachine, row)

    def find(self, arn: str) -> StateMachine | None:
        """Like :meth:`get`, ``None`` instead of :class:`NotFound`."""
        try:
            return self.get(arn)
        except NotFound:
            return None

    def list(self, *, limit: int = 100, next_token: str | None = None) -> Page[StateMachine]:
        """State machines in creation order, ``limit`` per page."""
        query = sa.select(state_machines).order_by(state_machines.c.created, state_machines.c.arn)
        if next_token is not None:
            created, arn = decode_token(next_token)
            c = state_machines.c
            query = query.where(past(c.created, c.arn, [from_millis(created), arn], desc=False))
        with self._read() as conn:
            items = to_records(StateMachine, conn.execute(query.limit(limit + 1)))
        if len(items) <= limit:
            return Page(items)
        last = items[limit - 1]
        return Page(items[:limit], encode_token(to_millis(last.created), last.arn))

    def save(self, machine: StateMachine) -> StateMachine:
        """Write ``machine`` if nobody saved it since it was read at ``machine.version``.

        A new ``revision_id`` also records the new definition as a revision. Returns the record
        with its new version; :class:`Conflict` if the stored version moved on.
        """
        saved = replace(machine, version=machine.version + 1)
        changes = {name: getattr(saved, name) for name in _MUTABLE}
        with self._write() as conn:
            result = conn.execute(
                state_machines.update()
                .where(state_machines.c.arn == machine.arn)
                .where(state_machines.c.version == machine.version)
                .values({**changes, "version": saved.version})
            )
            if result.rowcount != 1:
                raise Conflict("state machine", machine.arn, machine.version)
            self._add_revision(conn, saved)
        return saved

    def next_version_number(self, arn: str) -> int:
        """Reserve the next version number of ``arn`` (never reused, even after deletes)."""
        with self._write() as conn:
            conn.execute(
                state_machines.update()
                .where(state_machines.c.arn == arn)
                .values(last_version=state_machines.c.last_version + 1)
            )
            number = conn.execute(
                sa.select(state_machines.c.last_version).where(state_machines.c.arn == arn)
            ).scalar()
        if number is None:
            raise NotFound("state machine", arn)
        return int(number)

    def delete(self, arn: str) -> bool:
        """Delete the machine with its versions and aliases; ``False`` if it did not exist.

        Its revisions stay while executions still run them (``executions.purge_closed``
        removes them later).
        """
        with self._write() as conn:
            return (
                conn.execute(state_machines.delete().where(state_machines.c.arn == arn)).rowcount
                == 1
            )

    def revision(self, state_machine_arn: str, revision_id: str) -> Revision:
        """The definition ``state_machine_arn`` had at ``revision_id`` (what an execution runs)."""
        table = state_machine_revisions
        with self._read() as conn:
            row = conn.execute(
                sa.select(table)
                .where(table.c.state_machine_arn == state_machine_arn)
                .where(table.c.revision_id == revision_id)
            ).first()
        if row is None:
            raise NotFound("revision", f"{state_machine_arn}@{revision_id}")
        return to_record(Revision, row)

    def _add_revision(self, conn: sa.Connection, machine: StateMachine) -> None:
        revision = Revision(
            state_machine_arn=machine.arn,
            revision_id=machine.revision_id,
            definition=machine.definition,
            role_arn=machine.role_arn,
            created=machine.updated,
            logging_configuration=machine.logging_configuration,
            tracing_configuration=machine.tracing_configuration,
            encryption_configuration=machine.encryption_configuration,
        )
        stmt = self._db.insert(state_machine_revisions).values(as_row(revision, _REVISION_COLUMNS))
        conn.execute(stmt.on_conflict_do_nothing())
