"""History events in exactly the shape of ``GetExecutionHistory``.

Every payload (input, output, parameters, assigned variables) is serialised once, as AWS prints
it: compact JSON (``{"a":1}``), key order kept, non-ASCII left as is. The log also enforces the
256 KiB payload quota, because the serialised text is what the quota measures.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from batchyard.asl.errors import StatesError

# Per-call ``json.dumps(..., separators=...)`` builds a new encoder every time; one shared
# encoder keeps the C fast path and halves serialisation time in the hot loop.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
to_json = _ENCODER.encode

MAX_PAYLOAD_BYTES = 262_144
NOT_TRUNCATED: dict[str, bool] = {"truncated": False}


def over_limit(text: str) -> bool:
    """True when ``text`` is over the 256 KiB quota, in UTF-8 bytes."""
    n = len(text)
    if n * 4 <= MAX_PAYLOAD_BYTES:  # cannot be over: at most 4 bytes per code point
        return False
    if n > MAX_PAYLOAD_BYTES:
        return True
    return len(text.encode("utf-8")) > MAX_PAYLOAD_BYTES


class TerminalError(StatesError):
    """An error no Retry or Catch may handle (a state's own output over the quota)."""


def data_limit_error(state_name: str, *, terminal: bool = True) -> StatesError:
    cls = TerminalError if terminal else StatesError
    return cls(
        "States.DataLimitExceeded",
        f"The state/task '{state_name}' returned a result with a size exceeding the maximum "
        "number of bytes service limit.",
    )


class EventLog:
    """The execution's history: append-only, ids from 1, ``now`` set by the caller."""

    __slots__ = ("_time", "events")

    def __init__(self, now: datetime, *, shared_time: list[datetime] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        # Logs of one execution (its own, its distributed Map children's) share one "now".
        self._time = shared_time if shared_time is not None else [now]
        self._time[0] = now

    @property
    def now(self) -> datetime:
        return self._time[0]

    @now.setter
    def now(self, value: datetime) -> None:
        self._time[0] = value

    def child(self) -> EventLog:
        """A separate history (a child execution's) on the same clock."""
        return EventLog(self._time[0], shared_time=self._time)

    def add(self, type_: str, previous: int, key: str | None = None, details: Any = None) -> int:
        event_id = len(self.events) + 1
        event: dict[str, Any] = {
            "id": event_id,
            "previousEventId": previous,
            "timestamp": self._time[0],
            "type": type_,
        }
        if key is not None:
            event[key] = details
        self.events.append(event)
        return event_id

    def entered(self, type_: str, previous: int, name: str, input_text: str) -> int:
        return self.add(
            type_,
            previous,
            "stateEnteredEventDetails",
            {"name": name, "input": input_text, "inputDetails": NOT_TRUNCATED},
        )

    def exited(
        self,
        type_: str,
        previous: int,
        name: str,
        output_text: str,
        assigned: dict[str, Any] | None = None,
    ) -> int:
        details: dict[str, Any] = {
            "name": name,
            "output": output_text,
            "outputDetails": NOT_TRUNCATED,
        }
        if assigned is not None:
            details["assignedVariables"] = {k: to_json(v) for k, v in assigned.items()}
            details["assignedVariablesDetails"] = NOT_TRUNCATED
        return self.add(type_, previous, "stateExitedEventDetails", details)

    def error_details(self, error: str | None, cause: str | None) -> dict[str, str]:
        """AWS omits ``error``/``cause`` that were never set rather than sending null."""
        details: dict[str, str] = {}
        if error is not None:
            details["error"] = error
        if cause is not None:
            details["cause"] = cause
        return details
