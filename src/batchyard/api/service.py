"""A service is a botocore model plus a table of handlers, one per operation.

Adding a service to the server is: build a ``Service`` from its botocore name, ``register``
a handler per operation (the name is checked against the model), ``translate`` the domain
package's own error classes, and ``App.add_service`` it. Handlers take the validated request
as a plain dict (timestamps as aware ``datetime``, blobs as ``bytes``) and a ``RequestContext``,
and return a plain dict (or ``None``) that is serialised against the output shape. A handler
may be a coroutine function (e.g. a long poll); a plain function runs in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.model import OperationModel, ServiceModel  # type: ignore[import-untyped]

from batchyard.api.errors import AwsError
from batchyard.api.shapes import load_service_model


@dataclass(frozen=True)
class RequestContext:
    """What a handler may want to know about the request beyond its parameters."""

    service: str  # botocore name: "logs", "stepfunctions", ...
    operation: str
    request_id: str
    region: str
    account_id: str
    access_key: str | None
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[dict[str, Any], RequestContext], Any]
CORAL_VALIDATE = "com.amazon.coral.validate"
Translator = Callable[[Any], AwsError]


def coded_error(exc: Any) -> AwsError:
    """Domain errors that carry AWS's ``code`` and ``message`` (e.g. ``batchyard.logs``)."""
    return AwsError(str(exc.code), str(exc.message))


class Service:
    """One AWS service served by batchyard: model, handlers, error translation."""

    def __init__(
        self,
        name: str,
        *,
        validation_error: str = "ValidationException",
        model: ServiceModel | None = None,
        relaxed: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
        error_namespace: str | None = None,
    ) -> None:
        self.name = name
        self.model = model or load_service_model(name)
        self.protocol: str = self.model.protocol
        self.signing_name: str = self.model.signing_name or name
        self.target_prefix: str | None = self.model.metadata.get("targetPrefix")
        self.json_version: str = self.model.metadata.get("jsonVersion", "1.1")
        # The error code AWS answers a request that breaks the model's constraints with:
        # CloudWatch Logs says InvalidParameterException, Step Functions ValidationException.
        self.validation_error = validation_error
        # (shape name, constraint) pairs the model declares but AWS checks later, with a
        # message of its own; the handler (or the domain package) answers those instead.
        self.relaxed = frozenset(relaxed)
        # Some services qualify ``__type`` (Step Functions:
        # "com.amazonaws.swf.service.v2.model#ExecutionDoesNotExist"); SDKs keep what follows '#'.
        self.error_namespace = error_namespace
        self.handlers: dict[str, Handler] = {}
        self._translators: dict[type[BaseException], Translator] = {}
        self._errors = {s.name: s for s in self._error_shapes()}

    @property
    def full_name(self) -> str:
        return str(self.model.metadata.get("serviceFullName", self.name))

    def operation(self, name: str) -> OperationModel:
        return self.model.operation_model(name)

    def register(self, operation: str, handler: Handler) -> None:
        if operation not in self.model.operation_names:
            raise ValueError(f"{self.name} has no operation {operation!r}")
        self.handlers[operation] = handler

    def register_all(self, handlers: Mapping[str, Handler]) -> None:
        for operation, handler in handlers.items():
            self.register(operation, handler)

    def handler(self, operation: str) -> Callable[[Handler], Handler]:
        def decorate(fn: Handler) -> Handler:
            self.register(operation, fn)
            return fn

        return decorate

    def translate(
        self, error_type: type[BaseException], translator: Translator = coded_error
    ) -> None:
        """Answer ``error_type`` (and subclasses) raised by a handler as an AWS error."""
        self._translators[error_type] = translator

    def to_aws_error(self, exc: BaseException) -> AwsError | None:
        if isinstance(exc, AwsError):
            return exc
        for klass in type(exc).__mro__:
            translator = self._translators.get(klass)
            if translator is not None:
                return translator(exc)
        return None

    # ------------------------------------------------------------------ error shapes

    def _error_shapes(self) -> list[Any]:
        seen: dict[str, Any] = {}
        for op in self.model.operation_names:
            for shape in self.model.operation_model(op).error_shapes:
                seen[shape.name] = shape
        return list(seen.values())

    def error_status(self, code: str) -> int:
        """The HTTP status of error ``code``: the model's ``httpStatusCode``, else 400/500."""
        shape = self._errors.get(code)
        if shape is None:
            return 400
        error = shape.metadata.get("error", {})
        if "httpStatusCode" in error:
            return int(error["httpStatusCode"])
        return 500 if shape.metadata.get("fault") else 400

    def wire_type(self, code: str, message: str | None) -> str:
        """``__type`` of error ``code``: qualified by the namespace of its origin, if any.

        A broken model constraint ("1 validation error detected: ...") comes from AWS's
        request validator (``com.amazon.coral.validate``), not from the service itself.
        """
        if self.error_namespace is None or code not in self._errors:
            return code
        if code == self.validation_error and " validation error" in (message or ""):
            return f"{CORAL_VALIDATE}#{code}"
        return f"{self.error_namespace}#{code}"

    def message_key(self, code: str) -> str:
        """``message`` or ``Message``: whichever the error shape spells (lower by default)."""
        shape = self._errors.get(code)
        if shape is not None and "Message" in shape.members:
            return "Message"
        return "message"
