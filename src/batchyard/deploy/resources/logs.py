"""Log groups: created with their retention, retention updated, deleted when the project
created them and the file no longer declares them (their events go with them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from batchyard.deploy.changes import Change, Context
from batchyard.deploy.model import LogGroup


def log_groups(ctx: Context) -> Iterator[Change]:
    logs = ctx.c.logs
    existing: dict[str, dict[str, Any]] = {
        group["logGroupName"]: group
        for page in logs.get_paginator("describe_log_groups").paginate()
        for group in page["logGroups"]
    }
    wanted = dict(ctx.project.log_groups)
    for machine in ctx.project.state_machines.values():
        if machine.log_group and machine.log_group not in wanted:
            wanted[machine.log_group] = LogGroup(machine.log_group)
    for name, group in wanted.items():
        current = existing.get(name)
        if current is None:
            yield Change(
                "create",
                "log group",
                name,
                run=_create_log_group(logs, name, group.retention_days, ctx.tags),
            )
            continue
        have = current.get("retentionInDays")
        if group.retention_days is not None and have != group.retention_days:
            yield Change(
                "update",
                "log group",
                name,
                [f"retention_days: {have} -> {group.retention_days}"],
                run=partial(
                    logs.put_retention_policy,
                    logGroupName=name,
                    retentionInDays=group.retention_days,
                ),
            )
        else:
            yield Change("unchanged", "log group", name)
    for name in existing:
        if name in wanted:
            continue
        tags = logs.list_tags_log_group(logGroupName=name).get("tags", {})
        if ctx.owned(tags):
            yield Change(
                "delete",
                "log group",
                name,
                run=partial(logs.delete_log_group, logGroupName=name),
            )


def _create_log_group(
    logs: Any, name: str, retention: int | None, tags: dict[str, str]
) -> Callable[[], None]:
    def run() -> None:
        logs.create_log_group(logGroupName=name, tags=tags)
        if retention is not None:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention)

    return run
