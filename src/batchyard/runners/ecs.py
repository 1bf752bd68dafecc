"""The ``ecs`` runner: pass a task through to real AWS ECS/Fargate with boto3.

``start`` calls ``RunTask`` with the task definition ``family:revision`` of the task's ARN (the
same definition must be registered on AWS, e.g. by ``batchyard deploy``; option
``task_definition`` names another), the containers' command and environment as
``containerOverrides``, the configured cluster, launch type and ``awsvpcConfiguration``
(subnets, security groups, ``assignPublicIp``), ``clientToken`` = the batchyard task id and
``startedBy`` = ``batchyard/<task id>``. A restarted server finds the task again by
``startedBy`` (``ListTasks``) before it calls ``RunTask``, and the ``clientToken`` makes a
repeated ``RunTask`` return the task already started, so no task runs twice.

It then follows the task with ``DescribeTasks`` until ``lastStatus`` is ``STOPPED``: a task
that stops with ``stopCode: TaskFailedToStart`` before RUNNING is a :class:`StartFailure` with
AWS's own ``stoppedReason``; otherwise the real ``stopCode``, ``stoppedReason`` and
``containers[].exitCode/reason`` become the :class:`TaskExit`. ECS has no task timeout:
``timeout_seconds`` is enforced with a StopTask whose reason says so. Container output is
read from CloudWatch Logs (the ``awslogs`` group and the stream
``prefix/container/<AWS task id>``) with ``GetLogEvents`` and forwarded into the log sink,
under the batchyard task id's stream, one event for one event.

Tested against moto's ECS and CloudWatch Logs (``tests/runners/test_ecs.py``), because this
sandbox cannot reach AWS: the RunTask request (cluster, launch type, network configuration,
overrides, ``clientToken`` on the wire, ``startedBy``), idempotency by task id (a second runner
object re-attaches instead of starting a second task), StopTask (its reason reaches the exit;
moto sets no ``stopCode``), the timeout's StopTask, log forwarding, and the mapping of a
STOPPED task from a DescribeTasks shape recorded on AWS (moto produces neither ``stopCode`` nor
exit codes). A task stopping with ``TaskFailedToStart`` before RUNNING and RunTask
``failures[]``, which moto never produces, are tested with a scripted client.

Not tested: a task that ends by itself (moto's tasks run until stopped), AWS's own clientToken
window, real Fargate timings, throttling, IAM. Log forwarding resumes after a re-attach from
the ``nextForwardToken`` saved under ``state_dir`` once the events before it were shipped.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from batchyard.runners import classify, state
from batchyard.runners.base import (
    ContainerExit,
    LogSink,
    StartFailure,
    TaskExit,
    TaskSpec,
)
from batchyard.runners.logship import Shipper, open_stream

_log = logging.getLogger(__name__)


def task_definition_ref(arn: str) -> str:
    """``arn:aws:ecs:...:task-definition/family:3`` -> ``family:3`` (a bare name stays)."""
    return arn.split("task-definition/", 1)[1] if "task-definition/" in arn else arn


def started_by(task_id: str) -> str:
    return f"batchyard/{task_id}"[:128]


def to_task_exit(task: dict[str, Any]) -> TaskExit:
    """A STOPPED task of DescribeTasks (boto3 shape: datetimes) as a :class:`TaskExit`."""
    containers = [
        ContainerExit(c["name"], c.get("exitCode"), c.get("reason"))
        for c in task.get("containers", [])
    ]
    stopped = task.get("stoppedAt") or task.get("executionStoppedAt") or state.now()
    return TaskExit(
        containers=containers,
        started_at=task.get("startedAt"),
        stopped_at=stopped,
        stop_code=task.get("stopCode"),
        stopped_reason=task.get("stoppedReason"),
    )


class EcsTask:
    """A task on AWS, followed by one thread (DescribeTasks polling, log forwarding)."""

    def __init__(self, runner: EcsRunner, spec: TaskSpec, aws_task: dict[str, Any]) -> None:
        self._runner = runner
        self.spec = spec
        self.aws_task = aws_task
        self.aws_task_arn: str = aws_task["taskArn"]
        self._started_at: datetime = aws_task.get("startedAt") or state.now()
        self._done = threading.Event()
        self._exit: TaskExit | None = None
        self._detached = False
        self._wake = threading.Event()
        self._forwarders: list[_LogForwarder] = []
        self._timeout_sent = False
        self._thread = threading.Thread(
            target=self._follow, name=f"ecs-task-{spec.task_id}", daemon=True
        )

    @property
    def started_at(self) -> datetime:
        return self._started_at

    def wait(self, timeout: float | None = None) -> TaskExit | None:
        self._done.wait(timeout)
        return self._exit

    def stop(self, reason: str = classify.STOPPED_BY_USER) -> None:
        if self._done.is_set():
            return
        self._runner.ecs.stop_task(
            cluster=self._runner.cluster, task=self.aws_task_arn, reason=reason[:255]
        )
        self._wake.set()

    def detach(self) -> None:
        self._detached = True
        self._wake.set()

    def _follow(self) -> None:
        try:
            while not self._detached:
                task = self._runner.describe(self.aws_task_arn)
                for forwarder in self._forwarders:
                    forwarder.pump()
                if task is not None and task.get("lastStatus") == "STOPPED":
                    for forwarder in self._forwarders:
                        forwarder.pump(final=True)
                    self._exit = to_task_exit(task)
                    return
                timeout = self.spec.timeout_seconds
                if (
                    timeout is not None
                    and not self._timeout_sent
                    and time.time() >= self._started_at.timestamp() + timeout
                ):  # ECS has no task timeout: batchyard's is a StopTask with a reason
                    self._timeout_sent = True
                    self.stop(f"Task timed out after {timeout:g} seconds")
                self._wake.wait(self._runner.poll_interval)
                self._wake.clear()
        except Exception:
            _log.exception("following ECS task %s failed", self.aws_task_arn)
        finally:
            if not self._detached:
                self._done.set()
                self._runner._untrack(self)


class _LogForwarder:
    """Copies one container's CloudWatch stream on AWS into the local sink."""

    def __init__(
        self, logs_client: Any, group: str, aws_stream: str, shipper: Shipper, record: Path
    ) -> None:
        self.client = logs_client
        self.group = group
        self.aws_stream = aws_stream
        self.shipper = shipper
        self.record = record  # the token after the last event shipped: where a re-attach resumes
        saved = state.read_json(record)
        self.token: str | None = None if saved is None else saved.get("token")

    def pump(self, final: bool = False) -> None:
        while True:
            kwargs: dict[str, Any] = {
                "logGroupName": self.group,
                "logStreamName": self.aws_stream,
                "startFromHead": True,
            }
            if self.token:
                kwargs["nextToken"] = self.token
            try:
                page = self.client.get_log_events(**kwargs)
            except Exception as exc:
                if "ResourceNotFoundException" in str(exc):
                    break  # the stream appears with the container's first line
                raise
            for event in page.get("events", []):
                self.shipper.feed_event(event["message"], int(event["timestamp"]))
            token = page.get("nextForwardToken")
            if page.get("events") and token:
                self.shipper.flush()  # shipped before the token that skips them is saved
                state.write_json(self.record, {"token": token})
            if not page.get("events") or token == self.token:
                self.token = token
                break
            self.token = token
        if final:
            self.shipper.close()
        else:
            self.shipper.tick()


