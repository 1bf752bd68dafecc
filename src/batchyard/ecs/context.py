"""What every ECS operation needs: the store, ARNs, tags, egress profiles, the supervisor's bell."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from batchyard.ecs import errors
from batchyard.ecs.arns import DEFAULT_CLUSTER, Scope
from batchyard.ecs.egress import EgressProfile
from batchyard.ecs.records import ClusterRecord, TaskDefinitionRecord
from batchyard.ecs.repository import Clusters, RunRequests, TaskDefinitions, Tasks
from batchyard.store import Store
from batchyard.store.repository import decode_token, encode_token

TASK_WORK = "ecs-task"


@dataclass
class EcsContext:
    store: Store
    scope: Scope
    egress_source: Callable[[], Mapping[str, EgressProfile]] = dict
    # Rung when a task needs its supervisor now (RunTask, StopTask on this replica).
    bell: threading.Event = field(default_factory=threading.Event)

    @property
    def egress_profiles(self) -> Mapping[str, EgressProfile]:
        return self.egress_source()

    # ------------------------------------------------------------------ repositories

    @property
    def clusters(self) -> Clusters:
        return Clusters(self.store.db)

    @property
    def definitions(self) -> TaskDefinitions:
        return TaskDefinitions(self.store.db)

    @property
    def tasks(self) -> Tasks:
        return Tasks(self.store.db)

    @property
    def run_requests(self) -> RunRequests:
        return RunRequests(self.store.db)

    def now(self) -> datetime:
        return self.store.db.clock()

    # ------------------------------------------------------------------ look-ups

    def active_cluster(self, identifier: str | None) -> ClusterRecord:
        name = self.scope.cluster_name(identifier)
        record = self.clusters.get(name)
        if record is None and name == DEFAULT_CLUSTER:
            record = self.ensure_default_cluster()
        if record is None or record.status != "ACTIVE":
            raise errors.cluster_not_found()
        return record

    def ensure_default_cluster(self) -> ClusterRecord | None:
        """The ``default`` cluster exists until someone deletes it, as on AWS."""
        name = DEFAULT_CLUSTER
        if self.clusters.get(name) is None:
            self.clusters.put(
                ClusterRecord(name, self.scope.cluster_arn(name), "ACTIVE", [], self.now())
            )
        return self.clusters.get(name)

    def tags(self, arn: str) -> dict[str, str]:
        return {t.key: t.value for t in self.store.tags.get(arn)}

    def definition(
        self, identifier: str, missing: Callable[[], errors.EcsError]
    ) -> TaskDefinitionRecord:
        from batchyard.ecs.arns import task_definition_parts

        family, revision = task_definition_parts(identifier)
        record = self.definitions.get(family, revision)
        if record is None:
            raise missing()
        return record

    def wake(self, task_arn: str | None = None) -> None:
        if task_arn is not None:
            self.store.work.notify(TASK_WORK, task_arn)
        self.bell.set()


def paged(items: list[str], params: dict[str, Any]) -> tuple[list[str], str | None]:
    """One page of a listing computed in full (short lists: clusters, task definitions)."""
    start = 0
    if params.get("nextToken"):
        try:
            (start,) = decode_token(params["nextToken"])
        except ValueError as exc:
            raise errors.invalid("Invalid nextToken.") from exc
    limit = params.get("maxResults") or 100
    more = start + limit < len(items)
    return items[start : start + limit], encode_token(start + limit) if more else None
