"""batchyard's durable state: tables, migrations and leases, on SQLite or PostgreSQL.

``open_store(url)`` returns a :class:`Store`; its repositories (``store.executions``,
``store.history``, ``store.timers``, ``store.work``, ...) return the dataclasses below, and
``store.transaction()`` groups calls atomically. See ``core.py`` for the design.
"""

from batchyard.store.core import Store, Transaction, default_url, open_store
from batchyard.store.errors import (
    AlreadyExists,
    Conflict,
    LeaseLost,
    NotFound,
    ServiceUnavailable,
    StoreError,
)
from batchyard.store.records import (
    Activity,
    ActivityTask,
    Claim,
    Execution,
    HistoryEvent,
    MapRun,
    Page,
    Revision,
    StateMachine,
    StateMachineAlias,
    StateMachineVersion,
    Tag,
    TaskToken,
    Timer,
)

__all__ = [
    "Activity",
    "ActivityTask",
    "AlreadyExists",
    "Claim",
    "Conflict",
    "Execution",
    "HistoryEvent",
    "LeaseLost",
    "MapRun",
    "NotFound",
    "Page",
    "Revision",
    "ServiceUnavailable",
    "StateMachine",
    "StateMachineAlias",
    "StateMachineVersion",
    "Store",
    "StoreError",
    "Tag",
    "TaskToken",
    "Timer",
    "Transaction",
    "default_url",
    "open_store",
]
