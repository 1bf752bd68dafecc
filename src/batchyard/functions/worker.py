"""One warm worker process of a function: spawn it, send it invocations, kill it.

A worker is an execution environment in Lambda's sense: one process (``bootstrap.py``) with the
function's code imported once, serving one invocation at a time, reused while it lives. Its log
stream (``YYYY/MM/DD/[$LATEST]<32 hex>``) is its own, as on Lambda. The parent talks to it over
two pipes (no HTTP, no serialisation beyond the payload bytes), which is what keeps a warm
invocation well under a millisecond of overhead.

Timeouts are the parent's business: it polls the answer pipe with the invocation's deadline
and, past it, kills the process group; the worker is then dead and its pool replaces it.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
INIT_TIMEOUT_S = 10.0  # Lambda's limit on the init phase of an on-demand environment
_HEADER = struct.Struct(">cI")
_RESULT = struct.Struct(">Qd")
_STAMP = struct.Struct(">Q")

MIB = 1024 * 1024
# The address space a Python interpreter reserves beyond what it uses (thread stacks, arenas,
# shared libraries): RLIMIT_AS is MemorySize plus this floor, so that a 128 MB function can
# still start the interpreter and import common libraries.
ADDRESS_SPACE_FLOOR_MB = 1024


@dataclass(frozen=True)
class WorkerSpec:
    """Everything that shapes a worker; a different spec means a different worker."""

    function_name: str
    function_arn: str
    code_dir: Path
    handler: str
    runtime: str
    memory_mb: int
    timeout_s: int
    environment: tuple[tuple[str, str], ...]
    region: str
    revision: str  # changes with every code or configuration update
    extra_env: tuple[tuple[str, str], ...] = ()


@dataclass
class Outcome:
    """How one invocation went, as the worker saw it."""

    ok: bool
    payload: bytes  # the result JSON, or Lambda's error document
    logs: list[tuple[int, str]] = field(default_factory=list)  # (epoch ms, message)
    duration_ms: float = 0.0
    max_memory_mb: int = 0
    init_ms: float | None = None  # set on a cold start
    init_logs: list[tuple[int, str]] = field(default_factory=list)  # output of the init phase
    timed_out: bool = False
    error_type: str | None = None
    # The platform ended the runtime (Runtime.OutOfMemory, Runtime.ExitError): REPORT says so.
    platform_error: str | None = None


class WorkerDied(Exception):
    """The process ended without answering (killed, crashed, out of memory)."""


class OutOfMemory(Exception):
    """The process's resident memory went past the function's MemorySize."""


MEMORY_POLL_S = 0.05  # how often a running invocation's resident memory is looked at
_PAGE = os.sysconf("SC_PAGE_SIZE")


def log_stream_name(now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return f"{moment:%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"


def environment(spec: WorkerSpec, stream: str) -> dict[str, str]:
    """The variables Lambda sets for a Python function, then the function's own."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
        "_HANDLER": spec.handler,
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(dict(spec.extra_env))
    env.update(dict(spec.environment))
    env["BATCHYARD_RLIMIT_AS"] = str((spec.memory_mb + ADDRESS_SPACE_FLOOR_MB) * MIB)
    return env


