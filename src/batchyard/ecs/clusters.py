"""CreateCluster, DescribeClusters, ListClusters, DeleteCluster.

Clusters are names for where tasks run (and, through the tag ``batchyard:runner``, on which
runner); there are no container instances or services. ``CreateCluster`` of an existing
cluster answers that cluster, as ECS does.
"""

from __future__ import annotations

from typing import Any

from batchyard.ecs import backends, errors, injection
from batchyard.ecs.arns import DEFAULT_CLUSTER, valid_name
from batchyard.ecs.context import EcsContext, paged
from batchyard.ecs.definitions import tag_list, tags_of
from batchyard.ecs.records import ClusterRecord

Params = dict[str, Any]


def _cluster(ctx: EcsContext, record: ClusterRecord, *, with_tags: bool) -> dict[str, Any]:
    counts = ctx.tasks.counts_by_status(record.name) if record.status == "ACTIVE" else {}
    pending = sum(n for status, n in counts.items() if status in ("PROVISIONING", "PENDING"))
    body: dict[str, Any] = {
        "clusterArn": record.arn,
        "clusterName": record.name,
        "status": record.status,
        "registeredContainerInstancesCount": 0,
        "runningTasksCount": counts.get("RUNNING", 0),
        "pendingTasksCount": pending,
        "activeServicesCount": 0,
        "statistics": [],
        "settings": record.settings,
        "capacityProviders": [],
        "defaultCapacityProviderStrategy": [],
    }
    if with_tags:
        body["tags"] = tag_list(ctx.tags(record.arn))
    return body


def create_cluster(ctx: EcsContext, params: Params) -> dict[str, Any]:
    name = params.get("clusterName") or DEFAULT_CLUSTER
    if not valid_name(name):
        raise errors.invalid(
            "Cluster name can have up to 255 letters (uppercase and lowercase), numbers, "
            "hyphens, and underscores."
        )
    tags = tags_of(params.get("tags"))
    backends.check_tags(tags)
    injection.check_tags(tags)
    record = ClusterRecord(
        name, ctx.scope.cluster_arn(name), "ACTIVE", params.get("settings", []), ctx.now()
    )
    if ctx.clusters.put(record):
        ctx.store.tags.clear(record.arn)
        ctx.store.tags.put(record.arn, tags)
    existing = ctx.clusters.get(name)
    assert existing is not None
    return {"cluster": _cluster(ctx, existing, with_tags=True)}


def describe_clusters(ctx: EcsContext, params: Params) -> dict[str, Any]:
    with_tags = "TAGS" in (params.get("include") or [])
    found, failures = [], []
    for identifier in params.get("clusters") or [DEFAULT_CLUSTER]:
        name = ctx.scope.cluster_name(identifier)
        record = ctx.clusters.get(name)
        if record is None and name == DEFAULT_CLUSTER:
            record = ctx.ensure_default_cluster()
        if record is None:
            failures.append({"arn": ctx.scope.cluster_arn(name), "reason": "MISSING"})
        else:
            found.append(_cluster(ctx, record, with_tags=with_tags))
    return {"clusters": found, "failures": failures}


def list_clusters(ctx: EcsContext, params: Params) -> dict[str, Any]:
    ctx.ensure_default_cluster()
    arns = [c.arn for c in ctx.clusters.list_active()]
    page, token = paged(arns, params)
    result: dict[str, Any] = {"clusterArns": page}
    if token:
        result["nextToken"] = token
    return result


def delete_cluster(ctx: EcsContext, params: Params) -> dict[str, Any]:
    name = ctx.scope.cluster_name(params["cluster"])
    record = ctx.clusters.get(name)
    if record is None or record.status != "ACTIVE":
        raise errors.cluster_not_found()
    if ctx.tasks.count_active(name):
        raise errors.cluster_busy()
    ctx.clusters.set_status(name, "INACTIVE")
    gone = ctx.clusters.get(name)
    assert gone is not None
    return {"cluster": _cluster(ctx, gone, with_tags=False)}


HANDLERS = {
    "CreateCluster": create_cluster,
    "DescribeClusters": describe_clusters,
    "ListClusters": list_clusters,
    "DeleteCluster": delete_cluster,
}
