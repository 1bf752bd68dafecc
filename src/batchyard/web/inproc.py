"""Calling the server's own AWS operations from the console, without HTTP.

The console acts on what an AWS client could act on (StopExecution, RedriveExecution,
ListSchedules, ListTasks, ...): it calls the same handler a boto3 request would reach, with
the request validated and parsed against the botocore model and the handler's errors
translated exactly as ``App._handle`` translates them. A service the server does not run
answers :class:`Unavailable`, which the console shows as "not available on this server".
"""

from __future__ import annotations

import inspect
import uuid
from typing import Any

from starlette.concurrency import run_in_threadpool

from batchyard.api import shapes
from batchyard.api.app import App
from batchyard.api.errors import AwsError
from batchyard.api.service import RequestContext


class Unavailable(Exception):
    """The server does not run this service (or this operation of it)."""


class InProcess:
    """AWS operations of one ``App``, called as the signed-in console user."""

    def __init__(self, app: App) -> None:
        self._app = app

    def has(self, service: str, operation: str | None = None) -> bool:
        found = self._app.services.get(service)
        if found is None:
            return False
        return operation is None or operation in found.handlers

    async def call(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """The handler's output as a plain dict (datetimes stay ``datetime``).

        Raises ``AwsError`` (AWS's code and message) or :class:`Unavailable`.
        """
        found = self._app.services.get(service)
        if found is None or operation not in found.handlers:
            raise Unavailable(f"{service}:{operation} is not available on this server")
        handler = found.handlers[operation]
        op = found.operation(operation)
        shapes.validate(op.input_shape, params, found.validation_error, found.relaxed)
        parsed = shapes.parse(op.input_shape, params)
        context = RequestContext(
            service=service,
            operation=operation,
            request_id=str(uuid.uuid4()),
            region=self._app.config.region,
            account_id=self._app.config.account_id,
            access_key=None,
        )
        try:
            if inspect.iscoroutinefunction(handler):
                output = await handler(parsed, context)
            else:
                output = await run_in_threadpool(handler, parsed, context)
        except Exception as exc:
            error = found.to_aws_error(exc)
            if error is None:
                raise
            raise error from exc
        return dict(output or {})


def error_payload(exc: AwsError) -> dict[str, str]:
    """The console's JSON shape of an AWS error: ``{"error": code, "message": text}``."""
    return {"error": exc.code, "message": exc.message or exc.code}
