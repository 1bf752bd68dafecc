"""The ECS tables (created by migration ``0003_ecs``).

Each resource keeps its API document as JSON (``body``: the ``Cluster``, ``TaskDefinition`` or
``Task`` as ECS returns it, timestamps as epoch milliseconds) beside the columns that are
filtered, indexed or updated conditionally. ``ecs_tasks.version`` guards every update of a task
(the same grows in the ECS ``version`` member); ``ecs_run_requests`` makes ``clientToken``
idempotent by its primary key.
"""

from __future__ import annotations

import sqlalchemy as sa

from batchyard.store.schema import ARN, NAME, STATUS, UtcMillis, metadata

ecs_clusters = sa.Table(
    "ecs_clusters",
    metadata,
    sa.Column("name", NAME, primary_key=True),
    sa.Column("arn", ARN, nullable=False),
    sa.Column("status", STATUS, nullable=False),  # ACTIVE | INACTIVE
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("created", UtcMillis(), nullable=False),
)

ecs_task_definitions = sa.Table(
    "ecs_task_definitions",
    metadata,
    sa.Column("family", NAME, primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("arn", ARN, nullable=False),
    sa.Column("status", STATUS, nullable=False),  # ACTIVE | INACTIVE
    sa.Column("body", sa.JSON, nullable=False),
    # Launches attempted so far: the counter of ``batchyard:inject-start-failures``.
    sa.Column("launches", sa.Integer, nullable=False, server_default="0"),
    sa.Column("registered", UtcMillis(), nullable=False),
    sa.Index("ix_ecs_task_definitions_arn", "arn", unique=True),
)

ecs_tasks = sa.Table(
    "ecs_tasks",
    metadata,
    sa.Column("arn", ARN, primary_key=True),
    sa.Column("task_id", sa.String(64), nullable=False),
    sa.Column("cluster", NAME, nullable=False),
    sa.Column("family", NAME, nullable=False),
    sa.Column("started_by", sa.String(128), nullable=True),
    sa.Column("desired_status", STATUS, nullable=False),
    sa.Column("last_status", STATUS, nullable=False),
    sa.Column("created", UtcMillis(), nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # Which launch of its task definition this is (1, 2, ...); set once, before the start.
    sa.Column("launch_number", sa.Integer, nullable=True),
    # Python callers' waiter (e.g. a Step Functions task token) and whether its callback ran.
    sa.Column("waiter", sa.Text, nullable=True),
    sa.Column("delivered", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_ecs_tasks_task_id", "task_id", unique=True),
    sa.Index("ix_ecs_tasks_cluster_created", "cluster", "created"),
)

ecs_run_requests = sa.Table(
    "ecs_run_requests",
    metadata,
    sa.Column("cluster", NAME, primary_key=True),
    sa.Column("client_token", sa.String(64), primary_key=True),
    sa.Column("task_arns", sa.JSON, nullable=False),
    sa.Column("created", UtcMillis(), nullable=False),
)
