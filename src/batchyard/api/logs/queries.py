"""Logs Insights queries as AWS runs them: asynchronous, polled by id.

``StartQuery`` checks the query text at once (a ``MalformedQueryException`` is the answer to
StartQuery itself, as on AWS) and hands the run to a small thread pool; ``GetQueryResults``
reports ``Scheduled``/``Running`` until the run ends in ``Complete``, ``Failed`` or
``Cancelled``. Finished queries are kept for a bounded time, like AWS's seven days.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from batchyard.logs import LogStore, ResourceNotFoundException, insights

KEEP_MS = 7 * 86_400_000
MAX_KEPT = 1_000


@dataclass
class QueryRun:
    query_id: str
    query_string: str
    log_groups: list[str]
    start_time: int
    end_time: int
    limit: int | None
    create_time: int
    status: str = "Scheduled"
    results: list[dict[str, str]] = field(default_factory=list)
    statistics: dict[str, float] = field(default_factory=dict)
    future: Future[None] | None = None

    def info(self) -> dict[str, Any]:
        # DescribeQueries shows the query as AWS rewrote it: its groups and time range in a
        # SOURCE clause (milliseconds, the end second inclusive), then the text as given.
        sources = " ".join(f'"{g}"' for g in self.log_groups)
        rewritten = (
            f"SOURCE {sources} START={self.start_time * 1000} END={self.end_time * 1000 + 999}"
            f" | {self.query_string}"
            if sources
            else self.query_string
        )
        item: dict[str, Any] = {
            "queryLanguage": "CWLI",
            "queryId": self.query_id,
            "queryString": rewritten,
            "status": self.status,
            "createTime": self.create_time,
        }
        if self.log_groups:
            item["logGroupName"] = self.log_groups[0]
        return item


class QueryManager:
    """Runs Insights queries in worker threads; a ``Worker`` of the server's ``App``."""

    def __init__(
        self, store: LogStore, *, threads: int = 2, clock: Callable[[], int] | None = None
    ):
        self._store = store
        self._clock = clock or store.now_ms
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._runs: dict[str, QueryRun] = {}

    def start(self) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="insights")

    def stop(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            for run in self._runs.values():
                if run.status == "Scheduled" and run.future is not None and run.future.cancel():
                    run.status = "Cancelled"
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def submit(
        self,
        query_string: str,
        log_groups: Sequence[str],
        start_time: int,
        end_time: int,
        limit: int | None,
    ) -> str:
        parsed = insights.parse(query_string)  # MalformedQueryException answers StartQuery
        if parsed.source is None or not parsed.source.name_prefixes:
            known = set(self._store.group_names())
            for name in log_groups:
                if name not in known:
                    # AWS answers with its backend's Java SDK message, request id and all.
                    raise ResourceNotFoundException(
                        f"Log group '{name}' does not exist for account ID "
                        f"'{self._store.account_id}' (Service: AWSLogs; Status Code: 400; "
                        f"Error Code: ResourceNotFoundException; Request ID: {uuid.uuid4()}; "
                        "Proxy: null)"
                    )
        run = QueryRun(
            query_id=str(uuid.uuid4()),
            query_string=query_string,
            log_groups=list(log_groups),
            start_time=start_time,
            end_time=end_time,
            limit=limit,
            create_time=self._clock(),
        )
        self.start()
        with self._lock:
            self._forget_old()
            self._runs[run.query_id] = run
            assert self._pool is not None
            run.future = self._pool.submit(self._run, run)
        return run.query_id

    def _run(self, run: QueryRun) -> None:
        with self._lock:
            if run.status != "Scheduled":
                return
            run.status = "Running"
        try:
            result = self._store.query(
                run.query_string, run.log_groups, run.start_time, run.end_time, run.limit
            )
        except Exception:
            with self._lock:
                if run.status == "Running":
                    run.status = "Failed"
            return
        with self._lock:
            if run.status == "Running":
                run.results, run.statistics = result.rows, result.statistics
                run.status = "Complete"

    def get(self, query_id: str) -> QueryRun:
        with self._lock:
            run = self._runs.get(query_id)
        if run is None:
            raise ResourceNotFoundException("Query does not exist.")
        return run

    def stop_query(self, query_id: str) -> bool:
        """StopQuery: ``True`` if the query was still scheduled or running."""
        run = self.get(query_id)
        with self._lock:
            if run.status not in ("Scheduled", "Running"):
                return False
            run.status = "Cancelled"
            if run.future is not None:
                run.future.cancel()
        return True

    def describe(self, log_group: str | None, status: str | None) -> list[QueryRun]:
        with self._lock:
            runs = list(self._runs.values())
        runs = [
            r
            for r in runs
            if (log_group is None or log_group in r.log_groups)
            and (status is None or r.status == status)
        ]
        return sorted(runs, key=lambda r: r.create_time, reverse=True)

    def _forget_old(self) -> None:
        cutoff = self._clock() - KEEP_MS
        old = [k for k, r in self._runs.items() if r.create_time < cutoff]
        if len(self._runs) - len(old) >= MAX_KEPT:
            by_age = sorted(self._runs, key=lambda k: self._runs[k].create_time)
            old += by_age[: len(self._runs) - MAX_KEPT + 1]
        for key in old:
            run = self._runs.pop(key, None)
            if run is not None and run.future is not None:
                run.future.cancel()
