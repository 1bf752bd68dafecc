"""Plugging EventBridge Scheduler into a server: the book, the worker, the service.

``install(app, config, stepfunctions=backend, ecs=..., functions=...)`` shares the Step
Functions store (one database holds executions and slots) and delivers to whichever target
services are given. Settings from the environment:

* ``BATCHYARD_SCHEDULER_SECOND_RATES=1`` accepts the test-only ``rate(N seconds)``;
* ``BATCHYARD_SCHEDULER_LEASE_SECONDS`` (default 30): how long a claimed slot stays with a
  replica before another may deliver it (the take-over delay after a crash).
"""

from __future__ import annotations

import os
from typing import Any

from batchyard.api.app import App, ServerConfig
from batchyard.api.scheduler.handlers import SchedulerApi
from batchyard.api.stepfunctions.common import Backend
from batchyard.scheduler import ScheduleBook, Scheduler, Targets
from batchyard.scheduler.expressions import second_rates_enabled

LEASE_ENV = "BATCHYARD_SCHEDULER_LEASE_SECONDS"


class SchedulerInstall:
    """What ``install`` built, for the CLI and web console (and tests)."""

    def __init__(self, book: ScheduleBook, scheduler: Scheduler, targets: Targets) -> None:
        self.book = book
        self.scheduler = scheduler
        self.targets = targets


def install(
    app: App,
    config: ServerConfig,
    stepfunctions: Backend,
    *,
    ecs: Any = None,
    functions: Any = None,
) -> SchedulerInstall:
    """Serve ``scheduler`` and run the scheduler worker on the Step Functions store."""
    store = stepfunctions.store
    targets = Targets(stepfunctions=stepfunctions.engine, ecs=ecs, functions=functions)
    scheduler = Scheduler(
        store,
        targets,
        lease_seconds=float(os.environ.get(LEASE_ENV, "30")),
    )
    book = ScheduleBook(
        store,
        region=config.region,
        account=config.account_id,
        on_change=scheduler.wake,
        allow_second_rates=second_rates_enabled(),
    )
    app.add_worker(scheduler)
    app.add_service(SchedulerApi(book).service())
    return SchedulerInstall(book, scheduler, targets)
