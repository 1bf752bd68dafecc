"""DescribeMapRun, ListMapRuns and UpdateMapRun over the map runs the engine records."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from batchyard.api.errors import AwsError
from batchyard.api.stepfunctions.common import (
    Backend,
    Params,
    Result,
    get_execution,
    paginate,
    parse_arn,
    resource_missing,
    with_token,
    wrong_resource,
)
from batchyard.store import Conflict, MapRun, NotFound

_COUNT_KEYS = (
    "pending",
    "running",
    "succeeded",
    "failed",
    "timedOut",
    "aborted",
    "total",
    "resultsWritten",
    "failuresNotRedrivable",
    "pendingRedrive",
)


def _counts(counts: Any) -> dict[str, int]:
    """Every member the model requires, zero unless the engine counted something."""
    given = counts if isinstance(counts, dict) else {}
    return {key: int(given.get(key, 0)) for key in _COUNT_KEYS}


def _get(backend: Backend, text: str) -> MapRun:
    arn = parse_arn(text)
    if arn.resource != "mapRun":
        raise wrong_resource(arn.resource.lower())
    try:
        return backend.store.map_runs.get(text)
    except NotFound as exc:
        raise resource_missing(text) from exc


def describe_map_run(backend: Backend, params: Params) -> Result:
    run = _get(backend, params["mapRunArn"])
    result: Result = {
        "mapRunArn": run.arn,
        "executionArn": run.execution_arn,
        "status": run.status,
        "startDate": run.start_date,
        "maxConcurrency": run.max_concurrency,
        "toleratedFailurePercentage": run.tolerated_failure_percentage,
        "toleratedFailureCount": run.tolerated_failure_count,
        "itemCounts": _counts(run.item_counts),
        "executionCounts": _counts(run.execution_counts),
        "redriveCount": run.redrive_count,
    }
    if run.stop_date is not None:
        result["stopDate"] = run.stop_date
    if run.redrive_date is not None:
        result["redriveDate"] = run.redrive_date
    return result


def map_run_machine_arn(run_arn: str) -> str:
    """``...:mapRun:SM/Label:id`` -> ``...:stateMachine:SM/Label`` (the children's machine)."""
    head, _, rest = run_arn.partition(":mapRun:")
    return f"{head}:stateMachine:{rest.rsplit(':', 1)[0]}"


def list_map_runs(backend: Backend, params: Params) -> Result:
    execution = get_execution(backend, params["executionArn"])
    page, token = paginate(backend.store.map_runs.for_execution(execution.arn), params)
    items = []
    for run in page:
        item: Result = {
            "executionArn": run.execution_arn,
            "mapRunArn": run.arn,
            "stateMachineArn": map_run_machine_arn(run.arn),
            "startDate": run.start_date,
        }
        if run.stop_date is not None:
            item["stopDate"] = run.stop_date
        items.append(item)
    return with_token({"mapRuns": items}, token)


def update_map_run(backend: Backend, params: Params) -> Result:
    run = _get(backend, params["mapRunArn"])
    changes: dict[str, Any] = {}
    for member, field in (
        ("maxConcurrency", "max_concurrency"),
        ("toleratedFailurePercentage", "tolerated_failure_percentage"),
        ("toleratedFailureCount", "tolerated_failure_count"),
    ):
        if params.get(member) is not None:
            changes[field] = params[member]
    if not changes:
        return {}
    for _ in range(CONFLICT_RETRIES):
        try:
            backend.store.map_runs.save(replace(run, updated=backend.clock(), **changes))
            return {}
        except Conflict:  # the engine updated its counts meanwhile: apply ours on top
            run = _get(backend, params["mapRunArn"])
    # Practically unreachable (the engine saves a run far less often); batchyard's wording.
    raise AwsError("ConflictException", f"Map Run is being updated: '{run.arn}'")


CONFLICT_RETRIES = 20


HANDLERS = {
    "DescribeMapRun": describe_map_run,
    "ListMapRuns": list_map_runs,
    "UpdateMapRun": update_map_run,
}
