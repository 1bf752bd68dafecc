"""Lambda tasks with Python handlers, the way AWS Lambda's Python runtime reports them.

Two integrations: the legacy function ARN (``arn:aws:lambda:…:function:NAME``), whose result is
the payload itself and whose events are ``LambdaFunction…``; and the optimized
``arn:aws:states:::lambda:invoke``, whose result wraps the payload in the Invoke API response
(``ExecutedVersion``, ``Payload``, ``SdkHttpMetadata``, ``SdkResponseMetadata``, ``StatusCode``).
A handler that raises gives error = the exception's class name and cause = the runtime's JSON
error document (``errorMessage``, ``errorType``, ``requestId``, ``stackTrace``).
"""

from __future__ import annotations

import json
import time
import traceback
import uuid
from collections.abc import Callable
from email.utils import format_datetime
from typing import Any

from batchyard.asl.events import to_json
from batchyard.asl.integrations import Family, InvokeEnv, describe_service_resource, register
from batchyard.asl.interpreter import TaskOutcome, TaskRequest

Handler = Callable[[Any, Any], Any]


class LambdaContext:
    """The ``context`` argument of a Lambda handler, with the attributes the runtime provides."""

    def __init__(self, function_name: str, qualifier: str | None, env: InvokeEnv, timeout: float):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn(function_name, env) + (
            f":{qualifier}" if qualifier else ""
        )
        self.memory_limit_in_mb = "128"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{env.now:%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def function_arn(name: str, env: InvokeEnv) -> str:
    return f"arn:aws:lambda:{env.region}:{env.account}:function:{name}"


def parse_function_name(value: Any) -> tuple[str, str | None]:
    """Name and qualifier from a name, ``name:qualifier``, a partial or a full function ARN."""
    text = str(value)
    parts = text.split(":")
    if text.startswith("arn:"):
        # arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
        name = parts[6] if len(parts) > 6 else parts[-1]
        return name, parts[7] if len(parts) > 7 else None
    if len(parts) >= 3 and parts[1] == "function":  # ACCOUNT:function:NAME[:QUALIFIER]
        return parts[2], parts[3] if len(parts) > 3 else None
    if len(parts) == 2:
        return parts[0], parts[1]
    return text, None


def _error_document(exc: BaseException, request_id: str) -> dict[str, Any]:
    # The first frame is our own call into the handler; Lambda shows the handler's frames only.
    frames = traceback.extract_tb(exc.__traceback__)[1:]
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


_NOT_FOUND = (
    "Function not found: {arn} (Service: AWSLambda; Status Code: 404; Error Code: "
    "ResourceNotFoundException; Request ID: {request_id}; Proxy: null)"
)


def call_handler(
    name: str, qualifier: str | None, event: Any, env: InvokeEnv, timeout: float | None
) -> tuple[Any, str | None, str | None, str]:
    """Run one handler: ``(payload, error, cause, request_id)``; error is None on success."""
    request_id = str(uuid.uuid4())
    handler = env.functions.get(name)
    if handler is None:  # callers may key their handlers by ARN too
        handler = env.functions.get(function_arn(name, env))
    if handler is None:
        arn = function_arn(name, env) + (f":{qualifier}" if qualifier else "")
        cause = _NOT_FOUND.format(arn=arn, request_id=request_id)
        return None, "Lambda.ResourceNotFoundException", cause, request_id
    context = LambdaContext(name, qualifier, env, timeout or 900.0)
    context.aws_request_id = request_id
    # The event crosses a wire in AWS: the handler gets its own copy, never our objects.
    wire_event = json.loads(json.dumps(event))
    started = time.monotonic()
    try:
        result = handler(wire_event, context)
    except Exception as exc:
        # A handler that runs elsewhere (a worker process) hands Lambda's document over as is.
        remote = getattr(exc, "error_document", None)
        document = remote if isinstance(remote, dict) else _error_document(exc, request_id)
        return None, str(document.get("errorType", "Unhandled")), json.dumps(document), request_id
    if timeout is not None and time.monotonic() - started > timeout:
        return None, "States.Timeout", None, request_id
    try:
        text = json.dumps(result)
    except (TypeError, ValueError) as exc:
        document = {
            "errorMessage": f"Unable to marshal response: {exc}",
            "errorType": "Runtime.MarshalError",
            "requestId": request_id,
            "stackTrace": [],
        }
        return None, "Runtime.MarshalError", json.dumps(document), request_id
    return json.loads(text), None, None, request_id


def _outcome(payload: Any, error: str | None, cause: str | None) -> TaskOutcome:
    if error is None:
        return TaskOutcome(result=payload)
    return TaskOutcome(error=error, cause=cause, timed_out=error == "States.Timeout")


class LegacyLambda:
    """``arn:aws:lambda:REGION:ACCOUNT:function:NAME``: the payload is the result."""

    family: Family = "LambdaFunction"

    def describe(self, resource: str) -> tuple[str, str]:
        return "lambda", resource

    def invoke(self, request: TaskRequest, env: InvokeEnv) -> TaskOutcome:
        name, qualifier = parse_function_name(request.resource)
        payload, error, cause, _ = call_handler(
            name, qualifier, request.parameters, env, request.timeout_seconds
        )
        return _outcome(payload, error, cause)


def _headers(request_id: str, body: str, env: InvokeEnv) -> dict[str, Any]:
    date = format_datetime(env.now, usegmt=True)
    trace = f"root=1-{int(env.now.timestamp()):08x}-{uuid.uuid4().hex[:24]};sampled=0"
    values = {
        "X-Amz-Executed-Version": "$LATEST",
        "x-amzn-Remapped-Content-Length": "0",
        "Connection": "keep-alive",
        "x-amzn-RequestId": request_id,
        "Content-Length": str(len(body.encode("utf-8"))),
        "Date": date,
        "X-Amzn-Trace-Id": trace,
        "Content-Type": "application/json",
    }
    return {
        "AllHttpHeaders": {key: [value] for key, value in values.items()},
        "HttpHeaders": dict(sorted(values.items(), key=lambda item: item[0].lower())),
        "HttpStatusCode": 200,
    }


class LambdaInvoke:
    """``arn:aws:states:::lambda:invoke``: the result is the Invoke API response."""

    family: Family = "Task"

    def describe(self, resource: str) -> tuple[str, str]:
        return describe_service_resource(resource)

    def invoke(self, request: TaskRequest, env: InvokeEnv) -> TaskOutcome:
        parameters = request.parameters if isinstance(request.parameters, dict) else {}
        name, qualifier = parse_function_name(parameters.get("FunctionName", ""))
        if "Qualifier" in parameters:
            qualifier = str(parameters["Qualifier"])
        event = parameters.get("Payload", {})
        payload, error, cause, request_id = call_handler(
            name, qualifier, event, env, request.timeout_seconds
        )
        if error is not None:
            if cause is not None and cause.startswith("{"):
                # The optimized integration re-serialises Lambda's error document compactly
                # (AWS recordings); the legacy ARN passes Lambda's own text through.
                cause = to_json(json.loads(cause))
            return _outcome(payload, error, cause)
        version = qualifier if qualifier is not None and qualifier.isdigit() else "$LATEST"
        return TaskOutcome(
            result={
                "ExecutedVersion": version,
                "Payload": payload,
                "SdkHttpMetadata": _headers(request_id, json.dumps(payload), env),
                "SdkResponseMetadata": {"RequestId": request_id},
                "StatusCode": 200,
            }
        )


register(r"arn:aws[\w-]*:lambda:[^:]+:[^:]+:function:[^:]+(:[^:]+)?", LegacyLambda())
register(r"arn:aws[\w-]*:states:[^:]*:[^:]*:lambda:invoke", LambdaInvoke())
