"""The ``local`` runner: each container of a task as a host process.

The embedded default where no container engine is reachable. The image is ignored (there is no
root filesystem to unpack): the container's ``entryPoint + command`` runs on the host, with a
minimal environment (``PATH``, ``HOME``, ``LANG``) plus the container's own, in its
``workingDirectory`` (or a fresh directory of the task), under ``RLIMIT_AS`` = the container's
(else the task's) memory in MiB and, when configured, ``RLIMIT_CPU``. A process over its memory
limit sees its allocations fail; unlike a container it is not OOM-killed, so its exit is its
own and is not reported as ``OutOfMemoryError``.

How a process is launched, so that nothing is lost when the server restarts::

    sh -c 'exitfile=$1; shift; "$@"; echo $? > "$exitfile"'        # the wrapper (simplified)
       setsid sh -c 'ulimit ...; echo $$ > "$pidfile"; exec "$@"'  # the command's own session
          <entryPoint + command>

* The wrapper is a session of its own, detached from the server, the command's stdout and
  stderr going to one file (``output.log``, in the order written), so a server that dies
  neither kills it nor leaves it writing to a closed pipe. It outlives the command and records its exit code (``128 + signal`` when killed,
  as Docker reports it) in ``exit``.
* The command runs in a process group of its own (``setsid``): ``stop`` signals that group
  (SIGTERM, then SIGKILL after ``stop_grace_seconds``), everything the command started
  included, while the wrapper survives to record the code.
* ``<state_dir>/<task_id>/`` keeps ``task.json`` (start time, deadline), per container the
  wrapper's pid and start time (pid reuse is detected), the command's pid, the exit code and
  how many bytes of output were shipped. ``start`` of a task whose directory exists re-attaches
  (a new runner object after a restart): it follows the processes still running, ships the
  output from where it stopped, and reports exits recorded while nobody watched.

The task ends when an essential container exits (the others are then stopped, as ECS does),
when ``timeout_seconds`` passes, or on ``stop``.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from batchyard.runners import classify, state
from batchyard.runners.base import (
    ContainerExit,
    ContainerSpec,
    LogSink,
    StartFailure,
    TaskExit,
    TaskSpec,
)
from batchyard.runners.logship import Shipper, open_stream

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# The wrapper's own stderr goes nowhere (dash reports "Terminated" there for a killed
# command); the command's stderr joins its stdout in the log (``exec 2>&1`` in _INNER).
_WRAPPER = 'exitfile=$1; shift; "$@"; echo $? > "$exitfile"'
_INNER = (
    'exec 2>&1; p=$1; m=$2; t=$3; shift 3; [ "$m" = - ] || ulimit -v "$m" || exit 125; '
    '[ "$t" = - ] || ulimit -t "$t" || exit 125; echo $$ > "$p"; exec "$@"'
)
_READ_CHUNK = 1 << 20


def _proc_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (field 22 of /proc/pid/stat): tells a pid reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    return int(text) if text.endswith("\n") and text.strip().lstrip("-").isdigit() else None


@dataclass
class _Container:
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
        containers: list[_Container],
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

    def _sleep(self, live: list[_Container], kill_at: float | None) -> None:
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

    def _signal(self, live: list[_Container], signum: int) -> None:
        """Send ``signum`` to each command's process group, once per container."""
        for container in live:
            if container.sent == signum:
                continue
            if container.pgid is None:
                container.pgid = _read_int(container.pid_file)
            if container.pgid is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(container.pgid, signum)
                container.sent = signum

    def _reap(self) -> None:
        for container in self._containers:
            if container.ended or _alive(container):
                continue
            container.ended = True
            container.exit_code = _read_int(container.exit_file)
            if container.exit_code is None:
                container.reason = (
                    "batchyard: the process ended while no runner watched it; "
                    "its exit code was not recorded"
                )
            elif self._timed_out and self._stop_reason is None:
                container.reason = f"Task timed out after {self.spec.timeout_seconds:g} seconds"
            if container.pgid is None:
                container.pgid = _read_int(container.pid_file)
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


def _alive(container: _Container) -> bool:
    if container.proc is not None:
        return container.proc.poll() is None
    if container.pidfd is None:
        return False
    ready, _, _ = select.select([container.pidfd], [], [], 0)
    return not ready


