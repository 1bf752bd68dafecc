"""What the console shows that no AWS operation answers, from the components' Python APIs.

Next fire times and a schedule's slot history come from :mod:`batchyard.scheduler`'s public
API; a task's log stream from its task definition's ``awslogs``
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


def _scheduler() -> Any:
    """``batchyard.scheduler`` if this installation has it, else None."""
    try:
        return importlib.import_module("batchyard.scheduler")
    except ImportError:
        return None


def next_fire_times(console: Console, schedule: dict[str, Any], count: int) -> list[str]:
    """The next ``count`` fire times of a GetSchedule answer (ISO 8601 UTC)."""
    scheduler = _scheduler()
    if scheduler is None or schedule.get("State") == "DISABLED":
        return []
    try:
        found = scheduler.next_fire_times(schedule, count)
    except ValueError:  # an expression this version cannot evaluate
        log.warning("no fire times for %s", schedule.get("Arn"), exc_info=True)
        return []
    return [iso(moment) for moment in found]


def slot_history(console: Console, schedule: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """The schedule's slots, newest first: nominal time, status, what it started, why not."""
    scheduler = _scheduler()
    backend = console.stepfunctions
    if scheduler is None or backend is None:
        return []
    slots = scheduler.slot_history(backend.store, str(schedule.get("Arn", "")), limit)
    return [
        {
            "slot": slot.slot,
            "dueAt": slot.due_at,
            "status": slot.status,
            "attempts": slot.attempts,
            "targetRef": slot.target_ref,
            "reason": slot.reason,
            "settled": slot.settled,
        }
        for slot in slots
    ]


async def task_log_stream(
    console: Console, cluster: str | None, task_arn: str
) -> tuple[str, str, str] | None:
    """(log group, stream, task status) of the task's first container with ``awslogs``."""
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
            return str(options["awslogs-group"]), stream, str(task.get("lastStatus", ""))
    return None


def invocations(console: Console, function_name: str, limit: int) -> list[dict[str, Any]]:
    """Recent invocations, newest first.

    The function service's own record (status, error type, cold start) where this server ran
    them; otherwise rebuilt from the START/REPORT lines in ``/aws/lambda/<name>``, which
    outlive a restart and include what other replicas ran.
    """
    found: dict[str, dict[str, Any]] = {}
    for item in _logged_invocations(console, function_name):
        found[item["requestId"]] = item
    if console.functions is not None:
        for summary in console.functions.list_invocations(function_name):
            found[summary.request_id] = {
                **found.get(summary.request_id, {}),
                "requestId": summary.request_id,
                "start": int(summary.started.timestamp() * 1000),
                "durationMs": summary.duration_ms,
                "status": summary.status,
                "errorType": summary.error_type,
                "coldStart": summary.cold_start,
                "invocationType": summary.invocation_type,
                "logStream": summary.log_stream,
            }
    items = sorted(found.values(), key=lambda i: i.get("start") or i.get("end") or 0, reverse=True)
    return items[:limit]


# The newest START/REPORT lines of a function's log group (two per invocation).
_PLATFORM_LINES = (
    "fields @timestamp, @message, @logStream"
    " | filter @message like /^(START|REPORT) RequestId/"
    " | sort @timestamp desc | limit 400"
)
LOOKBACK_S = 30 * 86400


def _logged_invocations(console: Console, function_name: str) -> list[dict[str, Any]]:
    logs = console.logs
    if logs is None:
        return []
    now = logs.now_ms() // 1000
    try:
        result = logs.query(
            _PLATFORM_LINES, [f"/aws/lambda/{function_name}"], now - LOOKBACK_S, now + 60
        )
    except LogsError:
        return []
    found: dict[str, dict[str, Any]] = {}
    for row in result.rows:
        message = row.get("@message", "")
        moment = _millis(row.get("@timestamp", ""))
        if (start := _START.search(message)) is not None:
            found.setdefault(start["id"], {"requestId": start["id"]})["start"] = moment
        elif (report := _REPORT.search(message)) is not None:
            item = found.setdefault(report["id"], {"requestId": report["id"]})
            item["durationMs"] = float(report["duration"])
            item["end"] = moment
            if report["used"]:
                item["maxMemoryUsedMb"] = int(report["used"])
            if report["memory"]:
                item["memorySizeMb"] = int(report["memory"])
            item["logStream"] = row.get("@logStream")
    return list(found.values())


def _millis(timestamp: str) -> int | None:
    """Epoch millis of an Insights ``@timestamp`` (``2026-01-02 03:04:05.678``, UTC)."""
    try:
        moment = datetime.fromisoformat(timestamp.replace(" ", "T")).replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(moment.timestamp() * 1000)
