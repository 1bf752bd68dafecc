"""ECS-compatible tasks: clusters, task definitions, RunTask and a supervisor that runs them.

The stable Python API (for the scheduler, the Step Functions integration and other components)
is :class:`EcsService`, as built by ``batchyard.api.ecs.install_ecs``::

    service.run_task(request: dict, *, waiter: str | None = None) -> dict
        ``request`` is a RunTask request exactly as on the wire (camelCase: ``taskDefinition``,
        ``cluster``, ``overrides``, ``count``, ``startedBy``, ``tags``, ``clientToken``, ...);
        the result is RunTask's response ``{"tasks": [...], "failures": [...]}``. The same
        ``clientToken`` on the same cluster answers the same tasks (use the scheduler's slot
        key). Errors raise :class:`EcsError` (``code``, ``message`` as AWS names them).
    service.describe_task(task_arn: str) -> dict | None
        The ECS ``Task`` (tags included), or ``None`` if no such task exists.
    service.stop_task(task_arn: str, *, reason: str | None = None,
                      cluster: str | None = None) -> dict
        StopTask; the task as it is at once (``desiredStatus: STOPPED``).
    service.on_task_stopped(callback: Callable[[dict, str], None]) -> None
        ``callback(task, waiter)`` is called once a task started with a non-empty ``waiter``
        is STOPPED and persisted. Delivery is durable and at least once: the task's
        ``delivered`` column is set only after every callback returned, and undelivered stops
        are delivered again after a restart or a takeover by another replica.

Every task dict is the ECS ``Task`` in its wire shape (camelCase) with instants as timezone-aware
``datetime`` values, as boto3 returns it.

Runners are chosen per cluster (tag ``batchyard:runner``; :func:`default_runner_kind`), start
failures can be injected (tags ``batchyard:inject-start-failures``, ``batchyard:start-failure-
rate``), egress profiles are chosen with the tag ``batchyard:egress``; see ``docs/ecs.md``.
"""

from batchyard.ecs.backends import Backends, default_runner_kind
from batchyard.ecs.egress import EgressProfile
from batchyard.ecs.errors import EcsError
from batchyard.ecs.service import EcsService

__all__ = ["Backends", "EcsError", "EcsService", "EgressProfile", "default_runner_kind"]