class LocalRunner:
    """Runs tasks as host processes; see the module docstring.

    Options (``make_runner("local", {...})``): ``state_dir`` (default: a directory under the
    system's temporary directory), ``stop_grace_seconds`` (30, ECS's default stop timeout),
    ``cpu_time_limit_seconds`` (RLIMIT_CPU; none by default), ``log_flush_interval`` (1.0 s),
    ``poll_interval`` (how often output is read while a task runs, 0.05 s).
    """

    name = "local"

    def __init__(
        self,
        state_dir: str | Path | None = None,
        *,
        stop_grace_seconds: float = 30.0,
        cpu_time_limit_seconds: int | None = None,
        log_flush_interval: float = 1.0,
        poll_interval: float = 0.05,
    ) -> None:
        self.state_dir = Path(state_dir) if state_dir else state.default_state_dir("local")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.stop_grace_seconds = stop_grace_seconds
        self.cpu_time_limit_seconds = cpu_time_limit_seconds
        self.log_flush_interval = log_flush_interval
        self.poll_interval = poll_interval
        setsid = shutil.which("setsid")
        if setsid is None:
            raise RuntimeError("the local runner needs util-linux's setsid on PATH")
        self._setsid = setsid
        self._tasks: set[LocalTask] = set()
        self._lock = threading.Lock()

    def task_dir(self, task_id: str) -> Path:
        return self.state_dir / state.check_name(task_id, "task id")

    def close(self) -> None:
        """Stop following tasks; their processes go on and a new runner re-attaches to them."""
        with self._lock:
            tasks = list(self._tasks)
        for task in tasks:
            task.detach()

    def forget(self, task_id: str) -> None:
        directory = self.task_dir(task_id)
        if (directory / "task.json").exists() and not (directory / "result.json").exists():
            raise ValueError(f"task {task_id} is still running; stop it and wait first")
        shutil.rmtree(directory, ignore_errors=True)

    def _forget(self, task: LocalTask) -> None:
        with self._lock:
            self._tasks.discard(task)

    # ------------------------------------------------------------------ start

    def start(self, spec: TaskSpec, logs: LogSink | None) -> LocalTask:
        key = str(self.task_dir(spec.task_id))
        with state.FOLLOWED.lock(key):
            followed = state.FOLLOWED.get(key)
            if isinstance(followed, LocalTask) and followed.wait(0) is None:
                return followed  # already followed in this process: never twice
            task = self._start(spec, logs)
            if task.wait(0) is None:
                state.FOLLOWED.put(key, task)
            return task

    def _start(self, spec: TaskSpec, logs: LogSink | None) -> LocalTask:
        directory = self.task_dir(spec.task_id)
        if not spec.containers:
            raise ValueError(f"task {spec.task_id} has no containers")
        for c in spec.containers:
            state.check_name(c.name, "container name")
        result = state.read_json(directory / "result.json")
        if result is not None:
            return LocalTask.finished(self, spec, result)
        info = state.read_json(directory / "task.json")
        plans: list[dict[str, Any] | None] = [None] * len(spec.containers)
        if info is None:
            plans = [self._plan(spec, c) for c in spec.containers]  # StartFailure before any
            streams = self._open_streams(spec, logs)
            if self._claim(directory, spec):
                # RUNNING from the spawn on: a command that cannot exec after the checks of
                # _plan ends at once with the shell's 126/127, as a container would.
                info = {"started_at": time.time(), "timeout_seconds": spec.timeout_seconds}
                state.write_json(directory / "task.json", info)
            else:  # another start of the same task won the race: follow its processes
                info = state.read_json(directory / "task.json")
                result = state.read_json(directory / "result.json")
                if result is not None:
                    return LocalTask.finished(self, spec, result)
                if info is None:
                    info = {"started_at": time.time(), "timeout_seconds": spec.timeout_seconds}
                    state.write_json(directory / "task.json", info)
        else:
            streams = self._open_streams(spec, logs)
        containers = []
        for c, plan in zip(spec.containers, plans, strict=True):
            cdir = directory / c.name
            cdir.mkdir(exist_ok=True)
            container = _Container(c, cdir)
            if not self._reattach(container):
                self._spawn(container, plan or self._plan(spec, c))
            containers.append(container)
        started = float(info["started_at"])
        timeout = info.get("timeout_seconds")
        deadline = None if timeout is None else started + float(timeout)
        for container, stream in zip(containers, streams, strict=True):
            self._attach_logs(container, logs, stream)
        task = LocalTask(self, spec, directory, containers, state.from_epoch(started), deadline)
        with self._lock:
            self._tasks.add(task)
        task._begin()
        return task

    def _claim(self, directory: Path, spec: TaskSpec) -> bool:
        """Create the task's directory: True for the one start that made it. Another start
        waits (10 s at most) until the winner has recorded every container it spawned."""
        try:
            directory.mkdir(parents=True)
            return True
        except FileExistsError:
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if (directory / "result.json").exists() or all(
                (directory / c.name / "wrapper.json").exists() for c in spec.containers
            ):
                break
            time.sleep(0.005)
        return False

    def _open_streams(self, spec: TaskSpec, logs: LogSink | None) -> list[str | None]:
        return [
            None
            if logs is None or c.logs is None
            else open_stream(logs, c.logs, c.name, spec.task_id)
            for c in spec.containers
        ]

    def _plan(self, spec: TaskSpec, c: ContainerSpec) -> dict[str, Any]:
        """The argv, environment and directory of a container; StartFailure if it cannot run."""
        argv = [*c.entry_point, *c.command]
        if not argv:
            raise StartFailure(
                classify.cannot_start("Error response from daemon: No command specified")
            )
        env = {"PATH": DEFAULT_PATH, "LANG": "C.UTF-8"}
        env.update(c.environment)
        workdir = c.working_directory
        if workdir is not None and not os.path.isdir(workdir):
            raise StartFailure(
                classify.cannot_start(
                    "Error response from daemon: failed to create shim task: OCI runtime create "
                    "failed: runc create failed: unable to start container process: chdir to "
                    f'cwd ("{workdir}") set in config.json failed: no such file or directory: '
                    "unknown"
                )
            )
        env.setdefault("HOME", workdir or str(self.task_dir(spec.task_id) / c.name / "work"))
        executable = argv[0]
        if "/" in executable:
            path = os.path.join(workdir or "/", executable)
            found = os.path.isfile(path) and os.access(path, os.X_OK)
        else:
            found = shutil.which(executable, path=env["PATH"]) is not None
        if not found:
            raise StartFailure(classify.executable_not_found(executable))
        memory = c.memory_mib or spec.memory_mib
        return {
            "argv": argv,
            "env": env,
            "workdir": workdir,
            "memory_kib": "-" if memory is None else str(memory * 1024),
            "cpu_seconds": "-"
            if self.cpu_time_limit_seconds is None
            else str(self.cpu_time_limit_seconds),
        }

    def _spawn(self, container: _Container, plan: dict[str, Any]) -> None:
        workdir = plan["workdir"]
        if workdir is None:
            workdir = str(container.directory / "work")
            os.makedirs(workdir, exist_ok=True)
        with open(container.log_file, "ab") as out:
            proc = subprocess.Popen(
                ["/bin/sh", "-c", _WRAPPER, "batchyard-wrapper", str(container.exit_file),
                 self._setsid, "/bin/sh", "-c", _INNER, "batchyard-task",
                 str(container.pid_file), plan["memory_kib"], plan["cpu_seconds"],
                 *plan["argv"]],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.DEVNULL,
                cwd=workdir,
                env=plan["env"],
                start_new_session=True,
                close_fds=True,
            )  # fmt: skip
        container.proc = proc
        container.wrapper_pid = proc.pid
        container.pidfd = _pidfd(proc.pid)
        state.write_json(
            container.directory / "wrapper.json",
            {"pid": proc.pid, "start_time": _proc_start_time(proc.pid)},
        )

    def _reattach(self, container: _Container) -> bool:
        """Follow a container this task already started; False if it never was."""
        wrapper = state.read_json(container.directory / "wrapper.json")
        if wrapper is None:
            return False
        pid = int(wrapper["pid"])
        container.wrapper_pid = pid
        if _proc_start_time(pid) == wrapper["start_time"]:
            container.pidfd = _pidfd(pid)
        container.pgid = _read_int(container.pid_file)
        return True

    def _attach_logs(self, container: _Container, logs: LogSink | None, stream: str | None) -> None:
        c = container.spec
        if logs is None or c.logs is None or stream is None:
            return
        shipped = state.read_json(container.directory / "shipped.json") or {}
        base = int(shipped.get("bytes", 0))
        record = container.directory / "shipped.json"

        def remember(shipper: Shipper) -> None:
            state.write_json(record, {"bytes": base + shipper.shipped_bytes})

        container.shipper = Shipper(
            logs,
            c.logs.group,
            stream,
            flush_interval=self.log_flush_interval,
            on_shipped=remember,
        )
        try:
            output = open(container.log_file, "rb")  # noqa: SIM115 - closed by the monitor
        except FileNotFoundError:
            container.shipper = None
            return
        output.seek(base)
        container.output = output


def _pidfd(pid: int) -> int | None:
    """A file descriptor that becomes readable when ``pid`` ends (also for non-children)."""
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        return None
