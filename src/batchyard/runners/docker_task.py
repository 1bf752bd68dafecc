"""A task on Docker, once started: the threads that follow it until its exit is reported.

One reader thread per container splits Docker's multiplexed stdout/stderr stream (8-byte
frame headers) into the log shipper; when the stream ends it collects the exit code and the
OOM flag. One coordinator thread per task stops the other containers when an essential one
ends (or on ``stop`` or the timeout), ticks the shippers' time-based flush, records the exit
and then removes the containers. See ``docker.py`` for how tasks are started.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from batchyard.runners import classify, state
from batchyard.runners.base import ContainerExit, ContainerSpec, TaskExit, TaskSpec
from batchyard.runners.logship import Shipper

if TYPE_CHECKING:
    from batchyard.runners.docker import DockerRunner

_log = logging.getLogger(__name__)


@dataclass
class EngineContainer:
    """One container of a Docker task: the engine's id, its exit, its log shipping."""

    spec: ContainerSpec
    cid: str  # the engine's container id
    name: str
    status: str  # the engine's State.Status when the runner found or created it
    started_at: datetime | None = None
    shipper: Shipper | None = None
    skip: dict[int, int] | None = None  # lines per stream already shipped (re-attach)
    exit_code: int | None = None
    reason: str | None = None
    ended: threading.Event | None = None


