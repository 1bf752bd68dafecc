"""State machine versions (immutable, numbered) and aliases (weighted routing to versions)."""

from __future__ import annotations

import builtins
from dataclasses import replace

import sqlalchemy as sa

from batchyard.store.errors import AlreadyExists, Conflict, NotFound
from batchyard.store.records import StateMachineAlias, StateMachineVersion, as_row, columns_of
from batchyard.store.repository import Repository, to_record, to_records
from batchyard.store.schema import state_machine_aliases, state_machine_versions

_VERSION_COLUMNS = columns_of(StateMachineVersion)
_ALIAS_COLUMNS = columns_of(StateMachineAlias)
_ALIAS_MUTABLE = ("description", "routing_configuration", "updated")


class Versions(Repository):
    """``store.versions``: published versions of state machines."""

    def create(self, version: StateMachineVersion) -> StateMachineVersion:
        """Insert ``version``; :class:`AlreadyExists` if its ARN or number is taken.

        Reserve the number first with ``store.state_machines.next_version_number``.
        """
        with self._write() as conn:
            if not self._db.insert_if_absent(
                conn, state_machine_versions, as_row(version, _VERSION_COLUMNS)
            ):
                raise AlreadyExists("state machine version", version.arn)
        return version

    def get(self, arn: str) -> StateMachineVersion:
        with self._read() as conn:
            row = conn.execute(
                sa.select(state_machine_versions).where(state_machine_versions.c.arn == arn)
            ).first()
        if row is None:
            raise NotFound("state machine version", arn)
        return to_record(StateMachineVersion, row)

    def latest(self, state_machine_arn: str) -> StateMachineVersion | None:
        """The highest-numbered existing version (PublishStateMachineVersion compares to it)."""
        table = state_machine_versions
        with self._read() as conn:
            row = conn.execute(
                sa.select(table)
                .where(table.c.state_machine_arn == state_machine_arn)
                .order_by(table.c.version_number.desc())
                .limit(1)
            ).first()
        return None if row is None else to_record(StateMachineVersion, row)

    def list(self, state_machine_arn: str) -> list[StateMachineVersion]:
        """Versions of a state machine, newest first (as ListStateMachineVersions orders them)."""
        table = state_machine_versions
        with self._read() as conn:
            rows = conn.execute(
                sa.select(table)
                .where(table.c.state_machine_arn == state_machine_arn)
                .order_by(table.c.version_number.desc())
            )
            return to_records(StateMachineVersion, rows)

    def delete(self, arn: str) -> bool:
        with self._write() as conn:
            result = conn.execute(
                state_machine_versions.delete().where(state_machine_versions.c.arn == arn)
            )
            return result.rowcount == 1


class Aliases(Repository):
    """``store.aliases``: named, weighted pointers to versions."""

    def create(self, alias: StateMachineAlias) -> StateMachineAlias:
        """Insert ``alias``; :class:`AlreadyExists` if the ARN or (machine, name) is taken."""
        with self._write() as conn:
            if not self._db.insert_if_absent(
                conn, state_machine_aliases, as_row(alias, _ALIAS_COLUMNS)
            ):
                raise AlreadyExists("state machine alias", alias.arn)
        return alias

    def get(self, arn: str) -> StateMachineAlias:
        with self._read() as conn:
            row = conn.execute(
                sa.select(state_machine_aliases).where(state_machine_aliases.c.arn == arn)
            ).first()
        if row is None:
            raise NotFound("state machine alias", arn)
        return to_record(StateMachineAlias, row)

    def list(self, state_machine_arn: str) -> list[StateMachineAlias]:
        table = state_machine_aliases
        with self._read() as conn:
            rows = conn.execute(
                sa.select(table)
                .where(table.c.state_machine_arn == state_machine_arn)
                .order_by(table.c.created, table.c.arn)
            )
            return to_records(StateMachineAlias, rows)

    def save(self, alias: StateMachineAlias) -> StateMachineAlias:
        """Optimistic write of description/routing; :class:`Conflict` if saved meanwhile."""
        saved = replace(alias, version=alias.version + 1)
        table = state_machine_aliases
        with self._write() as conn:
            result = conn.execute(
                table.update()
                .where(table.c.arn == alias.arn)
                .where(table.c.version == alias.version)
                .values(
                    {**{n: getattr(saved, n) for n in _ALIAS_MUTABLE}, "version": saved.version}
                )
            )
            if result.rowcount != 1:
                raise Conflict("state machine alias", alias.arn, alias.version)
        return saved

    def delete(self, arn: str) -> bool:
        with self._write() as conn:
            result = conn.execute(
                state_machine_aliases.delete().where(state_machine_aliases.c.arn == arn)
            )
            return result.rowcount == 1

    def referencing(self, version_arn: str) -> builtins.list[StateMachineAlias]:
        """Aliases whose routing points at ``version_arn`` (DeleteStateMachineVersion refuses)."""
        machine_arn = version_arn.rsplit(":", 1)[0]
        return [
            alias
            for alias in self.list(machine_arn)
            if any(
                route.get("stateMachineVersionArn") == version_arn
                for route in alias.routing_configuration
            )
        ]
