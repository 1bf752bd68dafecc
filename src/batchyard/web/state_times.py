"""Time spent in each state over recent executions: which step of a batch run is slow.

The runbook query (``stats earliest(@timestamp), latest(@timestamp) by commands,
execution_arn``) asks this of the logs; here it comes from the histories themselves: each
``*StateEntered`` is paired with the next ``*StateExited`` of the same state name (a state that
runs several times -- a loop, Map iterations -- counts each run).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from batchyard.store import HistoryEvent


@dataclass(frozen=True)
class StateTime:
    name: str
    runs: int
    median_ms: float
    p90_ms: float
    max_ms: float
    total_ms: float

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "runs": self.runs,
            "medianMs": round(self.median_ms),
            "p90Ms": round(self.p90_ms),
            "maxMs": round(self.max_ms),
            "totalMs": round(self.total_ms),
        }


def _name(event: HistoryEvent) -> str | None:
    details = event.details
    if not isinstance(details, dict):
        return None
    for value in details.values():  # stored keyed by member name, or the details themselves
        if isinstance(value, dict) and "name" in value:
            return str(value["name"])
    name = details.get("name")
    return str(name) if name is not None else None


def state_runs(events: Iterable[HistoryEvent]) -> list[tuple[str, float]]:
    """(state name, milliseconds) of every completed run of a state in one history."""
    open_runs: dict[str, list[datetime]] = defaultdict(list)
    runs: list[tuple[str, float]] = []
    for event in events:
        if event.type.endswith("StateEntered"):
            name = _name(event)
            if name is not None:
                open_runs[name].append(event.timestamp)
        elif event.type.endswith("StateExited"):
            name = _name(event)
            if name is not None and open_runs[name]:
                entered = open_runs[name].pop(0)
                runs.append((name, (event.timestamp - entered).total_seconds() * 1000))
    return runs


def _quantile(ordered: Sequence[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summarise(histories: Iterable[Iterable[HistoryEvent]]) -> list[StateTime]:
    """Per state: runs, median, p90, max and total time, slowest total first."""
    times: dict[str, list[float]] = defaultdict(list)
    for events in histories:
        for name, millis in state_runs(events):
            times[name].append(millis)
    summary = []
    for name, values in times.items():
        ordered = sorted(values)
        summary.append(
            StateTime(
                name=name,
                runs=len(ordered),
                median_ms=_quantile(ordered, 0.5),
                p90_ms=_quantile(ordered, 0.9),
                max_ms=ordered[-1],
                total_ms=sum(ordered),
            )
        )
    summary.sort(key=lambda s: s.total_ms, reverse=True)
    return summary
