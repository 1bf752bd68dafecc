"""The ``docker`` runner: each container of a task as a Docker container (Docker SDK).

Works against any engine the SDK reaches: ``DOCKER_HOST`` or the default socket; Podman's
Docker-compatible socket is meant to work the same way (``base_url:
unix:///run/podman/podman.sock``), but only Docker 20.10 was tested here.

* **Names are deterministic**: ``batchyard-<task_id>-<container>``. ``start`` of a task whose
  containers exist re-attaches to them (a restarted server, another replica) instead of
  starting them again; a name conflict while creating means another replica won the race, and
  this one re-attaches too.
* **No registry traffic by default**: an image missing locally fails the task at once with
  Fargate's ``CannotPullContainerError: ... not found`` text; ``pull: true`` pulls it first.
* **Limits**: ``memory`` (MiB, container's else task's) -> ``mem_limit`` with swap disabled;
  ``cpu`` units -> ``nano_cpus`` (1024 units = one CPU); network mode ``none`` by default,
  ``host`` or a named network (an egress profile) when the task asks; never the default bridge.
* **Output**: the runner attaches to stdout/stderr *before* starting a container, so not one
  line is missed, and ships it by the awslogs rules (``logship.py``). After a restart it
  follows the engine's log from the start and skips the lines it had shipped (the count per
  stream is kept under ``state_dir``). The engine's copy is kept by the ``local`` log driver
  by default: json-file costs the engine several times more CPU per line.
* **Ends**: an OOM-killed container reports ``OutOfMemoryError: Container killed due to memory
  usage`` (exit code 137); ``stop`` is Docker's stop (SIGTERM, SIGKILL after
  ``stop_grace_seconds``), reported as ``UserInitiated``. When every container has ended and
  its output is shipped, the exit is recorded under ``state_dir`` and the containers are
  removed; a later ``start`` of the same task returns the recorded exit.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from batchyard.runners import classify, state
from batchyard.runners.base import (
    ContainerSpec,
    LogSink,
    StartFailure,
    TaskSpec,
)
from batchyard.runners.docker_task import DockerTask, EngineContainer
from batchyard.runners.logship import Shipper, open_stream

_log = logging.getLogger(__name__)

LABEL_TASK_ARN = "batchyard.task-arn"
LABEL_CONTAINER = "batchyard.container"
FORBIDDEN_NETWORKS = ("bridge", "default")


def container_name(task_id: str, container: str) -> str:
    return f"batchyard-{task_id}-{container}"


def _explanation(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc)


def _parse_docker_time(text: str | None) -> datetime | None:
    if not text or text.startswith("0001-"):
        return None
    head, _, rest = text.partition(".")
    fraction = "".join(ch for ch in rest if ch.isdigit())[:6]
    moment = datetime.fromisoformat(head + "+00:00")
    return moment.replace(microsecond=int(fraction.ljust(6, "0")) if fraction else 0)


class DockerRunner:
    """Runs tasks as Docker containers; see the module docstring.

    Options (``make_runner("docker", {...})``): ``base_url`` (default: ``DOCKER_HOST`` or the
    default socket), ``pull`` (false), ``network_mode`` ("none"), ``stop_grace_seconds`` (30),
    ``log_flush_interval`` (1.0 s), ``state_dir`` (re-attach bookkeeping; default under the
    system's temporary directory), ``log_driver`` (the engine's own copy of the output, which
    a re-attach replays: ``local`` by default, Docker's compact format; ``json-file``; ``none``
    is the fastest but leaves nothing to replay, so lines written while no runner is attached
    are lost).
    """

    name = "docker"

    def __init__(
        self,
        base_url: str | None = None,
        *,
        pull: bool = False,
        network_mode: str = "none",
        stop_grace_seconds: float = 30.0,
        log_flush_interval: float = 1.0,
        state_dir: str | Path | None = None,
        log_driver: str = "local",
        client: Any = None,
    ) -> None:
        import docker

        if network_mode in FORBIDDEN_NETWORKS:
            raise ValueError(
                f"network_mode {network_mode!r}: tasks never join the default bridge; "
                "use 'none', 'host' or a named network"
            )
        if client is None:
            client = (
                docker.DockerClient(base_url=base_url, version="auto", timeout=120)
                if base_url
                else docker.from_env(version="auto", timeout=120)
            )
        self.client = client
        self.pull = pull
        self.network_mode = network_mode
        self.stop_grace_seconds = stop_grace_seconds
        self.log_flush_interval = log_flush_interval
        self.log_driver = log_driver
        self.state_dir = Path(state_dir) if state_dir else state.default_state_dir("docker")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._tasks: set[DockerTask] = set()  # followed tasks, until their containers go
        self._tasks_lock = threading.Lock()

    def task_dir(self, task_id: str) -> Path:
        return self.state_dir / state.check_name(task_id, "task id")

    def close(self) -> None:
        """Stop following tasks (their containers go on) and close the client."""
        with self._tasks_lock:
            tasks = list(self._tasks)
            self._tasks.clear()
        for task in tasks:
            task.detach()
        with contextlib.suppress(Exception):
            self.client.close()

    def _untrack(self, task: DockerTask) -> None:
        with self._tasks_lock:
            self._tasks.discard(task)

    def forget(self, task_id: str) -> None:
        with self._tasks_lock:
            tasks = list(self._tasks)
        for task in tasks:
            if task.spec.task_id == task_id and task.wait(0) is not None:
                task.removed.wait(60)
        directory = self.task_dir(task_id)
        prefix = container_name(task_id, "")
        found = self.client.api.containers(all=True, filters={"name": prefix})
        if any(c.get("State") == "running" for c in found if c["Names"][0][1:].startswith(prefix)):
            raise ValueError(f"task {task_id} is still running; stop it and wait first")
        shutil.rmtree(directory, ignore_errors=True)

    # ------------------------------------------------------------------ start

    def start(self, spec: TaskSpec, logs: LogSink | None) -> DockerTask:
        key = str(self.task_dir(spec.task_id))
        with state.FOLLOWED.lock(key):
            followed = state.FOLLOWED.get(key)
            if isinstance(followed, DockerTask) and followed.wait(0) is None:
                return followed  # already followed in this process: never twice
            task = self._start(spec, logs)
            if task.wait(0) is None:
                state.FOLLOWED.put(key, task)
            return task

    def _start(self, spec: TaskSpec, logs: LogSink | None) -> DockerTask:
        import docker.errors

        if not spec.containers:
            raise ValueError(f"task {spec.task_id} has no containers")
        directory = self.task_dir(spec.task_id)
        for c in spec.containers:
            state.check_name(c.name, "container name")
        result = state.read_json(directory / "result.json")
        if result is not None:
            return DockerTask.finished(self, spec, state.exit_from_json(result))
        existing: dict[str, dict[str, Any]] = {}
        for c in spec.containers:
            found = self._inspect_settled(container_name(spec.task_id, c.name))
            if found is not None:
                existing[c.name] = found
        if not existing:
            for c in spec.containers:
                self._ensure_image(c.image)
        streams = [
            None
            if logs is None or c.logs is None
            else open_stream(logs, c.logs, c.name, spec.task_id)
            for c in spec.containers
        ]
        directory.mkdir(parents=True, exist_ok=True)
        containers: list[EngineContainer] = []
        sockets: list[Any] = []
        created: list[Any] = []
        try:
            for c, stream in zip(spec.containers, streams, strict=True):
                found = existing.get(c.name)
                replay = found is not None
                if found is None:
                    found, replay = self._create(spec, c)
                    if not replay:
                        created.append(found["Id"])
                state_info = found.get("State", {})
                if state_info.get("Status") == "created":  # never started: nothing to replay
                    replay = False
                container = EngineContainer(
                    c,
                    found["Id"],
                    container_name(spec.task_id, c.name),
                    state_info.get("Status", "created"),
                    _parse_docker_time(state_info.get("StartedAt")),
                )
                if logs is not None and stream is not None and c.logs is not None:
                    container.shipper = self._shipper(spec, c, logs, stream)
                    if replay:
                        shipped = state.read_json(directory / f"{c.name}.shipped.json") or {}
                        container.skip = {int(k): int(v) for k, v in shipped.items()}
                        container.shipper.shipped_lines_by_source = dict(container.skip)
                if replay:  # the engine's log from the start, following until the end
                    sockets.append(self._stream(container.cid, "logs", follow=1))
                else:  # attached before the start: every byte, without the log's overhead
                    sockets.append(self._stream(container.cid, "attach", stream=1, logs=0))
                containers.append(container)
            for container in containers:
                if container.status == "created":
                    try:
                        self.client.api.start(container.cid)
                        container.started_at = state.now()
                    except docker.errors.APIError as exc:
                        raise StartFailure(
                            classify.cannot_start(
                                f"Error response from daemon: {_explanation(exc)}"
                            )
                        ) from exc
        except BaseException:
            for response in sockets:
                with contextlib.suppress(Exception):
                    response.close()
            for cid in created:
                with contextlib.suppress(Exception):
                    self.client.api.remove_container(cid, force=True)
            raise
        started = self._started_at(containers)
        task = DockerTask(self, spec, containers, started)
        with self._tasks_lock:
            self._tasks.add(task)
        task._begin(sockets)
        return task

    def _inspect_settled(
        self, name: str, *, wait_for_creation: bool = False
    ) -> dict[str, Any] | None:
        """The container ``name``, or None; one being removed (a forgotten task's, whose
        removal follows its reported exit) is waited out, a dead one removed. With
        ``wait_for_creation`` (its name was just refused as taken), a container not visible
        yet is waited for a few seconds: the engine reserves a name before it shows the
        container."""
        import docker.errors

        api = self.client.api
        deadline = time.monotonic() + 60
        appear_by = time.monotonic() + 5
        while True:
            try:
                found: dict[str, Any] = api.inspect_container(name)
            except docker.errors.NotFound:
                if wait_for_creation and time.monotonic() < appear_by:
                    time.sleep(0.02)
                    continue
                return None
            status = found.get("State", {}).get("Status")
            if status not in ("removing", "dead"):
                return found
            if status == "dead" or time.monotonic() > deadline:
                with contextlib.suppress(docker.errors.APIError):
                    api.remove_container(found["Id"], force=True)
            time.sleep(0.05)

    def _ensure_image(self, image: str) -> None:
        import docker.errors

        try:
            self.client.images.get(image)
            return
        except docker.errors.ImageNotFound:
            if not self.pull:
                raise StartFailure(classify.cannot_pull_not_found(image)) from None
        except docker.errors.APIError as exc:
            raise StartFailure(classify.cannot_pull(_explanation(exc))) from exc
        try:
            self.client.images.pull(image)
        except docker.errors.APIError as exc:
            raise StartFailure(
                classify.cannot_pull(f"Error response from daemon: {_explanation(exc)}")
            ) from exc

    def _create(self, spec: TaskSpec, c: ContainerSpec) -> tuple[dict[str, Any], bool]:
        """Create the container: (its description, False), or (the description of the one
        another runner created meanwhile, True)."""
        import docker.errors

        api = self.client.api
        name = container_name(spec.task_id, c.name)
        memory = c.memory_mib or spec.memory_mib
        cpu = c.cpu or spec.cpu
        network_mode = spec.network_mode or self.network_mode
        if network_mode in FORBIDDEN_NETWORKS:
            raise StartFailure(
                "ResourceInitializationError: batchyard: tasks never join the default bridge "
                f"network (networkMode {network_mode!r})"
            )
        host: dict[str, Any] = {
            "network_mode": network_mode,
            "log_config": {"Type": self.log_driver, "Config": {}},
        }
        if memory:
            host["mem_limit"] = f"{memory}m"
            host["memswap_limit"] = f"{memory}m"
        if cpu:
            host["nano_cpus"] = int(cpu * 1_000_000_000 // 1024)
        try:
            created = api.create_container(
                c.image,
                name=name,
                entrypoint=c.entry_point or None,
                command=c.command or None,
                environment=dict(c.environment),
                working_dir=c.working_directory,
                labels={LABEL_TASK_ARN: spec.task_arn, LABEL_CONTAINER: c.name},
                detach=True,
                stdin_open=False,
                tty=False,
                host_config=api.create_host_config(**host),
            )
        except docker.errors.APIError as exc:
            if exc.status_code == 409:  # name taken: another replica created it
                found = self._inspect_settled(name, wait_for_creation=True)
                if found is not None:
                    return found, True
            raise StartFailure(
                classify.cannot_start(f"Error response from daemon: {_explanation(exc)}")
            ) from exc
        return {"Id": created["Id"], "State": {"Status": "created"}}, False

    def _stream(self, container_id: str, endpoint: str, **params: int) -> Any:
        """An open HTTP response carrying the container's multiplexed stdout/stderr.

        ``attach`` (POST, upgraded connection) for a container not started yet; ``logs``
        (GET, ``follow``) for one found running or ended: attaching to an ended container
        would wait for a start that never comes.
        """
        api = self.client.api
        url = api._url(f"/containers/{{0}}/{endpoint}", container_id)
        params = {"stdout": 1, "stderr": 1, **params}
        if endpoint == "attach":
            headers = {"Connection": "Upgrade", "Upgrade": "tcp"}
            response = api.post(url, None, params=params, stream=True, headers=headers)
        else:
            response = api.get(url, params=params, stream=True)
        api._raise_for_status(response)
        # a container may stay silent for hours: no read timeout on this connection
        with contextlib.suppress(Exception):
            api._disable_socket_timeout(api._get_raw_response_socket(response))
        return response

    def _shipper(self, spec: TaskSpec, c: ContainerSpec, logs: LogSink, stream: str) -> Shipper:
        assert c.logs is not None
        record = self.task_dir(spec.task_id) / f"{c.name}.shipped.json"

        def remember(shipper: Shipper) -> None:
            state.write_json(
                record, {str(k): v for k, v in shipper.shipped_lines_by_source.items()}
            )

        return Shipper(
            logs, c.logs.group, stream, flush_interval=self.log_flush_interval, on_shipped=remember
        )

    def _started_at(self, containers: list[EngineContainer]) -> datetime:
        moments = [c.started_at for c in containers if c.started_at is not None]
        return max(moments) if moments else state.now()
