"""The console's landing page: what runs, what failed lately, what fires next.

Per state machine: executions running now, and how the runs started in the last 24 hours
ended; the latest failed executions with their error; the next fire times across all
schedules. Each part is cheap (bounded store reads, one GetSchedule per schedule) so the page
stays fast on a busy server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from batchyard.api.stepfunctions.common import Backend
from batchyard.web import extras
from batchyard.web.components import list_all
from batchyard.web.context import ApiRoute, Console, Json, from_error, unavailable

RECENT = timedelta(hours=24)
SCAN = 500  # executions read per state machine for the 24-hour counts
FAILURES = 10
UPCOMING = 10
CAUSE_CHARS = 300


def routes(console: Console) -> list[ApiRoute]:
    return [("/ui/api/overview", OverviewView(console).overview, "GET")]


def _machine_summary(backend: Backend, arn: str, since: datetime) -> dict[str, Any]:
    running = backend.store.executions.list(state_machine_arn=arn, status="RUNNING", limit=SCAN)
    ended: dict[str, int] = {}
    latest: datetime | None = None
    page = backend.store.executions.list(state_machine_arn=arn, limit=SCAN)
    for execution in page.items:  # newest first
        latest = latest or execution.start_date
        if execution.start_date < since:
            break
        if execution.status != "RUNNING":
            ended[execution.status] = ended.get(execution.status, 0) + 1
    return {
        "running": len(running.items),
        "ended": ended,
        "lastStart": latest,
    }


def _failures(backend: Backend) -> list[dict[str, Any]]:
    found = []
    for status in ("FAILED", "TIMED_OUT"):
        for e in backend.store.executions.list(status=status, limit=FAILURES).items:
            if e.map_run_arn is None:
                found.append(
                    {
                        "executionArn": e.arn,
                        "name": e.name,
                        "stateMachineArn": e.state_machine_arn,
                        "status": e.status,
                        "stopDate": e.stop_date,
                        "error": e.error,
                        "cause": (e.cause or "")[:CAUSE_CHARS],
                    }
                )
    found.sort(key=lambda f: f["stopDate"] or datetime.min.replace(tzinfo=UTC), reverse=True)
    return found[:FAILURES]


class OverviewView:
    def __init__(self, console: Console) -> None:
        self.console = console

    async def overview(self, request: Request) -> Json:
        backend = self.console.stepfunctions
        if backend is None:
            return unavailable("Step Functions")
        since = datetime.now(UTC) - RECENT
        try:
            machines = await list_all(
                self.console, "stepfunctions", "ListStateMachines", "stateMachines"
            )
        except Exception as exc:
            return from_error(exc)

        def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            summaries = [
                {
                    "stateMachineArn": m["stateMachineArn"],
                    "name": m["name"],
                    "type": m["type"],
                    **_machine_summary(backend, m["stateMachineArn"], since),
                }
                for m in machines
            ]
            return summaries, _failures(backend)

        summaries, failures = await run_in_threadpool(read)
        return Json(
            {
                "stateMachines": summaries,
                "failures": failures,
                "upcoming": await self._upcoming(),
            }
        )

    async def _upcoming(self) -> list[dict[str, Any]] | None:
        """The next fire times across all schedules (None: no scheduler on this server)."""
        if not self.console.aws.has("scheduler", "ListSchedules"):
            return None
        fires = []
        for item in await list_all(self.console, "scheduler", "ListSchedules", "Schedules"):
            if item.get("State") != "ENABLED":
                continue
            schedule = await self.console.aws.call(
                "scheduler",
                "GetSchedule",
                {"Name": item["Name"], "GroupName": item.get("GroupName", "default")},
            )
            for moment in extras.next_fire_times(self.console, schedule, 3):
                fires.append(
                    {
                        "at": moment,
                        "name": schedule["Name"],
                        "groupName": schedule.get("GroupName", "default"),
                        "target": schedule.get("Target", {}).get("Arn"),
                    }
                )
        fires.sort(key=lambda f: str(f["at"]))
        return fires[:UPCOMING]