class DockerTask:
    """A task of Docker containers: a reader thread per container, one coordinator."""

    def __init__(
        self,
        runner: DockerRunner,
        spec: TaskSpec,
        containers: list[EngineContainer],
        started: datetime,
    ) -> None:
        self._runner = runner
        self.spec = spec
        self._containers = containers
        self._started_at = started
        self._directory = runner.task_dir(spec.task_id)
        self._done = threading.Event()
        self._exit: TaskExit | None = None
        stop = state.read_json(self._directory / "stop.json")
        self._stop_reason: str | None = None if stop is None else str(stop["reason"])
        self._stopping = False
        self._detached = False
        self._wake = threading.Event()
        self._timeout_at = (
            None if spec.timeout_seconds is None else started.timestamp() + spec.timeout_seconds
        )
        self._timed_out = False
        self._threads: list[threading.Thread] = []
        self.removed = threading.Event()  # set once the ended task's containers are removed

    @property
    def started_at(self) -> datetime:
        return self._started_at

    @classmethod
    def finished(cls, runner: DockerRunner, spec: TaskSpec, exit: TaskExit) -> DockerTask:
        task = cls(runner, spec, [], exit.started_at or exit.stopped_at)
        task._exit = exit
        task._done.set()
        return task

    def wait(self, timeout: float | None = None) -> TaskExit | None:
        self._done.wait(timeout)
        return self._exit

    def stop(self, reason: str = classify.STOPPED_BY_USER) -> None:
        if self._done.is_set() or self._stop_reason is not None:
            return
        self._stop_reason = reason
        state.write_json(self._directory / "stop.json", {"reason": reason})
        self._wake.set()

    def detach(self) -> None:
        """Stop following (the containers go on); complete lines pending are shipped."""
        self._detached = True
        self._wake.set()
        state.FOLLOWED.drop(str(self._directory), self)
        for container in self._containers:
            if container.shipper is not None:
                container.shipper.flush()

    # ------------------------------------------------------------------ threads

    def _begin(self, sockets: list[Any]) -> None:
        for container, response in zip(self._containers, sockets, strict=True):
            container.ended = threading.Event()
            thread = threading.Thread(
                target=self._follow,
                args=(container, response),
                name=f"docker-{container.name}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()
        threading.Thread(
            target=self._coordinate, name=f"docker-task-{self.spec.task_id}", daemon=True
        ).start()

    def _follow(self, container: EngineContainer, response: Any) -> None:
        """Read the container's multiplexed output until it ends; then its exit code."""
        try:
            _pump(response, container, lambda: self._detached)
            if self._detached:
                return
            api = self._runner.client.api
            result = api.wait(container.cid)
            container.exit_code = int(result.get("StatusCode", -1))
            if api.inspect_container(container.cid).get("State", {}).get("OOMKilled"):
                container.reason = classify.OUT_OF_MEMORY_REASON
            elif self._timed_out and self._stop_reason is None:
                container.reason = f"Task timed out after {self.spec.timeout_seconds:g} seconds"
            if container.shipper is not None:
                container.shipper.close()
        except Exception:
            _log.exception("following container %s failed", container.name)
        finally:
            with contextlib.suppress(Exception):
                response.close()
            assert container.ended is not None
            container.ended.set()
            self._wake.set()

    def _coordinate(self) -> None:
        interval = max(0.05, self._runner.log_flush_interval / 4)
        try:
            while not self._detached:
                ended = [c for c in self._containers if c.ended and c.ended.is_set()]
                if len(ended) == len(self._containers):
                    break
                if self._timeout_at is not None and time.time() >= self._timeout_at:
                    self._timed_out = True
                essential_ended = any(c.spec.essential for c in ended)
                if not self._stopping and (
                    self._stop_reason is not None or self._timed_out or essential_ended
                ):
                    self._stopping = True
                    for container in self._containers:
                        if container not in ended:
                            threading.Thread(
                                target=self._stop_container, args=(container,), daemon=True
                            ).start()
                for container in self._containers:
                    if container.shipper is not None:
                        container.shipper.tick()
                self._wake.wait(interval)
                self._wake.clear()
            if self._detached:
                return
            for thread in self._threads:
                thread.join()
            self._finish()
        except Exception:
            _log.exception("coordinating task %s failed", self.spec.task_id)
        finally:
            if not self._detached:
                self._done.set()
                state.FOLLOWED.drop(str(self._directory), self)
                if self._exit is not None:
                    self._remove()

    def _stop_container(self, container: EngineContainer) -> None:
        with contextlib.suppress(Exception):
            self._runner.client.api.stop(
                container.cid, timeout=round(self._runner.stop_grace_seconds)
            )

    def _finish(self) -> None:
        self._exit = TaskExit(
            containers=[
                ContainerExit(c.spec.name, c.exit_code, c.reason) for c in self._containers
            ],
            started_at=self._started_at,
            stopped_at=state.now(),
            stop_code=None if self._stop_reason is None else "UserInitiated",
            stopped_reason=self._stop_reason,
        )
        self._directory.mkdir(parents=True, exist_ok=True)
        state.write_json(self._directory / "result.json", state.exit_to_json(self._exit))

    def _remove(self) -> None:
        """The exit is reported (and recorded): the containers may go."""
        for container in self._containers:
            with contextlib.suppress(Exception):
                self._runner.client.api.remove_container(container.cid, force=True)
        self.removed.set()
        self._runner._untrack(self)


def _pump(response: Any, container: EngineContainer, detached: Any) -> None:
    """Split Docker's multiplexed stream (8-byte header: stream, 0, 0, 0, size) into output."""
    # attach: the upgraded connection itself (its buffer holds any bytes read along with the
    # headers); logs: an HTTP body, possibly chunked, that urllib3 decodes
    upgraded = response.status_code == 101
    reader = response.raw._fp.fp if upgraded else response.raw
    shipper = container.shipper
    skip = dict(container.skip or {})
    buffer = bytearray()
    while not detached():
        chunk = reader.read1(1 << 16)
        if not chunk:
            break
        if shipper is None:
            continue
        buffer += chunk
        start = 0
        while len(buffer) - start >= 8:
            size = int.from_bytes(buffer[start + 4 : start + 8], "big")
            if len(buffer) - start - 8 < size:
                break
            source = buffer[start]
            payload = bytes(buffer[start + 8 : start + 8 + size])
            start += 8 + size
            if skip.get(source):
                payload = _skip_lines(payload, skip, source)
            shipper.feed(payload, 2 if source == 2 else 1)
        del buffer[:start]


def _skip_lines(payload: bytes, skip: dict[int, int], source: int) -> bytes:
    """Drop the first lines of a replay that were shipped before a restart."""
    position = 0
    while skip[source] and position < len(payload):
        newline = payload.find(b"\n", position)
        if newline < 0:
            return b""  # the rest of a skipped line; its newline comes in a later frame
        position = newline + 1
        skip[source] -= 1
    return payload[position:]
