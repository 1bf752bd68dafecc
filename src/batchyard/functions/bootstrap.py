"""The worker process of one function: Lambda's Python runtime loop, over two pipes.

Run as a script (``python bootstrap.py``), not as ``batchyard.functions.bootstrap``: it imports
nothing of batchyard, so a cold start costs an interpreter plus the handler's own imports. The
parent (``worker.py``) passes the pipe descriptors and the function's environment; this process

1. limits its address space (``BATCHYARD_RLIMIT_AS`` bytes), imports ``_HANDLER``'s module from
   the unpacked code directory (``LAMBDA_TASK_ROOT``) and reports ``S`` (ready, init duration)
   or ``X`` (init failed, Lambda's error document);
2. then, for each ``I`` frame (a JSON header line + the payload), calls the handler with a
   ``context`` and answers ``R`` (result) or ``E`` (error document), each preceded by ``L``
   frames: every line the handler prints and every ``logging`` record, formatted as Lambda's
   Python runtime formats them.

Frames are ``kind (1 byte) + length (4 bytes, big-endian) + body``. Texts of the error documents
(``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``, ``Runtime.MarshalError`` ...) are
those of AWS's runtime interface client (awslambdaric).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import resource
import struct
import sys
import threading
import time
import traceback
from typing import Any

_HEADER = struct.Struct(">cI")
_RESULT = struct.Struct(">Qd")  # max RSS in KiB, handler duration in ms


class _Channel:
    """Length-prefixed frames over the two pipes the parent passed."""

    def __init__(self, fd_in: int, fd_out: int) -> None:
        self._in = os.fdopen(fd_in, "rb", buffering=0)
        self._out = fd_out
        # The handler's own threads may print while the result goes out: one frame at a time.
        self._lock = threading.Lock()

    def send(self, kind: bytes, body: bytes) -> None:
        data = _HEADER.pack(kind, len(body)) + body
        with self._lock:
            view = memoryview(data)
            while view:
                written = os.write(self._out, view)
                view = view[written:]

    def receive(self) -> tuple[bytes, bytes] | None:
        head = self._read(_HEADER.size)
        if head is None:
            return None
        kind, length = _HEADER.unpack(head)
        body = self._read(length) if length else b""
        return kind, body or b""

    def _read(self, size: int) -> bytes | None:
        chunks = bytearray()
        while len(chunks) < size:
            chunk = self._in.read(size - len(chunks))
            if not chunk:
                return None
            chunks += chunk
        return bytes(chunks)


class _LogSink:
    """Where the handler's output goes: one ``L`` frame per line, timestamped when written."""

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def event(self, message: str) -> None:
        stamp = struct.pack(">Q", int(time.time() * 1000))
        self._channel.send(b"L", stamp + message.encode("utf-8", "replace"))


class _LineWriter:
    """``sys.stdout``/``sys.stderr`` of the handler: each completed line is a log event."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, sink: _LogSink) -> None:
        self._sink = sink
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            *lines, self._pending = self._pending.split("\n")
            for line in lines:
                self._sink.event(line + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._sink.event(self._pending)
            self._pending = ""

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


class _RequestIdFilter(logging.Filter):
    """Adds ``aws_request_id`` to each record, as the Lambda runtime's filter does."""

    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _RequestIdFilter.request_id
        return True


