"""Map runs of Distributed Map states, and the tags of every taggable resource."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import sqlalchemy as sa

from batchyard.store.errors import AlreadyExists, Conflict, NotFound
from batchyard.store.records import MapRun, Tag, as_row, columns_of
from batchyard.store.repository import Repository, to_record, to_records
from batchyard.store.schema import map_runs, tags

_COLUMNS = columns_of(MapRun)
_MUTABLE = tuple(
    c for c in _COLUMNS if c not in ("arn", "execution_arn", "state_name", "created", "version")
)

_PROGRESS = ("status", "item_counts", "execution_counts", "stop_date", "updated")


class MapRuns(Repository):
    """``store.map_runs``."""

    def create(self, run: MapRun) -> MapRun:
        with self._write() as conn:
            if not self._db.insert_if_absent(conn, map_runs, as_row(run, _COLUMNS)):
                raise AlreadyExists("map run", run.arn)
        return run

    def put(self, run: MapRun) -> None:
        """Insert, or update the progress of, a run (the engine writes the interpreter's latest
        record in the transaction of the step that changed it). Only progress is overwritten:
        status, counts, stop date; the configuration that UpdateMapRun may have changed
        stays, and ``version`` grows so an UpdateMapRun racing with it gets :class:`Conflict`."""
        row = as_row(run, _COLUMNS)
        stmt = self._db.insert(map_runs).values(row)
        stmt = stmt.on_conflict_do_update(
            index_elements=[map_runs.c.arn],
            set_={
                **{n: stmt.excluded[n] for n in _PROGRESS},
                "version": map_runs.c.version + 1,
            },
        )
        with self._write() as conn:
            conn.execute(stmt)

    def get(self, arn: str) -> MapRun:
        with self._read() as conn:
            row = conn.execute(sa.select(map_runs).where(map_runs.c.arn == arn)).first()
        if row is None:
            raise NotFound("map run", arn)
        return to_record(MapRun, row)

    def for_execution(self, execution_arn: str) -> list[MapRun]:
        query = (
            sa.select(map_runs)
            .where(map_runs.c.execution_arn == execution_arn)
            .order_by(map_runs.c.start_date, map_runs.c.arn)
        )
        with self._read() as conn:
            return to_records(MapRun, conn.execute(query))

    def save(self, run: MapRun) -> MapRun:
        """Optimistic write (counts, status, configuration); :class:`Conflict` if saved meanwhile."""
        saved = replace(run, version=run.version + 1)
        with self._write() as conn:
            result = conn.execute(
                map_runs.update()
                .where(map_runs.c.arn == run.arn)
                .where(map_runs.c.version == run.version)
                .values({**{n: getattr(saved, n) for n in _MUTABLE}, "version": saved.version})
            )
            if result.rowcount != 1:
                raise Conflict("map run", run.arn, run.version)
        return saved


class Tags(Repository):
    """``store.tags``: key/value tags of any ARN (TagResource, UntagResource, ListTags...)."""

    def put(self, resource_arn: str, values: Mapping[str, str]) -> None:
        """Add or overwrite tags."""
        if not values:
            return
        stmt = self._db.insert(tags).values(
            [{"resource_arn": resource_arn, "key": k, "value": v} for k, v in values.items()]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[tags.c.resource_arn, tags.c.key],
            set_={"value": stmt.excluded.value},
        )
        with self._write() as conn:
            conn.execute(stmt)

    def remove(self, resource_arn: str, keys: Sequence[str]) -> int:
        """Remove the named tags (absent keys are ignored, as UntagResource does)."""
        with self._write() as conn:
            result = conn.execute(
                tags.delete()
                .where(tags.c.resource_arn == resource_arn)
                .where(tags.c.key.in_(list(keys)))
            )
            return result.rowcount

    def get(self, resource_arn: str) -> list[Tag]:
        query = sa.select(tags).where(tags.c.resource_arn == resource_arn).order_by(tags.c.key)
        with self._read() as conn:
            return to_records(Tag, conn.execute(query))

    def clear(self, resource_arn: str) -> int:
        """Drop every tag of a deleted resource."""
        with self._write() as conn:
            return conn.execute(tags.delete().where(tags.c.resource_arn == resource_arn)).rowcount
