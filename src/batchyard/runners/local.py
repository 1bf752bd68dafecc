"""The ``local`` runner: each container of a task as a host process.

The embedded default where no container engine is reachable. The image is ignored (there is no
root filesystem to unpack): the container's ``entryPoint + command`` runs on the host, with a
minimal environment (``PATH``, ``HOME``, ``LANG``) plus the container's own, in its
``workingDirectory`` (or a fresh directory of the task), under ``RLIMIT_AS`` = the container's
(else the task's) memory in MiB and, when configured, ``RLIMIT_CPU``. A process over its memory
limit sees its allocations fail; unlike a container it is not OOM-killed, so its exit is its
own and is not reported as ``OutOfMemoryError``. CPU units (a share of the machine, not a
budget) and the network mode have no host-process equivalent and are ignored; an egress proxy
reaches the process through its environment (``HTTP_PROXY``...), as the ECS service sets it.

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
when ``timeout_seconds`` passes, or on ``stop``. Output is read from ``output.log`` every
``poll_interval`` (50 ms): a line's timestamp is when it was read, at most that much after it
was written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from batchyard.runners import classify, state
from batchyard.runners.base import (
    ContainerSpec,
    LogSink,
    StartFailure,
    TaskSpec,
)
from batchyard.runners.local_task import HostContainer, LocalTask, read_int
from batchyard.runners.logship import Shipper, open_stream

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# The wrapper's own stderr goes nowhere (dash reports "Terminated" there for a killed
# command); the command's stderr joins its stdout in the log (``exec 2>&1`` in _INNER).
_WRAPPER = 'exitfile=$1; shift; "$@"; echo $? > "$exitfile"'
_INNER = (
    'exec 2>&1; p=$1; m=$2; t=$3; shift 3; [ "$m" = - ] || ulimit -v "$m" || exit 125; '
    '[ "$t" = - ] || ulimit -t "$t" || exit 125; echo $$ > "$p"; exec "$@"'
)


def _proc_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (field 22 of /proc/pid/stat): tells a pid reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


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
            container = HostContainer(c, cdir)
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

    def _spawn(self, container: HostContainer, plan: dict[str, Any]) -> None:
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

    def _reattach(self, container: HostContainer) -> bool:
        """Follow a container this task already started; False if it never was."""
        wrapper = state.read_json(container.directory / "wrapper.json")
        if wrapper is None:
            return False
        pid = int(wrapper["pid"])
        container.wrapper_pid = pid
        if _proc_start_time(pid) == wrapper["start_time"]:
            container.pidfd = _pidfd(pid)
        container.pgid = read_int(container.pid_file)
        return True

    def _attach_logs(
        self, container: HostContainer, logs: LogSink | None, stream: str | None
    ) -> None:
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
