"""A Map Run as the Map Run APIs show it: ``DescribeMapRun``, ``ListMapRuns``, ``UpdateMapRun``.

:class:`MapRunRecord` is an immutable value the engine keeps per Map Run and replaces as children
start and finish; :meth:`MapRunRecord.describe` and :meth:`MapRunRecord.list_item` give the API
shapes (member names and order as in the service model; dates stay ``datetime`` for the API
layer to encode). Counts are kept twice, per child execution and per item, because with an
``ItemBatcher`` one execution carries many items.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

#: Map Run statuses (``MapRunStatus``).
MAP_RUN_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "ABORTED")

# Which counter a child's terminal execution status moves to.
_COUNTER = {
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "TIMED_OUT": "timed_out",
    "ABORTED": "aborted",
}


@dataclass(frozen=True)
class MapRunCounts:
    """``MapRunExecutionCounts`` / ``MapRunItemCounts``."""

    pending: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    timed_out: int = 0
    aborted: int = 0
    total: int = 0
    results_written: int = 0
    failures_not_redrivable: int = 0
    pending_redrive: int = 0

    @classmethod
    def planned(cls, total: int) -> MapRunCounts:
        """Counts of a run about to start ``total`` children (or items): all pending."""
        return cls(pending=total, total=total)

    def started(self, n: int = 1) -> MapRunCounts:
        """``n`` more move from pending to running."""
        return replace(self, pending=self.pending - n, running=self.running + n)

    def finished(self, status: str, n: int = 1) -> MapRunCounts:
        """``n`` running ones ended with execution ``status`` (``SUCCEEDED``, ``FAILED``, ...)."""
        counter = _COUNTER[status]
        updated = replace(self, running=self.running - n)
        return replace(updated, **{counter: getattr(updated, counter) + n})

    @property
    def failed_or_timed_out(self) -> int:
        """What tolerated-failure thresholds count."""
        return self.failed + self.timed_out

    def to_api(self) -> dict[str, int]:
        """The API object, members in the service model's order."""
        return {
            "pending": self.pending,
            "running": self.running,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "timedOut": self.timed_out,
            "aborted": self.aborted,
            "total": self.total,
            "resultsWritten": self.results_written,
            "failuresNotRedrivable": self.failures_not_redrivable,
            "pendingRedrive": self.pending_redrive,
        }


@dataclass(frozen=True)
class MapRunRecord:
    """Everything ``DescribeMapRun`` reports about one Map Run.

    Unset tolerances are reported as ``0`` and ``0.0`` and an unbounded ``MaxConcurrency`` as
    ``0``, as AWS reports them.
    """

    map_run_arn: str
    execution_arn: str
    child_state_machine_arn: str
    start_date: datetime
    status: str = "RUNNING"
    stop_date: datetime | None = None
    max_concurrency: int = 0
    tolerated_failure_count: int = 0
    tolerated_failure_percentage: float = 0.0
    item_counts: MapRunCounts = field(default_factory=MapRunCounts)
    execution_counts: MapRunCounts = field(default_factory=MapRunCounts)
    redrive_count: int = 0
    redrive_date: datetime | None = None

    def stopped(self, status: str, at: datetime) -> MapRunRecord:
        """The record once the run ended with ``status`` at ``at``."""
        if status not in MAP_RUN_STATUSES or status == "RUNNING":
            raise ValueError(f"not a final Map Run status: {status!r}")
        return replace(self, status=status, stop_date=at)

    def updated(
        self,
        max_concurrency: int | None = None,
        tolerated_failure_count: int | None = None,
        tolerated_failure_percentage: float | None = None,
    ) -> MapRunRecord:
        """Apply an ``UpdateMapRun`` request (absent members keep their value)."""
        return replace(
            self,
            max_concurrency=self.max_concurrency if max_concurrency is None else max_concurrency,
            tolerated_failure_count=(
                self.tolerated_failure_count
                if tolerated_failure_count is None
                else tolerated_failure_count
            ),
            tolerated_failure_percentage=(
                self.tolerated_failure_percentage
                if tolerated_failure_percentage is None
                else float(tolerated_failure_percentage)
            ),
        )

    def describe(self) -> dict[str, Any]:
        """The ``DescribeMapRun`` response body."""
        body: dict[str, Any] = {
            "mapRunArn": self.map_run_arn,
            "executionArn": self.execution_arn,
            "status": self.status,
            "startDate": self.start_date,
        }
        if self.stop_date is not None:
            body["stopDate"] = self.stop_date
        body.update(
            {
                "maxConcurrency": self.max_concurrency,
                "toleratedFailurePercentage": self.tolerated_failure_percentage,
                "toleratedFailureCount": self.tolerated_failure_count,
                "itemCounts": self.item_counts.to_api(),
                "executionCounts": self.execution_counts.to_api(),
                "redriveCount": self.redrive_count,
            }
        )
        if self.redrive_date is not None:
            body["redriveDate"] = self.redrive_date
        return body

    def list_item(self) -> dict[str, Any]:
        """One entry of ``ListMapRuns``."""
        item: dict[str, Any] = {
            "executionArn": self.execution_arn,
            "mapRunArn": self.map_run_arn,
            "stateMachineArn": self.child_state_machine_arn,
            "startDate": self.start_date,
        }
        if self.stop_date is not None:
            item["stopDate"] = self.stop_date
        return item
