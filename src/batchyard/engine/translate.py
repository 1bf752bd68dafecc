"""Activity events: the interpreter records every service task as ``Task…`` events; a Task
whose resource is an activity ARN is recorded by AWS as ``Activity…`` events instead.

The engine's activity integration marks its events with resourceType ``ACTIVITY``; this module
rewrites them, in place, right after the input that produced them (so replay rewrites them the
same way). ``ActivityStarted`` comes from the ``started`` input that GetActivityTask posts when
a worker takes the task, with the worker's name.
"""

from __future__ import annotations

from typing import Any

ACTIVITY = "__activity__"


def _scheduled(d: dict[str, Any], _: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {
        "resource": d["resource"],
        "input": d["parameters"],
        "inputDetails": {"truncated": False},
    }
    if "timeoutInSeconds" in d:
        details["timeoutInSeconds"] = d["timeoutInSeconds"]
    if "heartbeatInSeconds" in d:
        details["heartbeatInSeconds"] = d["heartbeatInSeconds"]
    return details


def _started(_: dict[str, Any], worker: str | None) -> dict[str, Any]:
    return {"workerName": worker} if worker is not None else {}


def _succeeded(d: dict[str, Any], _: str | None) -> dict[str, Any]:
    return {"output": d["output"], "outputDetails": d["outputDetails"]}


def _failed(d: dict[str, Any], _: str | None) -> dict[str, Any]:
    return {k: d[k] for k in ("error", "cause") if k in d}


# Task event type -> (activity event type, details builder)
_RENAMES = {
    "TaskScheduled": ("ActivityScheduled", _scheduled),
    "TaskStarted": ("ActivityStarted", _started),
    "TaskSucceeded": ("ActivitySucceeded", _succeeded),
    "TaskFailed": ("ActivityFailed", _failed),
    "TaskTimedOut": ("ActivityTimedOut", _failed),
}


def translate(events: list[dict[str, Any]], start: int, worker: str | None) -> None:
    """Rewrite the activity events among ``events[start:]`` (``worker``: who got the task)."""
    for index in range(start, len(events)):
        event = events[index]
        rename = _RENAMES.get(event["type"])
        if rename is None:
            continue
        old_key = event["type"][0].lower() + event["type"][1:] + "EventDetails"
        details = event.get(old_key)
        if not isinstance(details, dict) or details.get("resourceType") != ACTIVITY:
            continue
        new_type, build = rename
        new_details = build(details, worker)
        rewritten: dict[str, Any] = {
            "id": event["id"],
            "previousEventId": event["previousEventId"],
            "timestamp": event["timestamp"],
            "type": new_type,
        }
        if new_details:
            rewritten[new_type[0].lower() + new_type[1:] + "EventDetails"] = new_details
        events[index] = rewritten
