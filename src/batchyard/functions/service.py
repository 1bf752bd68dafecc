"""The function service: Lambda's control plane over the store, and invocations over the pool.

:class:`FunctionService` is what the Lambda API, the engine's Lambda tasks, the scheduler and
the console call. The control plane (create, update, get, list, delete) speaks the Lambda API's
shapes and raises :mod:`~batchyard.functions.errors`; :meth:`FunctionService.invoke` runs one
invocation in a warm worker and answers an :class:`InvokeResult` (what the Invoke API returns),
while the invocation's START/END/REPORT lines and output go to the log store in the background.
"""

from __future__ import annotations

import base64
import collections
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batchyard.functions import config as configuration
from batchyard.functions.code import CodeCache, digest, zip_of
from batchyard.functions.errors import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    RequestTooLargeException,
    ResourceNotFoundException,
    function_exists,
    function_not_found,
    revision_mismatch,
)
from batchyard.functions.logship import LogShipper, LogSink
from batchyard.functions.platform import invocation_log
from batchyard.functions.pool import WorkerPool
from batchyard.functions.repository import (
    Code,
    FunctionExists,
    FunctionRecord,
    Functions,
    RevisionMismatch,
)
from batchyard.functions.worker import Outcome, WorkerSpec
from batchyard.store import Store

log = logging.getLogger("batchyard.functions")

LOG_TAIL_BYTES = 4096
MAX_SYNC_PAYLOAD = 6_291_456
INVOCATION_HISTORY = 100


@dataclass(frozen=True)
class InvokeResult:
    """What Invoke answers: status 200/202/204, the payload, ``FunctionError``, ``LogResult``."""

    status_code: int
    payload: bytes
    function_error: str | None = None  # "Unhandled" when the function failed
    log_tail: str | None = None  # base64 of the last 4 KB of the invocation's log
    executed_version: str = "$LATEST"
    request_id: str = ""


@dataclass(frozen=True)
class InvocationSummary:
    """One recent invocation, for the console."""

    request_id: str
    function_name: str
    invocation_type: str
    started: datetime
    duration_ms: float
    status: str  # Succeeded | Failed | TimedOut
    error_type: str | None
    cold_start: bool
    log_stream: str


def parse_name(name_or_arn: str) -> tuple[str, str | None]:
    """Function name and qualifier from a name, ``name:qualifier``, a partial or full ARN."""
    parts = name_or_arn.split(":")
    if name_or_arn.startswith("arn:") and len(parts) >= 7:
        return parts[6], parts[7] if len(parts) > 7 else None
    if len(parts) >= 3 and parts[1] == "function":  # ACCOUNT:function:NAME[:QUALIFIER]
        return parts[2], parts[3] if len(parts) > 3 else None
    if len(parts) == 2:
        return parts[0], parts[1]
    return name_or_arn, None


