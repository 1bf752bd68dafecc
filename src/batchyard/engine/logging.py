"""LoggingConfiguration: history events into the log store (filled in below)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from batchyard.logs import LogStore
from batchyard.store import Execution, HistoryEvent, Store


class ExecutionLogger:
    def __init__(self, store: Store, logs: LogStore | None, now: Callable[[], datetime]) -> None:
        self.store = store
        self.logs = logs
        self.now = now

    def write(self, execution: Execution, events: Sequence[HistoryEvent]) -> None:
        return None
