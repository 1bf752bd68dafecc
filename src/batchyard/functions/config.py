"""A function's configuration: defaults, what the API may change, and Lambda's response shape.

The store keeps the settable part (``Runtime``, ``Role``, ``Handler``, ``Timeout``, ...) as a
JSON object; :func:`render` turns a stored function into the ``FunctionConfiguration`` that
CreateFunction, GetFunction and the updates answer, member for member as recorded on AWS.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from batchyard.functions.errors import (
    SUPPORTED_RUNTIMES,
    InvalidParameterValueException,
    unsupported_runtime,
)
from batchyard.functions.repository import FunctionRecord

DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY = 128
MAX_TIMEOUT = 900
MAX_MEMORY = 10240

# Members CreateFunction and UpdateFunctionConfiguration store as given.
SETTABLE = (
    "Runtime",
    "Role",
    "Handler",
    "Description",
    "Timeout",
    "MemorySize",
    "Environment",
    "TracingConfig",
    "EphemeralStorage",
    "LoggingConfig",
    "Architectures",
)


def defaults(name: str) -> dict[str, Any]:
    return {
        "Description": "",
        "Timeout": DEFAULT_TIMEOUT,
        "MemorySize": DEFAULT_MEMORY,
        "TracingConfig": {"Mode": "PassThrough"},
        "EphemeralStorage": {"Size": 512},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
        "Architectures": ["x86_64"],
    }


def check(config: dict[str, Any]) -> None:
    """What the model does not say but Lambda refuses (the model checks types and minimums)."""
    runtime = config.get("Runtime")
    if runtime is not None and runtime not in SUPPORTED_RUNTIMES:
        raise unsupported_runtime(str(runtime))
    timeout = config.get("Timeout")
    if timeout is not None and int(timeout) > MAX_TIMEOUT:
        raise InvalidParameterValueException(
            f"1 validation error detected: Value '{timeout}' at 'timeout' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_TIMEOUT}"
        )
    memory = config.get("MemorySize")
    if memory is not None and int(memory) > MAX_MEMORY:
        raise InvalidParameterValueException(
            f"1 validation error detected: Value '{memory}' at 'memorySize' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_MEMORY}"
        )
    logging_config = config.get("LoggingConfig") or {}
    if logging_config.get("LogFormat", "Text") != "Text":
        raise InvalidParameterValueException(
            "batchyard writes function logs in the Text format only (LoggingConfig.LogFormat)."
        )
    variables = (config.get("Environment") or {}).get("Variables") or {}
    reserved = sorted(k for k in variables if k in RESERVED_VARIABLES)
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not supported "
            f"for modification. Reserved keys used in this request: {', '.join(reserved)}"
        )


# Variables Lambda sets itself and refuses in a function's Environment.
RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


def last_modified(moment: datetime) -> str:
    """``2024-01-01T00:00:00.000+0000``, Lambda's own timestamp format."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def function_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def runtime_version_arn(region: str, runtime: str) -> str:
    # A stable stand-in for the managed runtime's version (Lambda's is a 64-hex digest too).
    digest = hashlib.sha256(f"batchyard:{runtime}".encode()).hexdigest()
    return f"arn:aws:lambda:{region}::runtime:{digest}"


def render(
    record: FunctionRecord, *, region: str, account: str, code_size: int, stage: str = "get"
) -> dict[str, Any]:
    """The ``FunctionConfiguration`` of a function.

    ``stage`` is what answered: ``create`` (State Pending, as CreateFunction answers),
    ``update`` (LastUpdateStatus InProgress, as the updates answer), ``list`` (no state
    members nor RuntimeVersionConfig: "use GetFunction" for them, says the ListFunctions
    reference) or ``get``.
    """
    config = record.config
    out: dict[str, Any] = {
        "FunctionName": record.name,
        "FunctionArn": function_arn(region, account, record.name),
        "Runtime": config["Runtime"],
        "Role": config["Role"],
        "Handler": config["Handler"],
        "CodeSize": code_size,
        "Description": config.get("Description", ""),
        "Timeout": config.get("Timeout", DEFAULT_TIMEOUT),
        "MemorySize": config.get("MemorySize", DEFAULT_MEMORY),
        "LastModified": last_modified(record.last_modified),
        "CodeSha256": config["CodeSha256"],
        "Version": "$LATEST",
        "TracingConfig": config.get("TracingConfig", {"Mode": "PassThrough"}),
        "RevisionId": record.revision_id,
        "PackageType": "Zip",
        "Architectures": config.get("Architectures", ["x86_64"]),
        "EphemeralStorage": config.get("EphemeralStorage", {"Size": 512}),
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "RuntimeVersionConfig": {
            "RuntimeVersionArn": runtime_version_arn(region, str(config["Runtime"]))
        },
        "LoggingConfig": config.get("LoggingConfig")
        or {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{record.name}"},
    }
    if "Environment" in config:
        out["Environment"] = {"Variables": dict(config["Environment"].get("Variables") or {})}
    if stage == "create":
        out.update(
            State="Pending",
            StateReason="The function is being created.",
            StateReasonCode="Creating",
        )
    elif stage == "list":
        # ListFunctions leaves out State, LastUpdateStatus, their reasons, RuntimeVersionConfig.
        del out["RuntimeVersionConfig"]
    elif stage == "update":
        out.update(
            State="Active",
            LastUpdateStatus="InProgress",
            LastUpdateStatusReason="The function is being created.",
            LastUpdateStatusReasonCode="Creating",
        )
    else:
        out.update(State="Active", LastUpdateStatus="Successful")
    return out
