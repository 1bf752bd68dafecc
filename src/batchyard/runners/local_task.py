"""A local task, once started: the monitor thread that follows its processes to their end.

One thread per task reads each container's ``output.log`` into its log shipper, waits on the
wrappers' pidfds (readable when a process ends, children or not), signals the commands'
process groups on ``stop``, on the timeout or when an essential container ended, and records
the exit in ``result.json``. See ``local.py`` for how processes are launched and re-attached.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from batchyard.runners import classify, state
from batchyard.runners.base import ContainerExit, ContainerSpec, TaskExit, TaskSpec
from batchyard.runners.logship import Shipper

if TYPE_CHECKING:
    from batchyard.runners.local import LocalRunner

_READ_CHUNK = 1 << 20


def read_int(path: Path) -> int | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    return int(text) if text.endswith("\n") and text.strip().lstrip("-").isdigit() else None


@dataclass
class HostContainer:
    """One container of a local task: its processes, files and log shipping."""

    spec: ContainerSpec
    directory: Path
    proc: subprocess.Popen[bytes] | None = None  # set when this runner object spawned it
    wrapper_pid: int | None = None
    pidfd: int | None = None
    pgid: int | None = None
    ended: bool = False
    exit_code: int | None = None
    reason: str | None = None
    shipper: Shipper | None = None
    output: IO[bytes] | None = None
    sent: int = 0  # the last signal sent to the command's process group

    @property
    def exit_file(self) -> Path:
        return self.directory / "exit"

    @property
    def pid_file(self) -> Path:
        return self.directory / "cmdpid"

    @property
    def log_file(self) -> Path:
        return self.directory / "output.log"


class LocalTask:
    """A task of host processes, followed by one monitor thread."""

    def __init__(
        self,
        runner: LocalRunner,
        spec: TaskSpec,
        directory: Path,
        containers: list[HostContainer],
        started_at: datetime,
        deadline: float | None,
    ) -> None:
        self._runner = runner
        self.spec = spec
        self.directory = directory
        self._containers = containers
        self._started_at = started_at
        self._deadline = deadline  # epoch seconds
        self._done = threading.Event()
        self._exit: TaskExit | None = None
        self._stop_reason: str | None = None
        self._timed_out = False
        self._detached = False  # the runner was closed: leave the processes to a new one
        self._wake_r, self._wake_w = -1, -1  # a pipe that wakes the monitor, made by _begin
        stop = state.read_json(directory / "stop.json")
        if stop is not None:
            self._stop_reason = str(stop["reason"])
        self._thread = threading.Thread(
            target=self._monitor, name=f"local-task-{spec.task_id}", daemon=True
        )

    @property
    def started_at(self) -> datetime:
        return self._started_at

    def _begin(self) -> None:
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._thread.start()

    @classmethod
    def finished(cls, runner: LocalRunner, spec: TaskSpec, result: dict[str, Any]) -> LocalTask:
        task = cls(runner, spec, runner.task_dir(spec.task_id), [], state.now(), None)
        task._exit = state.exit_from_json(result)
        task._started_at = task._exit.started_at or task._exit.stopped_at
        task._done.set()
        return task

    # ------------------------------------------------------------------ contract

    def wait(self, timeout: float | None = None) -> TaskExit | None:
        self._done.wait(timeout)
        return self._exit

    def stop(self, reason: str = classify.STOPPED_BY_USER) -> None:
        if self._done.is_set() or self._stop_reason is not None:
            return
        state.write_json(self.directory / "stop.json", {"reason": reason})
        self._stop_reason = reason
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"s")

    def detach(self) -> None:
        """Stop following the task (its processes go on); pending complete lines are shipped."""
        self._detached = True
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"d")
        self._thread.join()

    # ------------------------------------------------------------------ monitor

    def _monitor(self) -> None:
        grace = self._runner.stop_grace_seconds
        kill_at: float | None = None
        try:
            while True:
                self._pump_logs()
                self._reap()
                live = [c for c in self._containers if not c.ended]
                if self._detached:
                    for container in self._containers:
                        if container.shipper is not None:
                            container.shipper.flush()
                        if container.proc is not None:  # still our child: reap it, later
                            threading.Thread(target=container.proc.wait, daemon=True).start()
                    return
                if not live:
                    break
                if kill_at is None:
                    essential_ended = any(c.ended and c.spec.essential for c in self._containers)
                    if self._deadline is not None and time.time() >= self._deadline:
                        self._timed_out = True
                    if self._stop_reason is not None or self._timed_out or essential_ended:
                        kill_at = time.monotonic() + grace
                elif time.monotonic() >= kill_at:
                    kill_at = float("inf")
                if kill_at is not None:  # again each round: a pid file may appear late
                    self._signal(
                        live, signal.SIGKILL if kill_at == float("inf") else signal.SIGTERM
                    )
                self._sleep(live, kill_at)
            self._pump_logs()
            for container in self._containers:
                if container.shipper is not None:
                    container.shipper.close()
            self._finish()
        finally:
            if not self._detached:
                self._done.set()
            state.FOLLOWED.drop(str(self.directory), self)
            self._runner._forget(self)
            for fd in (self._wake_r, self._wake_w):
                os.close(fd)
            for container in self._containers:
                if container.pidfd is not None:
                    os.close(container.pidfd)
                if container.output is not None:
                    container.output.close()

    def _sleep(self, live: list[HostContainer], kill_at: float | None) -> None:
        timeout = self._runner.poll_interval
        if self._deadline is not None and kill_at is None:
            timeout = max(0.0, min(timeout, self._deadline - time.time()))
        if kill_at is not None and kill_at != float("inf"):
            timeout = max(0.0, min(timeout, kill_at - time.monotonic()))
        poller = select.poll()
        poller.register(self._wake_r, select.POLLIN)
        for container in live:
            if container.pidfd is not None:
                poller.register(container.pidfd, select.POLLIN)
        if poller.poll(timeout * 1000):
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 64)

    def _signal(self, live: list[HostContainer], signum: int) -> None:
        """Send ``signum`` to each command's process group, once per container."""
        for container in live:
            if container.sent == signum:
                continue
            if container.pgid is None:
                container.pgid = read_int(container.pid_file)
            if container.pgid is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(container.pgid, signum)
                container.sent = signum

    def _reap(self) -> None:
        for container in self._containers:
            if container.ended or _alive(container):
                continue
            container.ended = True
            container.exit_code = read_int(container.exit_file)
            if container.exit_code is None:
                container.reason = (
                    "batchyard: the process ended while no runner watched it; "
                    "its exit code was not recorded"
                )
            elif self._timed_out and self._stop_reason is None:
                container.reason = f"Task timed out after {self.spec.timeout_seconds:g} seconds"
            if container.pgid is None:
                container.pgid = read_int(container.pid_file)
            if container.pgid is not None:  # a container's teardown ends all it started
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(container.pgid, signal.SIGKILL)

    def _pump_logs(self) -> None:
        for container in self._containers:
            shipper, output = container.shipper, container.output
            if shipper is None or output is None:
                continue
            while chunk := output.read(_READ_CHUNK):
                shipper.feed(chunk)
                if len(chunk) < _READ_CHUNK:
                    break
            shipper.tick()

    def _finish(self) -> None:
        stop_code = "UserInitiated" if self._stop_reason is not None else None
        self._exit = TaskExit(
            containers=[
                ContainerExit(c.spec.name, c.exit_code, c.reason) for c in self._containers
            ],
            started_at=self._started_at,
            stopped_at=state.now(),
            stop_code=stop_code,
            stopped_reason=self._stop_reason,
        )
        state.write_json(self.directory / "result.json", state.exit_to_json(self._exit))
        for container in self._containers:  # shipped (or nowhere to go): the file is done
            with contextlib.suppress(FileNotFoundError):
                container.log_file.unlink()


def _alive(container: HostContainer) -> bool:
    if container.proc is not None:
        return container.proc.poll() is None
    if container.pidfd is None:
        return False
    ready, _, _ = select.select([container.pidfd], [], [], 0)
    return not ready
