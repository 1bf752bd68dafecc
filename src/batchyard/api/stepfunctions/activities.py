"""Activities (Create/Describe/Delete/List), GetActivityTask's long poll and the task token
callbacks SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat.

GetActivityTask holds the request for up to ``Backend.activity_wait_seconds`` (AWS: 60 s).
It is a coroutine that polls the queue in short worker-thread calls and sleeps on the event
loop in between, so a crowd of idle workers ties up neither the loop nor the thread pool that
every other (synchronous) handler runs in.
"""

from __future__ import annotations

import asyncio
import time

from starlette.concurrency import run_in_threadpool

from batchyard.api.errors import AwsError
from batchyard.api.stepfunctions.common import (
    Backend,
    Params,
    Result,
    activity_missing,
    check_name,
    paginate,
    parse_arn,
    with_token,
    wrong_resource,
)
from batchyard.store import Activity, AlreadyExists, NotFound


def _activity_arn(text: str) -> str:
    arn = parse_arn(text)
    if arn.resource != "activity":
        raise wrong_resource(arn.resource.lower())
    if len(arn.parts) != 1:
        raise AwsError("InvalidArn", f"Invalid Arn: '{text}'")
    return text


def _get(backend: Backend, text: str) -> Activity:
    arn = _activity_arn(text)
    try:
        return backend.store.activities.get(arn)
    except NotFound as exc:
        raise activity_missing(arn) from exc


def create_activity(backend: Backend, params: Params) -> Result:
    name = params["name"]
    check_name(name)
    arn = backend.activity_arn(name)
    activity = Activity(
        arn=arn,
        name=name,
        created=backend.clock(),
        encryption_configuration=params.get("encryptionConfiguration"),
    )
    try:
        backend.store.activities.create(activity)
    except AlreadyExists:  # CreateActivity is idempotent: the existing activity is the answer
        activity = backend.store.activities.get(arn)
    backend.store.tags.put(arn, {t["key"]: t.get("value", "") for t in params.get("tags") or []})
    return {"activityArn": arn, "creationDate": activity.created}


def describe_activity(backend: Backend, params: Params) -> Result:
    activity = _get(backend, params["activityArn"])
    result: Result = {
        "activityArn": activity.arn,
        "name": activity.name,
        "creationDate": activity.created,
    }
    if activity.encryption_configuration:
        result["encryptionConfiguration"] = activity.encryption_configuration
    return result


def delete_activity(backend: Backend, params: Params) -> Result:
    arn = _activity_arn(params["activityArn"])
    backend.store.activities.delete(arn)
    backend.store.tags.clear(arn)
    return {}


def list_activities(backend: Backend, params: Params) -> Result:
    page, token = paginate(backend.store.activities.list(), params)
    items = [{"activityArn": a.arn, "name": a.name, "creationDate": a.created} for a in page]
    return with_token({"activities": items}, token)


# Idle polls back off from 50 ms to 250 ms: a task queued for a waiting worker is picked up
# within a quarter second, while a crowd of idle workers costs a few queries a second each.
POLL_INTERVAL_S = 0.05
MAX_POLL_INTERVAL_S = 0.25


async def get_activity_task(backend: Backend, params: Params) -> Result:
    activity = await run_in_threadpool(_get, backend, params["activityArn"])
    engine = backend.require_engine()
    deadline = time.monotonic() + backend.activity_wait_seconds
    interval = POLL_INTERVAL_S
    while True:
        task = await run_in_threadpool(
            engine.get_activity_task, activity.arn, params.get("workerName"), wait_seconds=0.0
        )
        if task and task.get("taskToken"):
            return {"taskToken": task["taskToken"], "input": task.get("input")}
        left = deadline - time.monotonic()
        if left <= 0 or backend.stopping.is_set():
            return {}
        await asyncio.sleep(min(interval, left))
        interval = min(interval * 1.5, MAX_POLL_INTERVAL_S)


def send_task_success(backend: Backend, params: Params) -> Result:
    backend.require_engine().send_task_success(params["taskToken"], params["output"])
    return {}


def send_task_failure(backend: Backend, params: Params) -> Result:
    backend.require_engine().send_task_failure(
        params["taskToken"], params.get("error"), params.get("cause")
    )
    return {}


def send_task_heartbeat(backend: Backend, params: Params) -> Result:
    backend.require_engine().send_task_heartbeat(params["taskToken"])
    return {}


HANDLERS = {
    "CreateActivity": create_activity,
    "DescribeActivity": describe_activity,
    "DeleteActivity": delete_activity,
    "ListActivities": list_activities,
    "GetActivityTask": get_activity_task,
    "SendTaskSuccess": send_task_success,
    "SendTaskFailure": send_task_failure,
    "SendTaskHeartbeat": send_task_heartbeat,
}
