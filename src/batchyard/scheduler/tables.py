"""The scheduler's tables (created by migration ``0005_scheduler``).

* ``scheduler_groups``: schedule groups and their tags (AWS tags only groups; batchyard's
  ``batchyard:*`` policy tags live here).
* ``schedules``: one row per schedule; ``next_slot`` is the next nominal fire time that no
  replica has claimed yet, ``version`` an optimistic lock for UpdateSchedule.
* ``scheduler_slots``: the ledger, one row per ``(schedule_id, slot)`` — the primary key is the
  exactly-once guarantee. A PENDING slot is claimable once ``available_at <= now``: claiming
  moves ``available_at`` to the end of the lease, so a slot whose replica died becomes
  claimable again by itself (the same lease scheme as ``store.work``).
* ``scheduler_dead_letters``: deliveries that failed for good, per dead-letter queue ARN.
"""

from __future__ import annotations

import sqlalchemy as sa

from batchyard.store.schema import ARN, NAME, STATUS, UtcMillis, metadata

scheduler_groups = sa.Table(
    "scheduler_groups",
    metadata,
    sa.Column("name", NAME, primary_key=True),
    sa.Column("arn", ARN, nullable=False),
    sa.Column("state", STATUS, nullable=False),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("created", UtcMillis(), nullable=False),
    sa.Column("updated", UtcMillis(), nullable=False),
)

schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("group_name", NAME, nullable=False),
    sa.Column("name", NAME, nullable=False),
    sa.Column("arn", ARN, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("expression", sa.String(256), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("start_date", UtcMillis(), nullable=True),
    sa.Column("end_date", UtcMillis(), nullable=True),
    sa.Column("state", STATUS, nullable=False),
    sa.Column("flexible_window", sa.JSON, nullable=False),
    sa.Column("action_after_completion", STATUS, nullable=False),
    sa.Column("kms_key_arn", ARN, nullable=True),
    sa.Column("client_token", sa.String(64), nullable=True),  # CreateSchedule's, for retries
    sa.Column("target", sa.JSON, nullable=False),
    sa.Column("anchor", UtcMillis(), nullable=False),  # where rate() counts from
    sa.Column("next_slot", UtcMillis(), nullable=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created", UtcMillis(), nullable=False),
    sa.Column("updated", UtcMillis(), nullable=False),
    sa.UniqueConstraint("group_name", "name"),
    sa.Index("ix_schedules_due", "state", "next_slot"),
)

scheduler_slots = sa.Table(
    "scheduler_slots",
    metadata,
    sa.Column("schedule_id", sa.String(64), primary_key=True),
    sa.Column("slot", UtcMillis(), primary_key=True, autoincrement=False),
    sa.Column("schedule_arn", ARN, nullable=False),
    sa.Column("due_at", UtcMillis(), nullable=False),  # slot + flexible-window offset
    sa.Column("status", STATUS, nullable=False),  # PENDING STARTED SKIPPED FAILED DEAD_LETTERED
    sa.Column("available_at", UtcMillis(), nullable=True),  # NULL once the slot is settled
    sa.Column("lease_owner", sa.String(128), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("target_ref", ARN, nullable=True),  # execution ARN, task ARN, request id
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("settled", UtcMillis(), nullable=True),
    sa.Column("created", UtcMillis(), nullable=False),
    sa.Column("updated", UtcMillis(), nullable=False),
    sa.Index("ix_scheduler_slots_claimable", "status", "available_at"),
    sa.Index("ix_scheduler_slots_arn", "schedule_arn", "slot"),
)

scheduler_dead_letters = sa.Table(
    "scheduler_dead_letters",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("queue_arn", ARN, nullable=False),
    sa.Column("schedule_arn", ARN, nullable=False),
    sa.Column("schedule_id", sa.String(64), nullable=False),
    sa.Column("slot", UtcMillis(), nullable=False),
    sa.Column("target", sa.JSON, nullable=False),
    sa.Column("input", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created", UtcMillis(), nullable=False),
    sa.Column("replayed", UtcMillis(), nullable=True),
    sa.Column("replay_ref", ARN, nullable=True),
    sa.UniqueConstraint("schedule_id", "slot"),
    sa.Index("ix_scheduler_dead_letters_queue", "queue_arn", "created"),
)