class FunctionService:
    """Lambda-compatible functions of one server (see the package docstring)."""

    def __init__(
        self,
        store: Store,
        logs: LogSink | None,
        *,
        data_dir: Path,
        region: str = "us-east-1",
        account: str = "123456789012",
        worker_env: dict[str, str] | None = None,
        pool: WorkerPool | None = None,
        event_workers: int = 8,
        record_ttl: float = 1.0,
        async_retry_delays: tuple[float, ...] = (60.0, 120.0),
    ) -> None:
        self.store = store
        self.region = region
        self.account = account
        self._functions = Functions(store.db)
        self._code = Code(store.db)
        self.code = CodeCache(data_dir / "functions" / "code", self._code.get)
        self.pool = pool or WorkerPool()
        self.logs = LogShipper(logs)
        self._worker_env = tuple(sorted((worker_env or {}).items()))
        self._events = ThreadPoolExecutor(event_workers, thread_name_prefix="lambda-event")
        # An Event invocation that fails is tried again after these delays, with the same
        # request id (Lambda's default: two retries, about one and two minutes later).
        self.async_retry_delays = async_retry_delays
        self._retries: set[threading.Timer] = set()
        self._closing = threading.Event()
        self._history: dict[str, collections.deque[InvocationSummary]] = {}
        self._history_lock = threading.Lock()
        # Invocations read a function's row from here, at most ``record_ttl`` seconds old:
        # the store is not read on the warm path. Updates made through this service drop the
        # entry at once; another replica's update is seen within the TTL (on Lambda too an
        # update reaches invocations after a short while: LastUpdateStatus InProgress).
        self._record_ttl = record_ttl
        self._cached: dict[str, tuple[float, FunctionRecord]] = {}

    # --- names -------------------------------------------------------------------------------

    def arn(self, name: str, qualifier: str | None = None) -> str:
        base = configuration.function_arn(self.region, self.account, name)
        return f"{base}:{qualifier}" if qualifier else base

    def _record(
        self, name_or_arn: str, qualifier: str | None = None, *, cached: bool = False
    ) -> FunctionRecord:
        """The function's row: from the store (the control plane), or from the cache
        (invocations)."""
        name, parsed = parse_name(name_or_arn)
        qualifier = qualifier or parsed
        record = self._lookup(name) if cached else self._functions.get(name)
        if record is None or qualifier not in (None, "$LATEST"):
            raise function_not_found(self.arn(name, qualifier))
        return record

    def exists(self, name_or_arn: str) -> bool:
        name, qualifier = parse_name(name_or_arn)
        return qualifier in (None, "$LATEST") and self._lookup(name) is not None

    def _lookup(self, name: str) -> FunctionRecord | None:
        now = time.monotonic()
        cached = self._cached.get(name)
        if cached is not None and now - cached[0] < self._record_ttl:
            return cached[1]
        record = self._functions.get(name)
        if record is not None:  # an absent function is asked again: it may be created anywhere
            self._cached[name] = (now, record)
        else:
            self._cached.pop(name, None)
        return record

    def _forget(self, name: str) -> None:
        self._cached.pop(name, None)

    def names(self) -> list[str]:
        return self._functions.names()

    def _render(self, record: FunctionRecord, stage: str = "get") -> dict[str, Any]:
        return configuration.render(
            record,
            region=self.region,
            account=self.account,
            code_size=int(record.config["CodeSize"]),
            stage=stage,
        )

    # --- control plane -----------------------------------------------------------------------

    def create_function(self, params: dict[str, Any]) -> dict[str, Any]:
        """CreateFunction: ``params`` as the API parses them (``Code.ZipFile`` as bytes)."""
        name = str(params["FunctionName"])
        name, _ = parse_name(name)
        if params.get("PackageType", "Zip") != "Zip":
            raise InvalidParameterValueException(
                "batchyard runs Zip packages only (PackageType Image is not supported)."
            )
        if "Runtime" not in params:
            raise InvalidParameterValueException("Runtime must be specified for Zip functions.")
        if "Handler" not in params:
            raise InvalidParameterValueException("Handler must be specified for Zip functions.")
        settable = {k: params[k] for k in configuration.SETTABLE if k in params}
        configuration.check(settable)
        archive = zip_of(params.get("Code") or {})
        sha_hex, sha_b64 = digest(archive)
        config = {**configuration.defaults(name), **settable}
        config.update(CodeSha256=sha_b64, CodeSize=len(archive))
        if self._functions.get(name) is not None:
            raise function_exists(name)
        self._code.put(sha_hex, archive)
        record = FunctionRecord(
            name=name,
            revision_id=str(uuid.uuid4()),
            code_sha256=sha_hex,
            last_modified=_now(),
            config={**config, "Tags": dict(params.get("Tags") or {})},
        )
        try:
            self._functions.create(record)
        except FunctionExists:
            raise function_exists(name) from None
        finally:
            self._forget(name)
        return self._render(record, "create")

    def get_function(self, name_or_arn: str, qualifier: str | None = None) -> dict[str, Any]:
        record = self._record(name_or_arn, qualifier)
        result: dict[str, Any] = {
            "Configuration": self._render(record),
            "Code": {
                "RepositoryType": "S3",
                "Location": self.code.archive_path(record.code_sha256).as_uri(),
            },
        }
        tags = record.config.get("Tags") or {}
        if tags:
            result["Tags"] = dict(tags)
        return result

    def get_configuration(self, name_or_arn: str, qualifier: str | None = None) -> dict[str, Any]:
        return self._render(self._record(name_or_arn, qualifier))

    def list_functions(
        self, marker: str | None = None, max_items: int | None = None
    ) -> dict[str, Any]:
        limit = max(1, min(int(max_items or 50), 50))
        after = None
        if marker:
            try:
                after = base64.urlsafe_b64decode(marker.encode()).decode()
            except (ValueError, UnicodeDecodeError):
                raise InvalidParameterValueException("Invalid marker: " + marker) from None
        records = self._functions.page(after, limit + 1)
        page = records[:limit]
        result: dict[str, Any] = {"Functions": [self._render(r, "list") for r in page]}
        if len(records) > limit:
            result["NextMarker"] = base64.urlsafe_b64encode(page[-1].name.encode()).decode()
        return result

    def update_code(self, name_or_arn: str, params: dict[str, Any]) -> dict[str, Any]:
        record = self._record(name_or_arn)
        _check_revision(record, params.get("RevisionId"))
        archive = zip_of(params)
        sha_hex, sha_b64 = digest(archive)
        if params.get("DryRun"):
            config = {**record.config, "CodeSha256": sha_b64, "CodeSize": len(archive)}
            return self._render(replace(record, config=config), "update")
        self._code.put(sha_hex, archive)
        config = {**record.config, "CodeSha256": sha_b64, "CodeSize": len(archive)}
        if "Architectures" in params:
            config["Architectures"] = list(params["Architectures"])
        updated = replace(
            record,
            code_sha256=sha_hex,
            config=config,
            revision_id=str(uuid.uuid4()),
            last_modified=_now(),
        )
        self._save(updated, record.revision_id)
        return self._render(updated, "update")

    def update_configuration(self, name_or_arn: str, params: dict[str, Any]) -> dict[str, Any]:
        record = self._record(name_or_arn)
        _check_revision(record, params.get("RevisionId"))
        settable = {k: params[k] for k in configuration.SETTABLE if k in params}
        configuration.check(settable)
        updated = replace(
            record,
            config={**record.config, **settable},
            revision_id=str(uuid.uuid4()),
            last_modified=_now(),
        )
        self._save(updated, record.revision_id)
        return self._render(updated, "update")

    def _save(self, record: FunctionRecord, expected: str) -> None:
        try:
            self._functions.update(record, expected)
        except RevisionMismatch:
            raise revision_mismatch() from None
        finally:
            self._forget(record.name)
        self.pool.retire(record.name)  # warm workers of the old revision go

    def delete_function(self, name_or_arn: str, qualifier: str | None = None) -> None:
        name, parsed = parse_name(name_or_arn)
        if (qualifier or parsed) not in (None, "$LATEST"):
            raise function_not_found(self.arn(name, qualifier or parsed))
        deleted = self._functions.delete(name)
        self._forget(name)
        if not deleted:
            raise function_not_found(self.arn(name))
        self.pool.retire(name)
        self._code.collect()

    # --- tags (kept with the function; no new revision: the code and settings are the same) --

    def list_tags(self, arn: str) -> dict[str, str]:
        return dict(self._record(arn).config.get("Tags") or {})

    def tag(self, arn: str, tags: dict[str, str]) -> None:
        self._retag(arn, lambda current: {**current, **tags})

    def untag(self, arn: str, keys: list[str]) -> None:
        self._retag(arn, lambda current: {k: v for k, v in current.items() if k not in keys})

    def _retag(self, arn: str, change: Callable[[dict[str, str]], dict[str, str]]) -> None:
        while True:
            record = self._record(arn)
            tags = change(dict(record.config.get("Tags") or {}))
            try:
                self._functions.update(
                    replace(record, config={**record.config, "Tags": tags}), record.revision_id
                )
                return
            except RevisionMismatch:
                continue  # updated meanwhile: tag the new revision

    # --- invocations -------------------------------------------------------------------------

    def invoke(
        self,
        name_or_arn: str,
        payload: bytes = b"",
        invocation_type: str = "RequestResponse",
        *,
        log_type: str | None = None,
        qualifier: str | None = None,
        request_id: str | None = None,
        client_context: str | None = None,
    ) -> InvokeResult:
        """Invoke a function as the Invoke API does (see the package docstring).

        ``client_context`` is the base64 JSON of ``X-Amz-Client-Context``; the handler sees it
        as ``context.client_context`` (``client``, ``custom``, ``env``).
        """
        record = self._record(name_or_arn, qualifier, cached=True)
        client = _decode_client_context(client_context)
        if payload.strip():
            try:
                json.loads(payload)
            except ValueError as exc:
                raise InvalidRequestContentException(
                    "Could not parse request body into json: Could not parse payload into json: "
                    f"{exc}"
                ) from None
        request_id = request_id or str(uuid.uuid4())
        if invocation_type == "DryRun":
            return InvokeResult(204, b"", request_id=request_id)
        if invocation_type == "Event":
            self._submit_event(record.name, payload, request_id, client, 0)
            return InvokeResult(202, b"", request_id=request_id)
        if len(payload) > MAX_SYNC_PAYLOAD:
            raise RequestTooLargeException(
                f"Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction "
                "operation"
            )
        outcome, log_text = self._run(record, payload, "RequestResponse", request_id, client)
        tail = None
        if log_type == "Tail":
            tail = base64.b64encode(log_text.encode()[-LOG_TAIL_BYTES:]).decode()
        return InvokeResult(
            200,
            outcome.payload,
            function_error=None if outcome.ok else "Unhandled",
            log_tail=tail,
            request_id=request_id,
        )

    def _run(
        self,
        record: FunctionRecord,
        payload: bytes,
        kind: str,
        request_id: str,
        client_context: dict[str, Any] | None = None,
    ) -> tuple[Outcome, str]:
        spec = self._spec(record)
        started = _now()
        worker, cold = self.pool.acquire(spec)
        invoked = _now() if cold else started  # after the init phase of a cold start
        try:
            outcome = worker.invoke(request_id, payload, self.arn(record.name), client_context)
        finally:
            self.pool.release(worker)
        events, text = invocation_log(record, outcome, request_id, started, invoked, self.region)
        self.logs.ship(f"/aws/lambda/{record.name}", worker.stream, events)
        self._remember(
            InvocationSummary(
                request_id=request_id,
                function_name=record.name,
                invocation_type=kind,
                started=started,
                duration_ms=outcome.duration_ms,
                status="Succeeded"
                if outcome.ok
                else ("TimedOut" if outcome.timed_out else "Failed"),
                error_type=outcome.error_type,
                cold_start=cold,
                log_stream=worker.stream,
            )
        )
        return outcome, text

    def _submit_event(
        self,
        name: str,
        payload: bytes,
        request_id: str,
        client: dict[str, Any] | None,
        attempt: int,
    ) -> None:
        if self._closing.is_set():
            return
        future = self._events.submit(self._event, name, payload, request_id, client, attempt)
        future.add_done_callback(_log_failure)

    def _event(
        self,
        name: str,
        payload: bytes,
        request_id: str,
        client: dict[str, Any] | None,
        attempt: int,
    ) -> None:
        """One try of an Event invocation; a failed try schedules the next one."""
        try:
            record = self._record(name, cached=True)
        except ResourceNotFoundException:
            return  # deleted since it was queued
        outcome, _ = self._run(record, payload, "Event", request_id, client)
        if outcome.ok or attempt >= len(self.async_retry_delays) or self._closing.is_set():
            return

        def again() -> None:
            self._retries.discard(timer)
            self._submit_event(name, payload, request_id, client, attempt + 1)

        timer = threading.Timer(self.async_retry_delays[attempt], again)
        timer.daemon = True
        self._retries.add(timer)
        timer.start()

    def _spec(self, record: FunctionRecord) -> WorkerSpec:
        config = record.config
        variables = (config.get("Environment") or {}).get("Variables") or {}
        return WorkerSpec(
            function_name=record.name,
            function_arn=self.arn(record.name),
            code_dir=self.code.directory(record.code_sha256),
            handler=str(config["Handler"]),
            runtime=str(config["Runtime"]),
            memory_mb=int(config.get("MemorySize", configuration.DEFAULT_MEMORY)),
            timeout_s=int(config.get("Timeout", configuration.DEFAULT_TIMEOUT)),
            environment=tuple(sorted((str(k), str(v)) for k, v in variables.items())),
            region=self.region,
            revision=record.revision_id,
            extra_env=self._worker_env,
        )

    def _remember(self, summary: InvocationSummary) -> None:
        with self._history_lock:
            history = self._history.setdefault(
                summary.function_name, collections.deque(maxlen=INVOCATION_HISTORY)
            )
            history.appendleft(summary)

    def list_invocations(self, name: str) -> list[InvocationSummary]:
        """The latest invocations of a function on this server, newest first (at most 100)."""
        with self._history_lock:
            return list(self._history.get(parse_name(name)[0], ()))

    def flush_logs(self) -> None:
        self.logs.flush()

    def close(self) -> None:
        """Stop: pending Event retries are dropped, running invocations end, workers go."""
        self._closing.set()
        for timer in list(self._retries):
            timer.cancel()
        self._events.shutdown(wait=True, cancel_futures=True)
        self.pool.close()
        self.logs.close()


def _log_failure(future: Future[Any]) -> None:
    """An ``Event`` invocation has no caller to tell: its own failures go to the server log."""
    error = None if future.cancelled() else future.exception()
    if error is not None:
        log.error("an Event invocation failed", exc_info=error)


def _decode_client_context(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        decoded = json.loads(base64.b64decode(text, validate=True))
    except ValueError:
        raise InvalidRequestContentException(
            "Client context must be a valid Base64-encoded JSON object."
        ) from None
    if not isinstance(decoded, dict):
        raise InvalidRequestContentException(
            "Client context must be a valid Base64-encoded JSON object."
        )
    return decoded


def _check_revision(record: FunctionRecord, revision_id: Any) -> None:
    if revision_id is not None and revision_id != record.revision_id:
        raise revision_mismatch()


def _now() -> datetime:
    return datetime.now(UTC)
