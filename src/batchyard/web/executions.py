"""The console's Step Functions endpoints: executions, one execution, stop, redrive, durations.

Reads go to the state store directly where AWS has no call for them (executions of every
state machine at once, a run-duration series); everything an AWS client could do (describe,
stop, redrive) goes through the Step Functions handlers in-process, so the console obeys the
same rules and answers the same errors as boto3 would get.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from batchyard.api.stepfunctions.executions import list_item
from batchyard.api.stepfunctions.history import wire_event
from batchyard.store import Execution
from batchyard.web.context import (
    ApiRoute,
    Console,
    Json,
    from_error,
    int_param,
    json_body,
    problem,
    unavailable,
)
from batchyard.web.state_times import summarise

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
# How many executions a name search looks through (newest first) before it gives up.
NAME_SCAN = 5000
DURATION_POINTS = 500
STATE_SAMPLE = 50
# Events per answer (AWS caps a history at 25,000); the page asks again for the rest.
MAX_EVENTS = 25_000


def routes(console: Console) -> list[ApiRoute]:
    sfn = StepFunctionsViews(console)
    return [
        ("/ui/api/state-machines", sfn.state_machines, "GET"),
        ("/ui/api/executions", sfn.executions, "GET"),
        ("/ui/api/execution", sfn.execution, "GET"),
        ("/ui/api/execution/stop", sfn.stop, "POST"),
        ("/ui/api/execution/redrive", sfn.redrive, "POST"),
        ("/ui/api/durations", sfn.durations, "GET"),
    ]


class StepFunctionsViews:
    def __init__(self, console: Console) -> None:
        self.console = console

    def _missing(self) -> Json | None:
        if self.console.stepfunctions is None:
            return unavailable("Step Functions")
        return None

    async def state_machines(self, request: Request) -> Json:
        if (missing := self._missing()) is not None:
            return missing
        try:
            listed = await self.console.aws.call("stepfunctions", "ListStateMachines", {})
            machines = list(listed["stateMachines"])
            while listed.get("nextToken"):
                listed = await self.console.aws.call(
                    "stepfunctions", "ListStateMachines", {"nextToken": listed["nextToken"]}
                )
                machines.extend(listed["stateMachines"])
        except Exception as exc:
            return from_error(exc)
        return Json({"stateMachines": machines})

    async def executions(self, request: Request) -> Json:
        """Executions newest first, filtered by state machine, status and a name substring
        (a Map Run's child executions only when ``mapRunArn`` asks for them)."""
        backend = self.console.stepfunctions
        if backend is None:
            return unavailable("Step Functions")
        q = request.query_params
        machine = q.get("stateMachineArn") or None
        map_run = q.get("mapRunArn") or None
        status = q.get("status") or None
        name = (q.get("name") or "").strip().lower()
        if status is not None and status not in STATUSES:
            return problem(400, "ValidationException", f"Unknown status {status!r}.")
        try:
            limit = int_param(request, "limit", 50, 1, 500)
        except ValueError as exc:
            return problem(400, "ValidationException", str(exc))
        token = q.get("nextToken") or None
        found: list[Execution] = []
        scanned = 0
        try:
            while True:
                page = backend.store.executions.list(
                    state_machine_arn=machine,
                    map_run_arn=map_run,
                    status=status,
                    limit=limit if not name else 200,
                    next_token=token,
                )
                token = page.next_token
                scanned += len(page.items)
                # A Distributed Map's child executions belong to its Map Run, not this list
                # (ListExecutions shows them only when asked for the run's ARN).
                found.extend(
                    e
                    for e in page.items
                    if (map_run or e.map_run_arn is None) and (not name or name in e.name.lower())
                )
                if len(found) >= limit or token is None or scanned >= NAME_SCAN:
                    break
        except ValueError as exc:  # a token we did not make
            return problem(400, "InvalidToken", str(exc))
        items = [dict(list_item(e), type=e.type) for e in found[:limit]]
        return Json({"executions": items, "nextToken": token if len(found) >= limit else None})

    async def execution(self, request: Request) -> Json:
        """DescribeExecution, the definition it runs, and its whole history."""
        backend = self.console.stepfunctions
        if backend is None:
            return unavailable("Step Functions")
        arn = request.query_params.get("arn", "")
        aws = self.console.aws
        try:
            described = await aws.call("stepfunctions", "DescribeExecution", {"executionArn": arn})
            machine = await aws.call(
                "stepfunctions", "DescribeStateMachineForExecution", {"executionArn": arn}
            )
        except Exception as exc:
            return from_error(exc)
        try:
            after = int_param(request, "afterEventId", 0, 0, 2**31)
        except ValueError as exc:
            return problem(400, "ValidationException", str(exc))
        # A running execution's page polls for the events after the last one it has.
        events = [
            wire_event(e)
            for e in await run_in_threadpool(
                backend.store.history.page,
                described["executionArn"],
                after_id=after,
                limit=MAX_EVENTS,
            )
        ]
        return Json(
            {
                "execution": described,
                "stateMachine": {
                    "stateMachineArn": machine["stateMachineArn"],
                    "name": machine["name"],
                    "definition": machine["definition"],
                    "logGroups": _log_groups(machine.get("loggingConfiguration") or {}),
                },
                "events": events,
            }
        )

    async def _act(self, request: Request, operation: str) -> Json:
        if (missing := self._missing()) is not None:
            return missing
        try:
            body = await json_body(request)
        except ValueError as exc:
            return problem(400, "ValidationException", str(exc))
        params: dict[str, Any] = {"executionArn": str(body.get("executionArn", ""))}
        if operation == "StopExecution":
            params["cause"] = "Stopped from the batchyard console"
        try:
            return Json(await self.console.aws.call("stepfunctions", operation, params))
        except Exception as exc:
            return from_error(exc)

    async def stop(self, request: Request) -> Json:
        return await self._act(request, "StopExecution")

    async def redrive(self, request: Request) -> Json:
        return await self._act(request, "RedriveExecution")

    async def durations(self, request: Request) -> Json:
        """Run durations of one state machine's executions, oldest first (closed ones)."""
        backend = self.console.stepfunctions
        if backend is None:
            return unavailable("Step Functions")
        machine = request.query_params.get("stateMachineArn", "")
        if not machine:
            return problem(400, "ValidationException", "stateMachineArn is required.")
        try:
            limit = int_param(request, "limit", DURATION_POINTS, 1, 5000)
        except ValueError as exc:
            return problem(400, "ValidationException", str(exc))
        points: list[dict[str, Any]] = []
        token: str | None = None
        while len(points) < limit:
            page = backend.store.executions.list(
                state_machine_arn=machine, limit=min(200, limit), next_token=token
            )
            for e in page.items:
                if e.stop_date is not None:
                    millis = (e.stop_date - e.start_date).total_seconds() * 1000
                    points.append(
                        {
                            "executionArn": e.arn,
                            "name": e.name,
                            "status": e.status,
                            "startDate": e.start_date,
                            "stopDate": e.stop_date,
                            "durationMs": round(millis),
                        }
                    )
            token = page.next_token
            if token is None:
                break
        points = points[:limit]
        # Time per state over the newest closed runs (their whole histories are read).
        sample = [p["executionArn"] for p in points[:STATE_SAMPLE]]
        histories = await run_in_threadpool(
            lambda: [backend.store.history.all(arn) for arn in sample]
        )
        points.reverse()
        return Json(
            {
                "stateMachineArn": machine,
                "points": points,
                "states": [s.as_json() for s in summarise(histories)],
                "stateSample": len(sample),
            }
        )


def _log_groups(logging: dict[str, Any]) -> list[str]:
    """Names of the log groups an execution logs to (``...:log-group:NAME:*`` ARNs)."""
    if logging.get("level", "OFF") == "OFF":
        return []
    names = []
    for destination in logging.get("destinations") or []:
        arn = str((destination.get("cloudWatchLogsLogGroup") or {}).get("logGroupArn", ""))
        if ":log-group:" in arn:
            names.append(arn.split(":log-group:", 1)[1].removesuffix(":*"))
    return names
