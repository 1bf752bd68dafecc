"""The Step Functions API of the batchyard server (AWS JSON 1.0, ``AWSStepFunctions.*``).

Every operation of botocore's ``stepfunctions`` model is a handler in one of the modules
below, listed in its ``HANDLERS`` table; :class:`StepFunctionsApi` binds them to a
:class:`Backend` (store, engine, region and account) and registers them on a ``Service``.
Handlers raise ``AwsError`` with AWS's texts; the engine's own errors carry their AWS code and
are translated as they are.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from batchyard.api.service import Handler, RequestContext, Service, coded_error
from batchyard.api.stepfunctions import (
    activities,
    executions,
    history,
    map_runs,
    state_machines,
    tags,
    validation,
    versions,
)
from batchyard.api.stepfunctions.common import Backend, Params, Result
from batchyard.engine.errors import EngineError

__all__ = ["Backend", "StepFunctionsApi"]

_MODULES = (
    state_machines,
    versions,
    executions,
    history,
    activities,
    map_runs,
    tags,
    validation,
)


def _bind(backend: Backend, fn: Callable[[Backend, Params], Any]) -> Handler:
    """A handler of the server's shape; coroutine functions stay coroutine functions."""
    if inspect.iscoroutinefunction(fn):

        async def handle_async(params: dict[str, Any], _: RequestContext) -> Result:
            result: Result = await fn(backend, params)
            return result

        handle_async.__name__ = fn.__name__
        return handle_async

    def handle(params: dict[str, Any], _: RequestContext) -> Result:
        result: Result = fn(backend, params)
        return result

    handle.__name__ = fn.__name__
    return handle


class StepFunctionsApi:
    """Handlers of every Step Functions operation, over one backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def handlers(self) -> dict[str, Handler]:
        table: dict[str, Handler] = {}
        for module in _MODULES:
            for operation, fn in module.HANDLERS.items():
                table[operation] = _bind(self.backend, fn)
        return table

    def service(self) -> Service:
        service = Service(
            "stepfunctions",
            validation_error="ValidationException",
            # AWS answers an empty definition with its own diagnostic ("Definition must be a
            # valid JSON object"), not with the model's length constraint.
            # ... and too many routes with Coral's rendering of the list, done by the handler.
            relaxed={("Definition", "min"), ("RoutingConfigurationList", "max")},
            error_namespace="com.amazonaws.swf.service.v2.model",
        )
        service.register_all(self.handlers())
        service.translate(EngineError, coded_error)
        return service