class _LambdaHandler(logging.Handler):
    """One log event per record: ``[LEVEL]\\tTIMESTAMPZ\\tREQUEST_ID\\tmessage\\n``."""

    def __init__(self, sink: _LogSink) -> None:
        super().__init__()
        self._sink = sink
        formatter = logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
        formatter.converter = time.gmtime
        self.setFormatter(formatter)
        self.addFilter(_RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._sink.event(self.format(record))
        except Exception:
            self.handleError(record)


class LambdaContext:
    """The ``context`` argument, with the attributes Lambda's Python runtime gives it."""

    def __init__(self, header: dict[str, Any]) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = str(header["arn"])
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.aws_request_id = str(header["id"])
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = _client_context(header.get("client_context"))
        self.tenant_id = None
        self._deadline_ms = int(header["deadline"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class _Client:
    """``context.client_context.client`` (the mobile SDK's client description)."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.installation_id = fields.get("installation_id")
        self.app_title = fields.get("app_title")
        self.app_version_name = fields.get("app_version_name")
        self.app_version_code = fields.get("app_version_code")
        self.app_package_name = fields.get("app_package_name")


class _ClientContext:
    def __init__(self, fields: dict[str, Any]) -> None:
        client = fields.get("client")
        self.client = _Client(client) if isinstance(client, dict) else None
        self.custom = fields.get("custom")
        self.env = fields.get("env")


def _client_context(fields: Any) -> _ClientContext | None:
    return _ClientContext(fields) if isinstance(fields, dict) else None


def _user_frames(exc: BaseException) -> list[str]:
    """The stack from the first frame outside this file: the handler's own frames."""
    frames = traceback.extract_tb(exc.__traceback__)
    for index, frame in enumerate(frames):
        if frame.filename != __file__:
            return traceback.format_list(frames[index:])
    return []


def _log_error(sink: _LogSink, document: dict[str, Any]) -> None:
    """The runtime's ``[ERROR] Type: message`` event with the traceback lines."""
    line = "[ERROR]"
    if document.get("errorType"):
        line += " " + str(document["errorType"])
    if document.get("errorMessage"):
        line += (":" if document.get("errorType") else "") + " " + str(document["errorMessage"])
    lines = [line, "Traceback (most recent call last):"]
    for element in document.get("stackTrace") or []:
        lines.extend(element.splitlines() or [""])
    sink.event("\n".join(lines))


def _load_handler(spec: str) -> Any:
    """Import ``module.function`` the way the runtime does; errors raise ``_InitError``."""
    try:
        module_name, function_name = spec.rsplit(".", 1)
    except ValueError as exc:
        raise _InitError("Runtime.MalformedHandlerName", f"Bad handler '{spec}': {exc}") from exc
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise _InitError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from exc
    except SyntaxError as exc:
        raise _InitError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"
        ) from exc
    except Exception as exc:
        raise _InitError(type(exc).__name__, str(exc), _user_frames(exc)) from exc
    handler = getattr(module, function_name, None)
    if handler is None:
        raise _InitError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return handler


class _InitError(Exception):
    def __init__(self, error_type: str, message: str, stack: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack = stack or []


def _limit_memory() -> None:
    limit = int(os.environ.pop("BATCHYARD_RLIMIT_AS", "0") or 0)
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _invoke(handler: Any, header: dict[str, Any], payload: bytes) -> tuple[bytes, bytes, float]:
    """Run the handler once: ``(kind, body, duration_ms)``."""
    request_id = str(header["id"])
    _RequestIdFilter.request_id = request_id
    started = time.perf_counter()
    try:
        event = json.loads(payload) if payload.strip() else {}
        result = handler(event, LambdaContext(header))
    except Exception as exc:
        elapsed = (time.perf_counter() - started) * 1000
        document = {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "requestId": request_id,
            "stackTrace": _user_frames(exc),
        }
        _flush_streams()
        _log_error(_SINK, document)
        return b"E", json.dumps(document).encode(), elapsed
    elapsed = (time.perf_counter() - started) * 1000
    _flush_streams()
    try:
        body = json.dumps(result).encode()
    except (TypeError, ValueError) as exc:
        document = {
            "errorMessage": f"Unable to marshal response: {exc}",
            "errorType": "Runtime.MarshalError",
            "requestId": request_id,
            "stackTrace": [],
        }
        _log_error(_SINK, document)
        return b"E", json.dumps(document).encode(), elapsed
    return b"R", body, elapsed


def _flush_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _max_rss_kib() -> int:
    """This process's peak resident size. ``VmHWM``, not ``ru_maxrss``: the latter keeps the
    high-water mark of the server process this one was forked from, across the exec."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


_SINK: _LogSink


def main() -> None:
    global _SINK
    channel = _Channel(
        int(os.environ.pop("BATCHYARD_FD_IN")), int(os.environ.pop("BATCHYARD_FD_OUT"))
    )
    _SINK = _LogSink(channel)
    sys.stdout = _LineWriter(_SINK)
    sys.stderr = _LineWriter(_SINK)
    root = logging.getLogger()
    root.handlers[:] = [_LambdaHandler(_SINK)]
    # sys.path[0] is this script's directory (batchyard's own modules): the code goes there.
    sys.path[0] = os.environ["LAMBDA_TASK_ROOT"]
    started = time.perf_counter()
    try:
        _limit_memory()
        handler = _load_handler(os.environ["_HANDLER"])
    except _InitError as exc:
        document = {
            "errorMessage": exc.message,
            "errorType": exc.error_type,
            "requestId": "",
            "stackTrace": exc.stack,
        }
        _flush_streams()
        _log_error(_SINK, document)
        channel.send(b"X", json.dumps(document).encode())
        return
    init_ms = (time.perf_counter() - started) * 1000
    _flush_streams()
    channel.send(b"S", struct.pack(">d", init_ms))
    while True:
        frame = channel.receive()
        if frame is None:
            return  # the parent closed the pipe: the worker is being retired
        _, body = frame
        head, _, payload = body.partition(b"\n")
        kind, answer, elapsed = _invoke(handler, json.loads(head), payload)
        channel.send(kind, _RESULT.pack(_max_rss_kib(), elapsed) + answer)


if __name__ == "__main__":
    main()
