"""SQL of the scheduler: groups, schedules, the slot ledger and dead letters.

Built like the store's repositories: ``SchedulerRepo(store.db)`` runs each call in its own
transaction, ``SchedulerRepo(store.db, tx.connection)`` inside ``store.transaction()``.
Nothing here decides policy; ``service.py`` does, inside the transactions it opens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from batchyard.scheduler.records import (
    PENDING,
    DeadLetter,
    ScheduleGroup,
    ScheduleRecord,
    Slot,
)
from batchyard.scheduler.tables import (
    scheduler_dead_letters,
    scheduler_groups,
    scheduler_slots,
    schedules,
)
from batchyard.store.repository import Repository, decode_token, encode_token, to_record, to_records

_G = scheduler_groups.c
_S = schedules.c
_L = scheduler_slots.c
_D = scheduler_dead_letters.c
_ADVANCE = (
    schedules.update()
    .where(_S.id == sa.bindparam("b_id"))
    .where(_S.version == sa.bindparam("b_version"))
    .values(next_slot=sa.bindparam("b_next", type_=_S.next_slot.type), version=_S.version + 1)
)


class SchedulerRepo(Repository):
    # ------------------------------------------------------------------ groups

    def insert_group(self, group: ScheduleGroup) -> bool:
        """``False`` if a group of that name exists."""
        with self._write() as conn:
            return self._db.insert_if_absent(conn, scheduler_groups, vars(group))

    def find_group(self, name: str) -> ScheduleGroup | None:
        with self._read() as conn:
            row = conn.execute(sa.select(scheduler_groups).where(_G.name == name)).first()
        return to_record(ScheduleGroup, row) if row is not None else None

    def list_groups(
        self, prefix: str | None, token: str | None, limit: int
    ) -> tuple[list[ScheduleGroup], str | None]:
        query = sa.select(scheduler_groups).order_by(_G.name).limit(limit + 1)
        if prefix:
            query = query.where(_G.name.startswith(prefix, autoescape=True))
        if token:
            query = query.where(_G.name > decode_token(token)[0])
        with self._read() as conn:
            rows = to_records(ScheduleGroup, conn.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, encode_token(rows[-1].name) if more else None

    def set_group_tags(self, name: str, tags: dict[str, str], now: datetime) -> bool:
        with self._write() as conn:
            result = conn.execute(
                scheduler_groups.update().where(_G.name == name).values(tags=tags, updated=now)
            )
            return result.rowcount == 1

    def delete_group(self, name: str) -> list[str]:
        """Delete a group and its schedules; the deleted schedules' ids."""
        with self._write() as conn:
            ids = [r[0] for r in conn.execute(sa.select(_S.id).where(_S.group_name == name))]
            conn.execute(schedules.delete().where(_S.group_name == name))
            conn.execute(scheduler_groups.delete().where(_G.name == name))
        return ids

    # ------------------------------------------------------------------ schedules

    def insert_schedule(self, record: ScheduleRecord) -> bool:
        """``False`` if the group already has a schedule of that name."""
        with self._write() as conn:
            exists = conn.execute(
                sa.select(_S.id)
                .where(_S.group_name == record.group_name)
                .where(_S.name == record.name)
            ).first()
            if exists is not None:
                return False
            return self._db.insert_if_absent(conn, schedules, vars(record))

    def find_schedule(self, group: str, name: str) -> ScheduleRecord | None:
        with self._read() as conn:
            row = conn.execute(
                sa.select(schedules).where(_S.group_name == group).where(_S.name == name)
            ).first()
        return to_record(ScheduleRecord, row) if row is not None else None

    def schedules_by_id(self, ids: list[str]) -> dict[str, ScheduleRecord]:
        if not ids:
            return {}
        with self._read() as conn:
            rows = conn.execute(sa.select(schedules).where(_S.id.in_(ids)))
            return {r.id: r for r in to_records(ScheduleRecord, rows)}

    def freshness(self, ids: list[str]) -> dict[str, tuple[datetime, str]]:
        """``updated`` and ``state`` of each schedule that still exists (cheap: no JSON)."""
        if not ids:
            return {}
        with self._read() as conn:
            rows = conn.execute(sa.select(_S.id, _S.updated, _S.state).where(_S.id.in_(ids)))
            return {str(r[0]): (r[1], str(r[2])) for r in rows}

    def replace_schedule(self, record: ScheduleRecord, seen_version: int) -> bool:
        """Write ``record`` over the row at ``seen_version`` (``False`` if it moved on)."""
        values = {
            k: v for k, v in vars(record).items() if k not in ("id", "created", "client_token")
        }
        with self._write() as conn:
            result = conn.execute(
                schedules.update()
                .where(_S.id == record.id)
                .where(_S.version == seen_version)
                .values(**values)
            )
            return result.rowcount == 1

    def delete_schedule(self, schedule_id: str) -> bool:
        with self._write() as conn:
            return conn.execute(schedules.delete().where(_S.id == schedule_id)).rowcount == 1

    def list_schedules(
        self,
        *,
        group: str | None,
        prefix: str | None,
        state: str | None,
        token: str | None,
        limit: int,
    ) -> tuple[list[ScheduleRecord], str | None]:
        query = sa.select(schedules).order_by(_S.group_name, _S.name).limit(limit + 1)
        if group is not None:
            query = query.where(_S.group_name == group)
        if prefix:
            query = query.where(_S.name.startswith(prefix, autoescape=True))
        if state is not None:
            query = query.where(_S.state == state)
        if token:
            last_group, last_name = decode_token(token)
            query = query.where(
                sa.or_(
                    _S.group_name > last_group,
                    sa.and_(_S.group_name == last_group, _S.name > last_name),
                )
            )
        with self._read() as conn:
            rows = to_records(ScheduleRecord, conn.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, encode_token(rows[-1].group_name, rows[-1].name) if more else None

    # ------------------------------------------------------------------ claiming (in a tx)

    def lock_due_schedules(self, horizon: datetime, limit: int) -> list[ScheduleRecord]:
        """Enabled schedules whose next slot is due by ``horizon``, locked for this
        transaction (rows other replicas hold are skipped)."""
        query = (
            sa.select(schedules)
            .where(_S.state == "ENABLED")
            .where(_S.next_slot <= horizon)
            .order_by(_S.next_slot)
            .limit(limit)
        )
        with self._write() as conn:
            return to_records(ScheduleRecord, conn.execute(self._db.lock_rows(query)))

    def advance_many(self, moves: list[tuple[str, int, datetime | None]]) -> None:
        """Move each ``(schedule id, seen version)`` to its next slot (one executemany)."""
        if not moves:
            return
        rows = [{"b_id": i, "b_version": v, "b_next": n} for i, v, n in moves]
        with self._write() as conn:
            conn.execute(_ADVANCE, rows)

    def insert_slots(self, slots: list[Slot]) -> set[tuple[str, datetime]]:
        """Insert slot rows; the keys of those inserted (others existed: claimed already)."""
        if not slots:
            return set()
        stmt = (
            self._db.insert(scheduler_slots)
            .on_conflict_do_nothing()
            .returning(_L.schedule_id, _L.slot, sort_by_parameter_order=True)
        )
        with self._write() as conn:
            rows = conn.execute(stmt, [vars(s) for s in slots])
            return {(r[0], r[1]) for r in rows}

    def claim_slots(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Slot]:
        """Take PENDING slots that are claimable now (their holder died, or a retry is due)."""
        query = (
            sa.select(_L.schedule_id, _L.slot)
            .where(_L.status == PENDING)
            .where(_L.available_at <= now)
            .order_by(_L.available_at, _L.slot)
            .limit(limit)
        )
        with self._write() as conn:
            keys = [(r[0], r[1]) for r in conn.execute(self._db.lock_rows(query))]
            claimed: list[Slot] = []
            for schedule_id, slot in keys:
                conn.execute(
                    scheduler_slots.update()
                    .where(_L.schedule_id == schedule_id)
                    .where(_L.slot == slot)
                    .values(lease_owner=owner, available_at=lease_until, updated=now)
                )
                row = conn.execute(
                    sa.select(scheduler_slots)
                    .where(_L.schedule_id == schedule_id)
                    .where(_L.slot == slot)
                ).one()
                claimed.append(to_record(Slot, row))
            return claimed

    def settle_many(self, owner: str, outcomes: list[tuple[Slot, dict[str, Any]]]) -> int:
        """Record outcomes of slots ``owner`` still holds; how many were recorded (the rest
        were lost: their lease ran out and another replica took them)."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for slot, values in outcomes:
            keys = tuple(sorted(values))
            row = {f"v_{k}": v for k, v in values.items()}
            row.update(b_id=slot.schedule_id, b_slot=slot.slot, b_owner=owner)
            groups.setdefault(keys, []).append(row)
        recorded = 0
        with self._write() as conn:
            for keys, rows in groups.items():
                stmt = (
                    scheduler_slots.update()
                    .where(_L.schedule_id == sa.bindparam("b_id"))
                    .where(_L.slot == sa.bindparam("b_slot", type_=_L.slot.type))
                    .where(_L.lease_owner == sa.bindparam("b_owner"))
                    .where(_L.status == PENDING)
                    .values({k: sa.bindparam(f"v_{k}", type_=_L[k].type) for k in keys})
                )
                result = conn.execute(stmt, rows)
                recorded += max(result.rowcount, 0)
        return recorded

    def next_claimable(self) -> datetime | None:
        with self._read() as conn:
            value = conn.execute(
                sa.select(sa.func.min(_L.available_at)).where(_L.status == PENDING)
            ).scalar()
        return _instant(value)

    def next_due(self) -> datetime | None:
        with self._read() as conn:
            value = conn.execute(
                sa.select(sa.func.min(_S.next_slot)).where(_S.state == "ENABLED")
            ).scalar()
        return _instant(value)

    # ------------------------------------------------------------------ history

    def slots(self, schedule_arn: str, limit: int) -> list[Slot]:
        """The newest ``limit`` slots of a schedule, newest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(scheduler_slots)
                .where(_L.schedule_arn == schedule_arn)
                .order_by(_L.slot.desc())
                .limit(limit)
            )
            return to_records(Slot, rows)

    def running_count(self, status: str) -> int:
        with self._read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(scheduler_slots)
                    .where(_L.status == status)
                ).scalar_one()
            )

    # ------------------------------------------------------------------ dead letters

    def insert_dead_letter(self, letter: DeadLetter) -> bool:
        with self._write() as conn:
            stmt = (
                self._db.insert(scheduler_dead_letters)
                .values(vars(letter))
                .on_conflict_do_nothing()
                .returning(_D.id)
            )
            return conn.execute(stmt).first() is not None

    def dead_letters(self, queue_arn: str | None, limit: int) -> list[DeadLetter]:
        query = sa.select(scheduler_dead_letters).order_by(_D.created.desc()).limit(limit)
        if queue_arn is not None:
            query = query.where(_D.queue_arn == queue_arn)
        with self._read() as conn:
            return to_records(DeadLetter, conn.execute(query))

    def find_dead_letter(self, letter_id: str) -> DeadLetter | None:
        with self._read() as conn:
            row = conn.execute(sa.select(scheduler_dead_letters).where(_D.id == letter_id)).first()
        return to_record(DeadLetter, row) if row is not None else None

    def mark_replayed(self, letter_id: str, now: datetime, ref: str) -> None:
        with self._write() as conn:
            conn.execute(
                scheduler_dead_letters.update()
                .where(_D.id == letter_id)
                .values(replayed=now, replay_ref=ref)
            )


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    from batchyard.store.schema import from_millis

    return from_millis(int(value))
