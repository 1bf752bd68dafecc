"""What the console shows that no AWS operation answers, from the components' Python APIs.

Next fire times come from :mod:`batchyard.scheduler.expressions`; a schedule's slot history
from the scheduler's slot table; a task's log stream from its task definition's ``awslogs``
options; a function's invocations from the START/END/REPORT lines Lambda writes to
``/aws/lambda/<name>``. Each returns an empty answer (never an error) when the component or
its data is absent, so the pages degrade to "nothing yet" instead of failing.
"""

from __future__ import annotations

import importlib
import logging
import re
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from batchyard.logs.errors import LogsError
from batchyard.web.context import Console, iso

log = logging.getLogger("batchyard.web")

_REPORT = re.compile(
    r"REPORT RequestId: (?P<id>\S+)\s+Duration: (?P<duration>[\d.]+) ms"
    r"(?:\s+Billed Duration: (?P<billed>[\d.]+) ms)?"
    r"(?:\s+Memory Size: (?P<memory>\d+) MB)?"
    r"(?:\s+Max Memory Used: (?P<used>\d+) MB)?"
)
_START = re.compile(r"START RequestId: (?P<id>\S+)")


def next_fire_times(console: Console, schedule: dict[str, Any], count: int) -> list[str]:
    """The next ``count`` fire times of a GetSchedule answer (ISO 8601 UTC)."""
    if schedule.get("State") == "DISABLED":
        return []
    try:
        expressions = importlib.import_module("batchyard.scheduler.expressions")
        parsed = expressions.parse(
            schedule["ScheduleExpression"],
            schedule.get("ScheduleExpressionTimezone"),
            start=schedule.get("StartDate"),
            end=schedule.get("EndDate"),
        )
    except (ImportError, ValueError):
        return []
    now = datetime.now(UTC)
    anchor = schedule.get("StartDate") or schedule.get("CreationDate")
    found: list[str] = []
    for moment in parsed.fire_times(now, anchor=anchor):
        found.append(iso(moment))
        if len(found) >= count:
            break
    return found


def slot_history(console: Console, schedule: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """The schedule's claimed slots, newest first, as the scheduler's table holds them."""
    backend = console.stepfunctions
    if backend is None:
        return []
    try:
        tables = importlib.import_module("batchyard.scheduler.tables")
    except ImportError:
        return []
    table = getattr(tables, "scheduler_slots", None) or getattr(tables, "slots", None)
    if not isinstance(table, sa.Table):
        return []
    columns = table.c
    key = next((c for c in ("schedule_arn", "schedule") if c in columns), None)
    order = next(
        (c for c in ("slot", "nominal", "fire_time", "scheduled_time") if c in columns), None
    )
    if key is None or order is None:
        return []
    query = (
        sa.select(table)
        .where(columns[key] == schedule.get("Arn"))
        .order_by(columns[order].desc())
        .limit(limit)
    )
    try:
        with backend.store.db.read() as conn:
            rows = [dict(row._mapping) for row in conn.execute(query)]
    except sa.exc.SQLAlchemyError:
        log.exception("reading the slot history failed")
        return []
    return rows


async def task_log_stream(
    console: Console, cluster: str | None, task_arn: str
) -> tuple[str, str] | None:
    """(log group, stream) of the task's first container with ``awslogs``, else None."""
    params: dict[str, Any] = {"tasks": [task_arn]}
    if cluster:
        params["cluster"] = cluster
    described = await console.aws.call("ecs", "DescribeTasks", params)
    tasks = described.get("tasks") or []
    if not tasks:
        return None
    task = tasks[0]
    definition = await console.aws.call(
        "ecs", "DescribeTaskDefinition", {"taskDefinition": task["taskDefinitionArn"]}
    )
    task_id = str(task["taskArn"]).rsplit("/", 1)[-1]
    for container in definition["taskDefinition"].get("containerDefinitions", []):
        config = container.get("logConfiguration") or {}
        options = config.get("options") or {}
        if config.get("logDriver") == "awslogs" and "awslogs-group" in options:
            prefix = options.get("awslogs-stream-prefix")
            # ECS's awslogs stream name: prefix/container-name/task-id.
            stream = f"{prefix}/{container['name']}/{task_id}" if prefix else task_id
            return str(options["awslogs-group"]), stream
    return None


def invocations(console: Console, function_name: str, limit: int) -> list[dict[str, Any]]:
    """Recent invocations from ``/aws/lambda/<name>``: request id, start, duration, memory."""
    logs = console.logs
    if logs is None:
        return []
    try:
        page = logs.filter_log_events(
            f"/aws/lambda/{function_name}", filter_pattern='?"START RequestId" ?"REPORT RequestId"'
        )
    except LogsError:
        return []
    found: dict[str, dict[str, Any]] = {}
    for event in page.get("events", []):
        message = str(event.get("message", ""))
        if (start := _START.search(message)) is not None:
            found.setdefault(start["id"], {"requestId": start["id"]})["start"] = event["timestamp"]
        elif (report := _REPORT.search(message)) is not None:
            item = found.setdefault(report["id"], {"requestId": report["id"]})
            item["durationMs"] = float(report["duration"])
            item["end"] = event["timestamp"]
            if report["used"]:
                item["maxMemoryUsedMb"] = int(report["used"])
            if report["memory"]:
                item["memorySizeMb"] = int(report["memory"])
            item["logStream"] = event.get("logStreamName")
    items = sorted(found.values(), key=lambda i: i.get("start") or i.get("end") or 0, reverse=True)
    return items[:limit]
