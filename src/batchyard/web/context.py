"""What every console endpoint works with, and the JSON answers they share."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from batchyard.api.app import App
from batchyard.api.errors import AwsError
from batchyard.api.stepfunctions.common import Backend
from batchyard.logs import LogStore
from batchyard.web.auth import Sessions
from batchyard.web.inproc import InProcess, Unavailable, error_payload

# POSTs from the console carry this header: a cross-site form cannot set it, and a
# cross-site fetch that sets it needs a CORS preflight this server never grants.
CSRF_HEADER = "x-batchyard-console"

Endpoint = Callable[[Request], Awaitable[Response]]
# (path, endpoint, method) of a JSON endpoint; the console wraps each in its guard.
ApiRoute = tuple[str, Endpoint, str]


class Invocations(Protocol):
    """What the console asks the function service: its recent invocations (newest first)."""

    def list_invocations(self, name: str) -> list[Any]: ...


@dataclass
class Console:
    """The server components the console reads; ``None`` where the server lacks one."""

    app: App
    aws: InProcess
    sessions: Sessions
    stepfunctions: Backend | None
    logs: LogStore | None
    functions: Invocations | None = None


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


class Json(Response):
    """JSON with datetimes as ISO 8601 UTC (milliseconds), never cached."""

    media_type = "application/json"

    def __init__(self, content: Any, status_code: int = 200) -> None:
        super().__init__(
            json.dumps(content, default=_default, separators=(",", ":")),
            status_code=status_code,
            headers={"cache-control": "no-store"},
        )


def problem(status: int, code: str, message: str) -> Json:
    return Json({"error": code, "message": message}, status)


def unavailable(what: str) -> Json:
    """A component the server does not run: an answer, not a failure (HTTP 200), so the
    page shows it plainly and the browser logs no failed request."""
    return Json({"unavailable": True, "message": f"{what} is not available on this server."})


def from_error(exc: Exception) -> Json:
    """An ``AwsError`` or ``Unavailable`` as the console's error JSON (other errors raise)."""
    if isinstance(exc, Unavailable):
        return Json({"unavailable": True, "message": str(exc)})
    if isinstance(exc, AwsError):
        return Json(error_payload(exc), exc.status if exc.status and exc.status < 500 else 400)
    raise exc


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; ``ValueError`` with a readable message otherwise."""
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise ValueError(f"The request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ValueError("The request body must be a JSON object.")
    return body


def int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}, got {value}")
    return value
