"""``EcsService``: the ECS operations, for the API and for other components.

The API (``api/ecs``) calls :meth:`EcsService.operation` with the validated wire request; the
scheduler and the Step Functions integration call the Python methods, which take and return the
same camelCase dicts (see the package docstring for the stable contract).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from batchyard.ecs import clusters, documents, tagging, task_definitions, tasks
from batchyard.ecs.arns import Scope, task_id_of
from batchyard.ecs.backends import Backends
from batchyard.ecs.context import EcsContext
from batchyard.ecs.egress import EgressProfile
from batchyard.ecs.supervisor import StopCallback, TaskSupervisor
from batchyard.runners.base import LogSink
from batchyard.store import Store

Operation = Callable[[EcsContext, dict[str, Any]], dict[str, Any]]

OPERATIONS: dict[str, Operation] = {
    **clusters.HANDLERS,
    **task_definitions.HANDLERS,
    **tasks.HANDLERS,
    **tagging.HANDLERS,
}


class EcsService:
    """Clusters, task definitions and tasks over one store; its ``supervisor`` runs the tasks."""

    def __init__(
        self,
        store: Store,
        backends: Backends,
        *,
        region: str,
        account: str,
        logs: LogSink | None = None,
        egress_profiles: Mapping[str, EgressProfile]
        | Callable[[], Mapping[str, EgressProfile]]
        | None = None,
        owner: str = "ecs",
        reclaim_own_leases: bool = False,
        lease_seconds: float = 30.0,
        poll_seconds: float = 0.5,
    ) -> None:
        if callable(egress_profiles):
            source = egress_profiles
        else:
            fixed = dict(egress_profiles or {})

            def source() -> Mapping[str, EgressProfile]:
                return fixed

        self.ctx = EcsContext(store, Scope(region, account), source)
        self.backends = backends
        self.supervisor = TaskSupervisor(
            self.ctx,
            backends,
            logs,
            owner=owner,
            reclaim_own_leases=reclaim_own_leases,
            lease_seconds=lease_seconds,
            poll_seconds=poll_seconds,
        )
        self.ctx.ensure_default_cluster()

    # ------------------------------------------------------------------ the API's entry

    def operation(self, name: str, request: dict[str, Any]) -> dict[str, Any]:
        """Run the ECS operation ``name`` (``"RunTask"``, ...) on a wire request."""
        return OPERATIONS[name](self.ctx, request)

    # ------------------------------------------------------------------ Python API

    def run_task(self, request: dict[str, Any], *, waiter: str | None = None) -> dict[str, Any]:
        """RunTask: ``request`` and the result as on the wire (camelCase; instants as aware
        ``datetime``). With ``waiter``, the ``on_task_stopped`` callbacks receive each task
        with that waiter once it is STOPPED. Raises :class:`~batchyard.ecs.EcsError`."""
        if "taskDefinition" not in request:
            from batchyard.ecs import errors

            raise errors.invalid("taskDefinition is required.")
        return tasks.run_task(self.ctx, dict(request), waiter=waiter or None)

    def describe_task(self, task_arn: str) -> dict[str, Any] | None:
        """The task (as DescribeTasks returns it, tags included), or ``None`` if unknown."""
        record = self.ctx.tasks.get(task_id_of(task_arn))
        return None if record is None else documents.to_wire(record.body)

    def stop_task(
        self, task_arn: str, *, reason: str | None = None, cluster: str | None = None
    ) -> dict[str, Any]:
        """StopTask (the cluster is read from the task ARN unless given); the task as it is now."""
        if cluster is None:
            record = self.ctx.tasks.get(task_id_of(task_arn))
            cluster = record.cluster if record is not None else None
        request: dict[str, Any] = {"task": task_arn}
        if cluster:
            request["cluster"] = cluster
        if reason:
            request["reason"] = reason
        task: dict[str, Any] = tasks.stop_task(self.ctx, request)["task"]
        return task

    def on_task_stopped(self, callback: StopCallback) -> None:
        """Call ``callback(task, waiter)`` once each task started with a ``waiter`` is STOPPED
        and persisted (at least once: again after a crash before it returned)."""
        self.supervisor.callbacks.append(callback)
        self.ctx.bell.set()
        self.supervisor.sweep_soon()

    def close(self) -> None:
        self.backends.close()
