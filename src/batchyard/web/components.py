"""The console's endpoints for the optional components: schedules, ECS task runs, functions.

Each reads through the component's AWS operations in-process (ListSchedules, ListTasks,
ListFunctions, ...), so it works with whatever the server installed and answers 503
"not available on this server" for a component it did not. What AWS has no operation for
(a schedule's next fire times and slot history, a function's past invocations) comes from
:mod:`batchyard.web.extras`, which asks the component's Python API when it is there.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from batchyard.logs.errors import LogsError
from batchyard.web import extras
from batchyard.web.context import ApiRoute, Console, Json, from_error, problem, unavailable

MAX_ITEMS = 500


def routes(console: Console) -> list[ApiRoute]:
    views = ComponentViews(console)
    return [
        ("/ui/api/components", views.components, "GET"),
        ("/ui/api/schedules", views.schedules, "GET"),
        ("/ui/api/schedule", views.schedule, "GET"),
        ("/ui/api/tasks", views.tasks, "GET"),
        ("/ui/api/task-logs", views.task_logs, "GET"),
        ("/ui/api/functions", views.functions, "GET"),
        ("/ui/api/invocations", views.invocations, "GET"),
    ]


# (request member, answer member) of each service's List* paging token.
_PAGING = {"lambda": ("Marker", "NextMarker"), "scheduler": ("NextToken", "NextToken")}
_DEFAULT_PAGING = ("nextToken", "nextToken")


async def list_all(console: Console, service: str, op: str, key: str, **params: Any) -> list[Any]:
    """Every item of a paged List* operation (up to MAX_ITEMS)."""
    token_in, token_out = _PAGING.get(service, _DEFAULT_PAGING)
    items: list[Any] = []
    while True:
        page = await console.aws.call(service, op, params)
        items.extend(page.get(key) or [])
        token = page.get(token_out)
        if not token or len(items) >= MAX_ITEMS:
            return items[:MAX_ITEMS]
        params = {**params, token_in: token}


class ComponentViews:
    def __init__(self, console: Console) -> None:
        self.console = console

    async def components(self, request: Request) -> Json:
        aws = self.console.aws
        return Json(
            {
                "stepfunctions": aws.has("stepfunctions"),
                "logs": self.console.logs is not None,
                "scheduler": aws.has("scheduler", "ListSchedules"),
                "ecs": aws.has("ecs", "ListTasks"),
                "lambda": aws.has("lambda", "ListFunctions"),
            }
        )

    # ------------------------------------------------------------------ schedules

    async def schedules(self, request: Request) -> Json:
        if not self.console.aws.has("scheduler", "ListSchedules"):
            return unavailable("EventBridge Scheduler")
        try:
            listed = await list_all(self.console, "scheduler", "ListSchedules", "Schedules")
            detailed = []
            for item in listed:
                described = await self.console.aws.call(
                    "scheduler",
                    "GetSchedule",
                    {"Name": item["Name"], "GroupName": item.get("GroupName", "default")},
                )
                described["NextFireTimes"] = extras.next_fire_times(self.console, described, 3)
                detailed.append(described)
        except Exception as exc:
            return from_error(exc)
        return Json({"schedules": detailed})

    async def schedule(self, request: Request) -> Json:
        if not self.console.aws.has("scheduler", "GetSchedule"):
            return unavailable("EventBridge Scheduler")
        q = request.query_params
        try:
            described = await self.console.aws.call(
                "scheduler",
                "GetSchedule",
                {"Name": q.get("name", ""), "GroupName": q.get("group") or "default"},
            )
        except Exception as exc:
            return from_error(exc)
        described["NextFireTimes"] = extras.next_fire_times(self.console, described, 10)
        slots = await run_in_threadpool(extras.slot_history, self.console, described, 100)
        return Json({"schedule": described, "slots": slots})

    # ------------------------------------------------------------------ ECS task runs

    async def tasks(self, request: Request) -> Json:
        if not self.console.aws.has("ecs", "ListTasks"):
            return unavailable("ECS")
        aws = self.console.aws
        try:
            clusters = await list_all(self.console, "ecs", "ListClusters", "clusterArns")
            tasks: list[Any] = []
            for cluster in clusters or ["default"]:
                arns: list[str] = []
                for status in ("RUNNING", "STOPPED"):
                    arns += await list_all(
                        self.console, "ecs", "ListTasks", "taskArns",
                        cluster=cluster, desiredStatus=status,
                    )  # fmt: skip
                for i in range(0, len(arns), 100):
                    described = await aws.call(
                        "ecs", "DescribeTasks", {"cluster": cluster, "tasks": arns[i : i + 100]}
                    )
                    tasks += described.get("tasks") or []
        except Exception as exc:
            return from_error(exc)
        tasks.sort(key=lambda t: str(t.get("createdAt") or ""), reverse=True)
        return Json({"tasks": tasks})

    async def task_logs(self, request: Request) -> Json:
        """A page of a task container's log events, from ``nextToken`` on (for polling)."""
        logs = self.console.logs
        if logs is None:
            return unavailable("CloudWatch Logs")
        if not self.console.aws.has("ecs", "DescribeTasks"):
            return unavailable("ECS")
        q = request.query_params
        try:
            where = await extras.task_log_stream(self.console, q.get("cluster"), q.get("task", ""))
        except Exception as exc:
            return from_error(exc)
        if where is None:
            return Json({"events": [], "nextToken": None, "stream": None})
        group, stream, task_status = where
        try:
            page = await run_in_threadpool(
                lambda: logs.get_log_events(
                    group,
                    stream,
                    start_from_head=True,
                    next_token=q.get("nextToken") or None,
                )
            )
        except LogsError as exc:
            if exc.code == "ResourceNotFoundException":  # nothing written yet
                return Json(
                    {
                        "events": [],
                        "nextToken": q.get("nextToken"),
                        "logGroup": group,
                        "stream": stream,
                        "taskStatus": task_status,
                    }
                )
            return problem(400, exc.code, exc.message)
        return Json(
            {
                "logGroup": group,
                "stream": stream,
                "events": page.get("events", []),
                "nextToken": page.get("nextForwardToken"),
                "taskStatus": task_status,
            }
        )

    # ------------------------------------------------------------------ functions

    async def functions(self, request: Request) -> Json:
        if not self.console.aws.has("lambda", "ListFunctions"):
            return unavailable("Lambda")
        try:
            functions = await list_all(self.console, "lambda", "ListFunctions", "Functions")
        except Exception as exc:
            return from_error(exc)
        return Json({"functions": functions})

    async def invocations(self, request: Request) -> Json:
        if not self.console.aws.has("lambda", "ListFunctions"):
            return unavailable("Lambda")
        name = request.query_params.get("name", "")
        if not name:
            return problem(400, "ValidationException", "name is required.")
        found = await run_in_threadpool(extras.invocations, self.console, name, 100)
        return Json({"functionName": name, "invocations": found})
