"""Leased work items: how replicas share executions, schedule slots and any other work.

One row per ``(kind, key)``. An item is claimable when ``available_at <= now``. Claiming sets
``lease_owner`` and ``lease_expires = now + lease`` and *also* moves ``available_at`` to
``lease_expires``: a held item is simply not available until its lease runs out, so one indexed
range scan finds both fresh items and items whose owner died, and nothing has to "expire" them.

Every claim increments ``lease_version``; renew, release and complete are conditional on
``(lease_owner, lease_version)``, so a replica that paused past its lease and lost the item to
another replica can no longer touch it (it gets :class:`LeaseLost`). ``wake`` while an item is
held only bumps ``signal``; release/complete compare it with the value seen at claim time and
keep the item available if a wake-up arrived meanwhile, so no wake-up is ever lost.

Claiming locks candidate rows with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (concurrent
claimers take disjoint rows without waiting); on SQLite the write transaction itself is
exclusive (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from batchyard.store.errors import LeaseLost
from batchyard.store.records import JSON, Claim
from batchyard.store.repository import Repository
from batchyard.store.schema import work

_W = work.c


class Work(Repository):
    """``store.work``."""

    def enqueue(
        self,
        kind: str,
        key: str,
        *,
        payload: JSON = None,
        available_at: datetime | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Add an item; ``False`` (and no change) if ``(kind, key)`` is already queued."""
        moment = self._now(now)
        row = {
            "kind": kind,
            "key": key,
            "payload": payload,
            "available_at": available_at or moment,
            "created": moment,
            "updated": moment,
        }
        with self._write() as conn:
            return self._db.insert_if_absent(conn, work, row)

    def wake(self, kind: str, key: str, at: datetime | None = None) -> bool:
        """Make the item available by ``at`` (default now), or, if it is held, tell the holder's
        release to keep it available. ``False`` if there is no such item."""
        moment = self._now(at)
        bind = sa.bindparam("at", moment, type_=_W.available_at.type)
        with self._write() as conn:
            result = conn.execute(
                work.update()
                .where(_W.kind == kind)
                .where(_W.key == key)
                .values(
                    signal=_W.signal + 1,
                    available_at=sa.case(
                        (sa.and_(_W.lease_owner.is_(None), _W.available_at > bind), bind),
                        else_=_W.available_at,
                    ),
                )
            )
            return result.rowcount == 1

    def notify(
        self, kind: str, key: str, *, at: datetime | None = None, payload: JSON = None
    ) -> None:
        """Make sure ``(kind, key)`` is looked at by ``at`` (default now): enqueue it, or wake it
        if it exists. ``payload`` is only used when the item is created."""
        # The loop closes the gap where the item is completed between the two statements.
        while not (
            self.enqueue(kind, key, payload=payload, available_at=at, now=at)
            or self.wake(kind, key, at)
        ):
            pass

    def claim(
        self,
        kind: str,
        owner: str,
        lease_seconds: float,
        limit: int = 1,
        now: datetime | None = None,
    ) -> list[Claim]:
        """Lease up to ``limit`` available items of ``kind`` to ``owner``, oldest first.

        Items whose previous owner's lease expired are available again and are taken over.
        """
        moment = self._now(now)
        expires = moment + timedelta(seconds=lease_seconds)
        available = (
            sa.select(_W.key)
            .where(_W.kind == kind)
            .where(_W.available_at <= moment)
            .order_by(_W.available_at, _W.key)
            .limit(limit)
        )
        claims: list[Claim] = []
        if self._conn is None:
            # Idle polling must not queue for SQLite's single write lock: look first, in a
            # read transaction, and only take the lock when there is something to claim.
            with self._read() as conn:
                if conn.execute(available.limit(1)).first() is None:
                    return claims
        candidates = self._db.lock_rows(available)
        with self._write() as conn:
            keys = [row[0] for row in conn.execute(candidates)]
            if not keys:
                return claims
            conn.execute(
                work.update()
                .where(_W.kind == kind)
                .where(_W.key.in_(keys))
                .values(
                    lease_owner=owner,
                    lease_expires=expires,
                    available_at=expires,
                    lease_version=_W.lease_version + 1,
                    attempts=_W.attempts + 1,
                    updated=moment,
                )
            )
            rows = conn.execute(
                sa.select(_W.key, _W.lease_version, _W.signal, _W.attempts, _W.payload)
                .where(_W.kind == kind)
                .where(_W.key.in_(keys))
                .order_by(_W.key)
            )
            claims = [
                Claim(kind, key, owner, expires, version, signal, attempts, payload)
                for key, version, signal, attempts, payload in rows
            ]
        return claims

    def renew(self, claim: Claim, lease_seconds: float, now: datetime | None = None) -> Claim:
        """Extend a held lease; :class:`LeaseLost` if another owner claimed the item."""
        moment = self._now(now)
        expires = moment + timedelta(seconds=lease_seconds)
        with self._write() as conn:
            result = conn.execute(
                self._held(claim).values(
                    lease_expires=expires, available_at=expires, updated=moment
                )
            )
        if result.rowcount != 1:
            raise LeaseLost(claim.kind, claim.key, claim.owner)
        return Claim(
            claim.kind,
            claim.key,
            claim.owner,
            expires,
            claim.lease_version,
            claim.signal,
            claim.attempts,
            claim.payload,
        )

    def release(
        self,
        claim: Claim,
        *,
        available_at: datetime | None = None,
        payload: JSON = None,
        now: datetime | None = None,
    ) -> None:
        """Give the item back, available again at ``available_at`` (default now); a wake-up
        received while it was held makes it available now whatever ``available_at`` says.
        ``payload`` replaces the stored payload when given."""
        moment = self._now(now)
        later = available_at or moment
        bind = sa.bindparam("later", later, type_=_W.available_at.type)
        changes: dict[str, object] = {
            "lease_owner": None,
            "lease_expires": None,
            "updated": moment,
            "available_at": sa.case(
                (_W.signal == claim.signal, bind),
                else_=sa.bindparam("soon", min(later, moment), type_=_W.available_at.type),
            ),
        }
        if payload is not None:
            changes["payload"] = payload
        with self._write() as conn:
            result = conn.execute(self._held(claim).values(changes))
        if result.rowcount != 1:
            raise LeaseLost(claim.kind, claim.key, claim.owner)

    def reclaim_owner(self, owner: str, now: datetime | None = None) -> int:
        """Make every item still leased to ``owner`` available now; the number of items.

        For a process that has just started under a stable owner id (one per data directory,
        held with a file lock): leases under that id belong to its predecessor, which is dead,
        so its work need not wait for the leases to expire.
        """
        moment = self._now(now)
        with self._write() as conn:
            result = conn.execute(
                work.update()
                .where(_W.lease_owner == owner)
                .values(lease_owner=None, lease_expires=None, available_at=moment, updated=moment)
            )
        return result.rowcount

    def complete(self, claim: Claim, now: datetime | None = None) -> bool:
        """Remove a finished item. If a wake-up arrived while it was held, the item is kept and
        released for another round instead, and ``False`` is returned."""
        with self._write() as conn:
            deleted = conn.execute(
                work.delete()
                .where(_W.kind == claim.kind)
                .where(_W.key == claim.key)
                .where(_W.lease_owner == claim.owner)
                .where(_W.lease_version == claim.lease_version)
                .where(_W.signal == claim.signal)
            ).rowcount
        if deleted == 1:
            return True
        self.release(claim, now=now)  # raises LeaseLost if it is not ours any more
        return False

    def get(self, kind: str, key: str) -> tuple[str | None, datetime] | None:
        """``(lease_owner, available_at)`` of an item, or ``None`` (for monitoring and tests)."""
        with self._read() as conn:
            row = conn.execute(
                sa.select(_W.lease_owner, _W.available_at)
                .where(_W.kind == kind)
                .where(_W.key == key)
            ).first()
        return None if row is None else (row[0], row[1])

    def _held(self, claim: Claim) -> sa.Update:
        return (
            work.update()
            .where(_W.kind == claim.kind)
            .where(_W.key == claim.key)
            .where(_W.lease_owner == claim.owner)
            .where(_W.lease_version == claim.lease_version)
        )
