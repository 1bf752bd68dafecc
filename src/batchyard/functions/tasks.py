"""The engine's Lambda tasks in server mode: function handlers backed by the function service.

The interpreter's Lambda integrations (``asl/lambda_invoke.py``) look handlers up by name or
ARN in ``InvokeEnv.functions`` and call ``handler(event, context)``. :class:`ServiceHandlers`
is that mapping over the :class:`~batchyard.functions.service.FunctionService`: each value
invokes the function in its worker (with the task's request id, so the log lines match) and
returns the decoded payload, or raises :class:`FunctionFailed` carrying Lambda's error
document, which the integration reports as error ``errorType`` and that document as the cause.
A function that does not exist is absent from the mapping, so the integration answers
``Lambda.ResourceNotFoundException`` as before. In-process handlers given at construction
(``run-local``, tests) are looked up first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from batchyard.functions.service import FunctionService, parse_name

Handler = Callable[[Any, Any], Any]


class FunctionFailed(Exception):
    """A function answered with ``X-Amz-Function-Error``; ``error_document`` is its payload."""

    def __init__(self, document: dict[str, Any]) -> None:
        super().__init__(str(document.get("errorMessage", "")))
        self.error_document = document


class ServiceHandlers(dict[str, Handler]):
    """Handlers by name or ARN: the in-process ones stored in the dict, then the service's.

    A ``dict`` (the engine keeps its handlers in one, ``Engine.functions``) whose lookups also
    reach the function service; setting an item registers an in-process handler, which wins
    over a stored function of that name.
    """

    def __init__(
        self, service: FunctionService, local: Mapping[str, Handler] | None = None
    ) -> None:
        super().__init__(local or {})
        self._service = service

    def __getitem__(self, key: str) -> Handler:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        name, qualifier = parse_name(key)
        if not self._service.exists(key):
            raise KeyError(key)
        return _RemoteHandler(self._service, name, qualifier)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        local = list(dict.__iter__(self))
        yield from local
        yield from (n for n in self._service.names() if n not in local)

    def __len__(self) -> int:
        return len(set(dict.__iter__(self)) | set(self._service.names()))

    def __bool__(self) -> bool:
        return True  # never replaced by an empty default (``functions or {}``)


class _RemoteHandler:
    def __init__(self, service: FunctionService, name: str, qualifier: str | None) -> None:
        self._service = service
        self._name = name
        self._qualifier = qualifier

    def __call__(self, event: Any, context: Any) -> Any:
        request_id = getattr(context, "aws_request_id", None)
        result = self._service.invoke(
            self._name,
            json.dumps(event).encode(),
            qualifier=self._qualifier,
            request_id=str(request_id) if request_id else None,
        )
        if result.function_error is not None:
            try:
                document = json.loads(result.payload)
            except ValueError:
                document = {"errorMessage": result.payload.decode("utf-8", "replace")}
            if not isinstance(document, dict):
                document = {"errorMessage": str(document)}
            raise FunctionFailed(document)
        return json.loads(result.payload) if result.payload else None