class EcsRunner:
    """Runs tasks on AWS ECS; see the module docstring.

    Options (``make_runner("ecs", {...})``): ``region``, ``cluster`` ("default"),
    ``launch_type`` ("FARGATE"), ``subnets``, ``security_groups``, ``assign_public_ip``
    ("DISABLED"), ``platform_version``, ``task_definition`` (instead of the spec's),
    ``endpoint_url``, ``profile``, ``aws_access_key_id``, ``aws_secret_access_key``,
    ``aws_session_token``, ``poll_interval`` (6 s, as Step Functions polls),
    ``start_timeout_seconds`` (how long ``start`` waits for RUNNING, 600), ``state_dir`` (where
    log forwarding records its progress, for a re-attach).
    """

    name = "ecs"

    def __init__(
        self,
        region: str | None = None,
        *,
        cluster: str = "default",
        launch_type: str = "FARGATE",
        subnets: list[str] | None = None,
        security_groups: list[str] | None = None,
        assign_public_ip: str = "DISABLED",
        platform_version: str | None = None,
        task_definition: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        poll_interval: float = 6.0,
        start_timeout_seconds: float = 600.0,
        log_flush_interval: float = 1.0,
        state_dir: str | Path | None = None,
        client: Any = None,
        logs_client: Any = None,
    ) -> None:
        if assign_public_ip not in ("ENABLED", "DISABLED"):
            raise ValueError(
                f"assign_public_ip must be ENABLED or DISABLED, not {assign_public_ip!r}"
            )
        if client is None or logs_client is None:
            import boto3  # type: ignore[import-untyped]

            session = boto3.Session(
                profile_name=profile,
                region_name=region,
                aws_access_key_id=aws_access_key_id,
                aws_secret_access_key=aws_secret_access_key,
                aws_session_token=aws_session_token,
            )
            client = client or session.client("ecs", endpoint_url=endpoint_url)
            logs_client = logs_client or session.client("logs", endpoint_url=endpoint_url)
        self.ecs = client
        self.logs = logs_client
        self.cluster = cluster
        self.launch_type = launch_type
        self.subnets = list(subnets or [])
        self.security_groups = list(security_groups or [])
        self.assign_public_ip = assign_public_ip
        self.platform_version = platform_version
        self.task_definition = task_definition
        self.poll_interval = poll_interval
        self.start_timeout_seconds = start_timeout_seconds
        self.log_flush_interval = log_flush_interval
        self.state_dir = Path(state_dir) if state_dir else state.default_state_dir("ecs")
        self._tasks: set[EcsTask] = set()
        self._tasks_lock = threading.Lock()

    def close(self) -> None:
        with self._tasks_lock:
            tasks = list(self._tasks)
            self._tasks.clear()
        for task in tasks:
            task.detach()

    def _untrack(self, task: EcsTask) -> None:
        with self._tasks_lock:
            self._tasks.discard(task)

    def forget(self, task_id: str) -> None:
        """Nothing is kept here: AWS keeps a stopped task for about an hour."""

    def describe(self, task_arn: str) -> dict[str, Any] | None:
        tasks = self.ecs.describe_tasks(cluster=self.cluster, tasks=[task_arn]).get("tasks", [])
        return tasks[0] if tasks else None

    def run_task_request(self, spec: TaskSpec) -> dict[str, Any]:
        """The RunTask parameters for ``spec`` (also what the tests check)."""
        request: dict[str, Any] = {
            "cluster": self.cluster,
            "taskDefinition": self.task_definition or task_definition_ref(spec.task_definition_arn),
            "count": 1,
            "launchType": self.launch_type,
            "startedBy": started_by(spec.task_id),
            "clientToken": spec.task_id[:64],
            "overrides": {
                "containerOverrides": [
                    {
                        "name": c.name,
                        **({"command": list(c.command)} if c.command else {}),
                        "environment": [{"name": k, "value": v} for k, v in c.environment.items()],
                        **({"cpu": c.cpu} if c.cpu else {}),
                        **({"memory": c.memory_mib} if c.memory_mib else {}),
                    }
                    for c in spec.containers
                ],
                **({"cpu": str(spec.cpu)} if spec.cpu else {}),
                **({"memory": str(spec.memory_mib)} if spec.memory_mib else {}),
            },
        }
        if self.subnets:
            request["networkConfiguration"] = {
                "awsvpcConfiguration": {
                    "subnets": self.subnets,
                    "securityGroups": self.security_groups,
                    "assignPublicIp": self.assign_public_ip,
                }
            }
        if self.platform_version:
            request["platformVersion"] = self.platform_version
        return request

    def _existing(self, spec: TaskSpec) -> dict[str, Any] | None:
        for status in ("RUNNING", "STOPPED"):
            arns = self.ecs.list_tasks(
                cluster=self.cluster, startedBy=started_by(spec.task_id), desiredStatus=status
            ).get("taskArns", [])
            if arns:
                return self.describe(arns[0])
        return None

    def start(self, spec: TaskSpec, logs: LogSink | None) -> EcsTask:
        streams = [
            None
            if logs is None or c.logs is None
            else open_stream(logs, c.logs, c.name, spec.task_id)
            for c in spec.containers
        ]
        aws_task = self._existing(spec)
        if aws_task is None:
            from botocore.exceptions import ClientError  # type: ignore[import-untyped]

            try:
                response = self.ecs.run_task(**self.run_task_request(spec))
            except ClientError as exc:  # e.g. capacity: AWS's own error name and message
                error = exc.response.get("Error", {})
                raise StartFailure(f"{error.get('Code')}: {error.get('Message')}") from exc
            failures = response.get("failures") or []
            if failures or not response.get("tasks"):
                failure = failures[0] if failures else {"reason": "no task was started"}
                detail = f" ({failure['detail']})" if failure.get("detail") else ""
                raise StartFailure(f"{failure.get('reason')}{detail}")
            aws_task = response["tasks"][0]
        aws_task = self._await_running(aws_task)
        task = EcsTask(self, spec, aws_task)
        aws_id = task.aws_task_arn.rsplit("/", 1)[-1]
        for c, stream in zip(spec.containers, streams, strict=True):
            if logs is None or stream is None or c.logs is None:
                continue
            shipper = Shipper(logs, c.logs.group, stream, flush_interval=self.log_flush_interval)
            aws_stream = (
                f"{c.logs.stream_prefix}/{c.name}/{aws_id}" if c.logs.stream_prefix else aws_id
            )
            record = self.state_dir / state.check_name(spec.task_id, "task id")
            record.mkdir(parents=True, exist_ok=True)
            forwarder = _LogForwarder(
                self.logs, c.logs.group, aws_stream, shipper, record / f"{c.name}.forward.json"
            )
            task._forwarders.append(forwarder)
        with self._tasks_lock:
            self._tasks.add(task)
        task._thread.start()
        return task

    def _await_running(self, aws_task: dict[str, Any]) -> dict[str, Any]:
        """Until RUNNING (or STOPPED); a task that stopped before it ran failed to start."""
        deadline = time.monotonic() + self.start_timeout_seconds
        while aws_task.get("lastStatus") not in ("RUNNING", "STOPPED"):
            if time.monotonic() >= deadline:
                break
            time.sleep(min(self.poll_interval, 1.0))
            with contextlib.suppress(Exception):
                aws_task = self.describe(aws_task["taskArn"]) or aws_task
        if aws_task.get("lastStatus") == "STOPPED" and aws_task.get("stopCode") == (
            "TaskFailedToStart"
        ):
            raise StartFailure(aws_task.get("stoppedReason") or "Task failed to start")
        return aws_task
