"""Invocation logs into the log store, off the invocation's path.

An invocation hands its events (START, the handler's lines, END, REPORT) to :meth:`ship` and
returns at once; a background thread writes them to ``/aws/lambda/<name>`` with
``put_log_events``, creating the group and the worker's stream the first time. A warm
invocation thus costs a queue put, not a DuckDB transaction. :meth:`flush` waits until
everything handed over so far is stored (tests, and the server's shutdown).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

log = logging.getLogger("batchyard.functions")


class LogSink(Protocol):
    """The part of :class:`batchyard.logs.LogStore` the functions use."""

    def create_log_group(self, name: str) -> None: ...

    def create_log_stream(self, group_name: str, stream_name: str) -> None: ...

    def put_log_events(
        self, group_name: str, stream_name: str, events: Sequence[dict[str, Any]]
    ) -> Any: ...


_Batch = tuple[str, str, list[dict[str, Any]]]
BATCH_WINDOW_S = 0.05


class LogShipper:
    def __init__(self, sink: LogSink | None) -> None:
        self._sink = sink
        self._queue: queue.Queue[_Batch | threading.Event | None] = queue.Queue()
        self._known: set[tuple[str, str]] = set()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ship(self, group: str, stream: str, events: list[dict[str, Any]]) -> None:
        if self._sink is None or not events:
            return
        self._ensure_thread()
        self._queue.put((group, stream, events))

    def flush(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="function-logs", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            # Let a burst of invocations gather, then store it per stream in one put each:
            # one DuckDB transaction per batch instead of one per invocation.
            time.sleep(BATCH_WINDOW_S)
            batches: dict[tuple[str, str], list[dict[str, Any]]] = {}
            pending: list[threading.Event] = []
            stop = False
            while item is not None:
                if isinstance(item, threading.Event):
                    pending.append(item)
                else:
                    group, stream, events = item
                    batches.setdefault((group, stream), []).extend(events)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            else:
                stop = True
            for (group, stream), events in batches.items():
                self._write(group, stream, events)
            for event in pending:
                event.set()
            if stop:
                return

    def _write(self, group: str, stream: str, events: list[dict[str, Any]]) -> None:
        assert self._sink is not None
        try:
            if (group, stream) not in self._known:
                self._create(group, stream)
                self._known.add((group, stream))
            self._sink.put_log_events(group, stream, events)
        except Exception:
            log.exception("could not store %d log events of %s", len(events), group)

    def _create(self, group: str, stream: str) -> None:
        assert self._sink is not None
        try:
            self._sink.create_log_group(group)
        except Exception as exc:  # already there: fine
            if "Exists" not in type(exc).__name__:
                raise
        try:
            self._sink.create_log_stream(group, stream)
        except Exception as exc:
            if "Exists" not in type(exc).__name__:
                raise
