"""GetExecutionHistory: the engine's persisted events, paged either way.

The store keeps each event's type-specific details object; on the wire it sits under the
member named after the type (``ExecutionStarted`` -> ``executionStartedEventDetails``; every
``*StateEntered``/``*StateExited`` shares ``stateEnteredEventDetails``/``stateExitedEventDetails``).
The page token holds the id of the last event returned, so pages stay stable while the
execution keeps appending.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from batchyard.api.stepfunctions.common import (
    Backend,
    Params,
    Result,
    execution_arn_of,
    get_execution,
    invalid_token,
    page_size,
    with_token,
    wrong_resource,
)
from batchyard.store import HistoryEvent

# Execution data that ``includeExecutionData=false`` leaves out (a task's parameters carry
# its input, and a callback's token).
_DATA_KEYS = ("input", "output", "parameters")


def details_key(event_type: str) -> str:
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    return event_type[0].lower() + event_type[1:] + "EventDetails"


def wire_event(event: HistoryEvent, include_data: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": event.id,
        "previousEventId": event.previous_event_id,
        "timestamp": event.timestamp,
        "type": event.type,
    }
    details = event.details
    if isinstance(details, dict) and all(key.endswith("EventDetails") for key in details):
        members = details  # stored keyed by member name, as the engine does ({} for none)
    elif details is not None:
        members = {details_key(event.type): details}
    else:
        members = {}
    for key, value in members.items():
        if not include_data and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in _DATA_KEYS}
        out[key] = value
    return out


def get_execution_history(backend: Backend, params: Params) -> Result:
    arn = execution_arn_of(params["executionArn"])
    if arn.resource == "express":
        raise wrong_resource("express")
    execution = get_execution(backend, arn.text)
    reverse = bool(params.get("reverseOrder"))
    after = _after(params.get("nextToken"), reverse)
    size = page_size(params)
    events = backend.store.history.page(
        execution.arn, after_id=after, limit=size + 1, reverse=reverse
    )
    more = len(events) > size
    events = events[:size]
    include = params.get("includeExecutionData", True) is not False
    token = _token(events[-1].id, reverse) if more and events else None
    return with_token({"events": [wire_event(e, include) for e in events]}, token)


def _token(last_id: int, reverse: bool) -> str:
    return base64.urlsafe_b64encode(json.dumps({"e": last_id, "r": reverse}).encode()).decode()


def _after(token: str | None, reverse: bool) -> int | None:
    if token is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
        last, same_order = int(value["e"]), value["r"] == reverse
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise invalid_token() from exc
    if not same_order:
        raise invalid_token()
    return last


HANDLERS = {"GetExecutionHistory": get_execution_history}