class Worker:
    """A live worker process; not thread-safe (its pool hands it to one caller at a time)."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.stream = log_stream_name()
        self.last_used = time.monotonic()
        self.invocations = 0
        self._buffer = bytearray()
        self._logs: list[tuple[int, str]] = []
        self._raw_lock = threading.Lock()
        self._init_ms: float | None = None
        self._init_logs: list[tuple[int, str]] = []
        self._init_error: bytes | None = None
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        env = environment(spec, self.stream)
        env["BATCHYARD_FD_IN"] = str(to_child_r)
        env["BATCHYARD_FD_OUT"] = str(from_child_w)
        self._spawned = time.monotonic()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-X", "utf8", str(BOOTSTRAP)],
                env=env,
                cwd=spec.code_dir,
                pass_fds=(to_child_r, from_child_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: a kill takes its children too
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        # Output written below Python's sys.stdout (C libraries, child processes) is logged too.
        self._drain = threading.Thread(target=self._drain_raw, daemon=True)
        self._drain.start()
        self._await_init()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _drain_raw(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._raw_lock:
                self._logs.append((int(time.time() * 1000), line.decode("utf-8", "replace")))

    def _await_init(self) -> None:
        try:
            self._init_phase()
        finally:
            with self._raw_lock:
                self._init_logs, self._logs = self._logs, []

    def _init_phase(self) -> None:
        try:
            kind, body = self._answer(self._spawned + INIT_TIMEOUT_S)
        except TimeoutError:
            self.kill()
            self._init_error = _timeout_document("", INIT_TIMEOUT_S)
            return
        except WorkerDied:
            self._init_error = _exit_document("", self._exit_status())
            self.kill()
            return
        if kind == b"S":
            # Lambda's Init Duration covers the runtime's start and the handler's imports.
            self._init_ms = (time.monotonic() - self._spawned) * 1000
        else:  # b"X": the handler could not be loaded; Lambda reports it on the invocation
            self._init_error = body
            self.kill()

    def invoke(
        self,
        request_id: str,
        payload: bytes,
        invoked_arn: str,
        client_context: dict[str, Any] | None = None,
    ) -> Outcome:
        """Run one invocation to its end, its timeout, or the worker's death."""
        init_ms, self._init_ms = self._init_ms, None
        if self._init_error is not None:
            # Lambda answers an init failure with the runtime's document ("requestId": "").
            return self._finish(Outcome(ok=False, payload=self._init_error, init_ms=init_ms))
        self.invocations += 1
        timeout = float(self.spec.timeout_s)
        started = time.monotonic()
        deadline_ms = int(time.time() * 1000 + timeout * 1000)
        header: dict[str, Any] = {"id": request_id, "arn": invoked_arn, "deadline": deadline_ms}
        if client_context is not None:
            header["client_context"] = client_context
        try:
            self._send(b"I", json.dumps(header).encode() + b"\n" + payload)
            kind, body = self._answer(started + timeout, watch_memory=True)
        except OutOfMemory:
            self.kill()
            outcome = Outcome(
                ok=False,
                payload=_exit_document(request_id, -signal.SIGKILL, "Runtime.OutOfMemory"),
                duration_ms=(time.monotonic() - started) * 1000,
                max_memory_mb=self.spec.memory_mb,
                init_ms=init_ms,
                platform_error="Runtime.OutOfMemory",
            )
            return self._finish(outcome)
        except TimeoutError:
            peak = _peak_memory_mb(self.process.pid)
            self.kill()
            outcome = Outcome(
                ok=False,
                payload=_timeout_document(request_id, timeout),
                duration_ms=timeout * 1000,
                max_memory_mb=peak,
                timed_out=True,
                init_ms=init_ms,
            )
            return self._finish(outcome)
        except (WorkerDied, BrokenPipeError):
            status = self._exit_status()
            self.kill()
            outcome = Outcome(
                ok=False,
                payload=_exit_document(request_id, status),
                duration_ms=(time.monotonic() - started) * 1000,
                init_ms=init_ms,
                platform_error="Runtime.ExitError",
            )
            return self._finish(outcome)
        max_rss_kib, duration_ms = _RESULT.unpack_from(body)
        outcome = Outcome(
            ok=kind == b"R",
            payload=bytes(body[_RESULT.size :]),
            duration_ms=duration_ms,
            max_memory_mb=max(1, round(max_rss_kib / 1024)),
            init_ms=init_ms,
        )
        return self._finish(outcome)

    def _finish(self, outcome: Outcome) -> Outcome:
        with self._raw_lock:
            outcome.logs, self._logs = self._logs, []
        outcome.init_logs, self._init_logs = self._init_logs, []
        if not outcome.ok:
            try:
                outcome.error_type = str(json.loads(outcome.payload).get("errorType"))
            except (ValueError, AttributeError):
                outcome.error_type = "Unhandled"
        self.last_used = time.monotonic()
        return outcome

    # --- frames ------------------------------------------------------------------------------

    def _send(self, kind: bytes, body: bytes) -> None:
        view = memoryview(_HEADER.pack(kind, len(body)) + body)
        while view:
            written = os.write(self._to_child, view)
            view = view[written:]

    def _answer(self, deadline: float, *, watch_memory: bool = False) -> tuple[bytes, bytes]:
        """Frames until a final one (S, X, R, E); log frames are kept for the invocation."""
        while True:
            frame = self._frame()
            if frame is None:
                self._fill(deadline, watch_memory)
                continue
            kind, body = frame
            if kind == b"L":
                (stamp,) = _STAMP.unpack_from(body)
                text = bytes(body[_STAMP.size :]).decode("utf-8", "replace")
                with self._raw_lock:
                    self._logs.append((stamp, text))
                continue
            return kind, body

    def _frame(self) -> tuple[bytes, bytes] | None:
        if len(self._buffer) < _HEADER.size:
            return None
        kind, length = _HEADER.unpack_from(self._buffer)
        end = _HEADER.size + length
        if len(self._buffer) < end:
            return None
        body = bytes(self._buffer[_HEADER.size : end])
        del self._buffer[:end]
        return kind, body

    def _fill(self, deadline: float, watch_memory: bool) -> None:
        """Read what the worker wrote; past the deadline TimeoutError, past MemorySize (looked
        at every ``MEMORY_POLL_S`` while it runs) OutOfMemory."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            wait = min(remaining, MEMORY_POLL_S) if watch_memory else remaining
            ready, _, _ = select.select([self._from_child], [], [], wait)
            if ready:
                break
            if watch_memory and self._resident_bytes() > self.spec.memory_mb * MIB:
                raise OutOfMemory
        chunk = os.read(self._from_child, 1 << 16)
        if not chunk:
            raise WorkerDied
        self._buffer += chunk

    def _resident_bytes(self) -> int:
        try:
            with open(f"/proc/{self.process.pid}/statm", encoding="ascii") as statm:
                return int(statm.read().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            return 0

    # --- end of life -------------------------------------------------------------------------

    def _exit_status(self) -> int | None:
        """The exit status of a worker whose pipe closed (it is ending: give it a moment)."""
        try:
            return self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """Kill the process group at once (a timeout, an update, the server stopping)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._drain.join(timeout=1)
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._to_child = self._from_child = -1
        if self.process.stdout is not None:
            self.process.stdout.close()


def _peak_memory_mb(pid: int) -> int:
    """The process's peak resident size (``VmHWM``), read before it is killed."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return max(1, round(int(line.split()[1]) / 1024))
    except (OSError, ValueError):
        pass
    return 0


def _timeout_document(request_id: str, timeout: float) -> bytes:
    """Lambda's answer to a timed-out invocation (``Sandbox.Timedout``)."""
    return json.dumps(
        {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds",
        }
    ).encode()


def _exit_document(
    request_id: str, status: int | None, error_type: str = "Runtime.ExitError"
) -> bytes:
    """Lambda's answer when the runtime ended during an invocation (``sys.exit``, a crash, a
    kill), worded as Go's ``exec.ExitError`` that Lambda reports: ``exit status 3``,
    ``signal: killed``."""
    if status is not None and status >= 0:
        reason = f"exit status {status}"
    else:
        number = signal.Signals(-status if status is not None else signal.SIGKILL)
        reason = f"signal: {_SIGNAL_TEXT.get(number, number.name.lower())}"
    return json.dumps(
        {
            "errorType": error_type,
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {reason}",
        }
    ).encode()


# Go's names of the signals a runtime dies of (``syscall.Signal.String``).
_SIGNAL_TEXT = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGBUS: "bus error",
}
