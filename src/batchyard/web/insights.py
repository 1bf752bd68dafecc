"""The Logs Insights page's endpoints: log groups, a query with its histogram, saved queries.

A query runs synchronously on the log store (the page waits for it, as the AWS console
polls GetQueryResults until Complete). The histogram of matching events over time is a
second query built from the first: the commands that choose events (``fields``, ``filter``,
``parse``, ...) are kept, the ones that only shape the output (``sort``, ``limit``,
``display``, ``dedup``) are dropped, and ``stats count(*) by bin(...)`` is appended. A
query that already aggregates with ``stats`` has no histogram, as on AWS.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from batchyard.logs import LogStore, insights
from batchyard.logs.errors import LogsError
from batchyard.logs.insights.ast import Dedup, Display, Limit, Sort, Stats
from batchyard.store import Store
from batchyard.web.context import ApiRoute, Console, Json, json_body, problem, unavailable
from batchyard.web.saved_queries import InvalidQuery, SavedQueries

MAX_ROWS = 10_000
HISTOGRAM_BARS = 60
# Bin widths the histogram may use, in seconds: the smallest giving at most HISTOGRAM_BARS bars.
_BINS = (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)
_SHAPING = (Sort, Limit, Display, Dedup)


def bin_seconds(start: int, end: int) -> int:
    span = max(1, end - start)
    for width in _BINS:
        if math.ceil(span / width) <= HISTOGRAM_BARS:
            return width
    return _BINS[-1]


def _bin_literal(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def histogram_query(text: str, width_s: int) -> str | None:
    """The query counting ``text``'s matching events per bin; None when ``text`` has stats."""
    parsed = insights.parse(text)
    if any(isinstance(c, Stats) for c in parsed.commands):
        return None
    starts = [c.start for c in parsed.commands] + [len(text)]
    prefix = text[: starts[0]] if parsed.commands else text
    kept = [
        text[starts[i] : starts[i + 1]].strip().rstrip("|").strip()
        for i, command in enumerate(parsed.commands)
        if not isinstance(command, _SHAPING)
    ]
    count = f"stats count(*) as events by bin({_bin_literal(width_s)}) as bin"
    return prefix + " | ".join([*kept, count])


def routes(console: Console, state: Store | None) -> list[ApiRoute]:
    views = InsightsViews(console, state)
    return [
        ("/ui/api/logs/groups", views.groups, "GET"),
        ("/ui/api/logs/query", views.query, "POST"),
        ("/ui/api/logs/saved", views.saved, "GET"),
        ("/ui/api/logs/saved", views.save, "POST"),
        ("/ui/api/logs/saved/{query_id}", views.delete, "DELETE"),
    ]


class InsightsViews:
    def __init__(self, console: Console, state: Store | None) -> None:
        self.logs: LogStore | None = console.logs
        self.saved_queries = SavedQueries(state.db) if state is not None else None

    async def groups(self, request: Request) -> Json:
        if self.logs is None:
            return unavailable("CloudWatch Logs")
        return Json({"logGroups": sorted(await run_in_threadpool(self.logs.group_names))})

    async def query(self, request: Request) -> Json:
        store = self.logs
        if store is None:
            return unavailable("CloudWatch Logs")
        try:
            body = await json_body(request)
            text = _text(body.get("query"), "query")
            groups = [str(g) for g in body.get("logGroups") or []]
            start, end = int(body.get("startTime", 0)), int(body.get("endTime", 0))
        except (ValueError, TypeError) as exc:
            return problem(400, "InvalidParameterException", str(exc))
        if end < start:
            return problem(400, "InvalidParameterException", "endTime is before startTime.")

        def run() -> dict[str, Any]:
            result = store.query(text, groups, start, end, limit=MAX_ROWS)
            answer: dict[str, Any] = {"rows": result.rows, "statistics": result.statistics}
            width = bin_seconds(start, end)
            counting = histogram_query(text, width)
            if counting is not None:
                bins = store.query(counting, groups, start, end, limit=MAX_ROWS)
                answer["histogram"] = {
                    "binSeconds": width,
                    "bins": [{"bin": r["bin"], "count": int(r["events"])} for r in bins.rows],
                }
            return answer

        try:
            return Json(await run_in_threadpool(run))
        except insights.MalformedQueryException as exc:
            return problem(400, "MalformedQueryException", str(exc))
        except insights.UnsupportedQueryError as exc:
            return problem(400, "MalformedQueryException", str(exc))
        except LogsError as exc:
            return problem(400, exc.code, exc.message)

    async def saved(self, request: Request) -> Json:
        if self.saved_queries is None:
            return unavailable("Saved queries")
        found = await run_in_threadpool(self.saved_queries.all)
        return Json({"queries": [q.as_json() for q in found]})

    async def save(self, request: Request) -> Json:
        repo = self.saved_queries
        if repo is None:
            return unavailable("Saved queries")
        try:
            body = await json_body(request)
            name = _text(body.get("name"), "name")
            text = _text(body.get("query"), "query")
            insights.parse(text)
            groups = [str(g) for g in body.get("logGroups") or []]
            saved = await run_in_threadpool(repo.save, name, text, groups)
        except (ValueError, InvalidQuery) as exc:
            return problem(400, "InvalidParameterException", str(exc))
        except insights.MalformedQueryException as exc:
            return problem(400, "MalformedQueryException", str(exc))
        return Json(saved.as_json())

    async def delete(self, request: Request) -> Json:
        if self.saved_queries is None:
            return unavailable("Saved queries")
        query_id = request.path_params["query_id"]
        if not await run_in_threadpool(self.saved_queries.delete, query_id):
            return problem(404, "ResourceNotFoundException", f"No saved query {query_id!r}.")
        return Json({"deleted": query_id})


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string.")
    return value
