"""StartExecution, StartSyncExecution, StopExecution, RedriveExecution, DescribeExecution,
ListExecutions: the API's side of executions; the engine runs them.

The API resolves what the request names (a state machine, a version, an alias routed by
weight) and checks AWS's rules (names, input, machine type); the engine creates (idempotently
by name), runs, stops and redrives.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from batchyard.api.errors import AwsError
from batchyard.api.stepfunctions.common import (
    Backend,
    Params,
    Result,
    check_name,
    execution_arn_of,
    get_execution,
    invalid_token,
    machine_arn_of,
    machine_missing,
    new_name,
    page_size,
    type_not_supported,
    validation,
    with_token,
    wrong_resource,
)
from batchyard.api.stepfunctions.state_machines import lookup
from batchyard.api.stepfunctions.versions import route
from batchyard.store import Execution, NotFound, StateMachine

REDRIVABLE = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})
REDRIVE_WINDOW = timedelta(days=14)
_WORD = re.compile(r"[A-Za-z0-9_]+")


# --------------------------------------------------------------------------- input


def check_input(text: str | None) -> str:
    """The execution input (``{}`` when absent); InvalidExecutionInput with Jackson's words."""
    if text is None:
        return "{}"
    try:
        json.loads(text)
    except ValueError as exc:
        raise AwsError(
            "InvalidExecutionInput",
            f"Invalid State Machine Execution Input: '{_jackson(text, exc)}'",
        ) from None
    return text


def _jackson(text: str, exc: ValueError) -> str:
    """AWS parses with Jackson; its messages for the common mistakes (recorded on AWS)."""
    stripped = text.strip()
    if not stripped:
        return "Invalid execution input."
    word = _WORD.match(stripped)
    if word and stripped[0].isalpha():
        return (
            f"Unrecognized token '{word.group(0)}': was expecting (JSON String, Number, Array, "
            "Object or token 'null', 'true' or 'false')"
        )
    position = getattr(exc, "pos", None)
    if "property name" in str(exc) and isinstance(position, int) and position < len(text):
        char = text[position]
        return (
            f"Unexpected character ('{char}' (code {ord(char)})): was expecting double-quote to "
            "start field name"
        )
    return str(exc)


# --------------------------------------------------------------------------- start


def _target(backend: Backend, text: str, name: str) -> tuple[StateMachine, str | None, str | None]:
    """(machine, version ARN, alias ARN) of a StartExecution ``stateMachineArn``."""
    arn = machine_arn_of(text, allow_qualified=True)
    base = f"{backend.prefix}:stateMachine:{arn.parts[0]}"
    if len(arn.parts) == 1:
        machine = lookup(backend, base)
        if machine.status == "DELETING":
            raise AwsError("StateMachineDeleting", f"State Machine is being deleted: '{base}'")
        return machine, None, None
    if backend.store.state_machines.find(base) is None:
        raise machine_missing(text)
    machine = lookup(backend, base)
    try:
        if arn.parts[1].isdigit():
            return machine, backend.store.versions.get(text).arn, None
        alias = backend.store.aliases.get(text)
    except NotFound as exc:
        raise machine_missing(text) from exc
    return machine, route(alias, name), alias.arn


def start_execution(backend: Backend, params: Params) -> Result:
    name = params.get("name") or new_name()
    check_name(name)
    machine, version_arn, alias_arn = _target(backend, params["stateMachineArn"], name)
    text = check_input(params.get("input"))
    # Idempotency (same name and input while RUNNING: the same execution; otherwise
    # ExecutionAlreadyExists) is the engine's, decided by the store's unique name index.
    execution = backend.require_engine().start_execution(
        machine.arn,
        name=name,
        input=text,
        trace_header=params.get("traceHeader"),
        version_arn=version_arn,
        alias_arn=alias_arn,
    )
    return {"executionArn": execution.arn, "startDate": execution.start_date}


def start_sync_execution(backend: Backend, params: Params) -> Result:
    arn = machine_arn_of(params["stateMachineArn"])
    machine = lookup(backend, arn.text)
    if machine.type != "EXPRESS":
        raise type_not_supported()
    name = params.get("name") or new_name()
    check_name(name)
    text = check_input(params.get("input"))
    result: Result = dict(
        backend.require_engine().start_sync_execution(
            machine.arn, name=name, input=text, trace_header=params.get("traceHeader")
        )
    )
    if params.get("includedData") == "METADATA_ONLY":
        for key in ("input", "output"):
            if result.pop(key, None) is not None:
                result[f"{key}Details"] = {"included": False}
    return result


# --------------------------------------------------------------------------- stop, redrive


def _standard(backend: Backend, arn: str) -> Execution:
    parsed = execution_arn_of(arn)
    if parsed.resource == "express":
        raise wrong_resource("express")
    return get_execution(backend, arn)


def stop_execution(backend: Backend, params: Params) -> Result:
    execution = _standard(backend, params["executionArn"])
    stop_date = backend.require_engine().stop_execution(
        execution.arn, error=params.get("error"), cause=params.get("cause")
    )
    return {"stopDate": stop_date}


def redrive_execution(backend: Backend, params: Params) -> Result:
    execution = _standard(backend, params["executionArn"])
    redrive_date = backend.require_engine().redrive_execution(
        execution.arn, client_token=params.get("clientToken")
    )
    return {"redriveDate": redrive_date}


# --------------------------------------------------------------------------- describe, list


def redrive_state(execution: Execution, now: datetime) -> tuple[str, str | None]:
    """``redriveStatus`` and ``redriveStatusReason`` as DescribeExecution reports them."""
    if execution.status not in REDRIVABLE:
        return "NOT_REDRIVABLE", f"Execution is {execution.status} and cannot be redriven"
    if execution.stop_date is not None and now - execution.stop_date > REDRIVE_WINDOW:
        return "NOT_REDRIVABLE", (
            "Execution can not be redriven as it has been more than 14 days since the "
            "execution stopped"
        )
    if execution.map_run_arn:
        return "REDRIVABLE_BY_MAP_RUN", None
    return "REDRIVABLE", None


def describe_execution(backend: Backend, params: Params) -> Result:
    execution = _standard(backend, params["executionArn"])
    metadata_only = params.get("includedData") == "METADATA_ONLY"
    result: Result = {
        "executionArn": execution.arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "status": execution.status,
        "startDate": execution.start_date,
        "inputDetails": {"included": not metadata_only},
        "redriveCount": execution.redrive_count,
    }
    if not metadata_only:
        result["input"] = execution.input
    if execution.status == "SUCCEEDED" and execution.output is not None:
        result["outputDetails"] = {"included": not metadata_only}
        if not metadata_only:
            result["output"] = execution.output
    optional = {
        "stopDate": execution.stop_date,
        "traceHeader": execution.trace_header,
        "mapRunArn": execution.map_run_arn,
        "error": execution.error,
        "cause": execution.cause,
        "stateMachineVersionArn": execution.state_machine_version_arn,
        "stateMachineAliasArn": execution.state_machine_alias_arn,
        "redriveDate": execution.redrive_date,
    }
    result.update({k: v for k, v in optional.items() if v is not None})
    status, reason = redrive_state(execution, backend.clock())
    result["redriveStatus"] = status
    if reason is not None:
        result["redriveStatusReason"] = reason
    return result


def list_item(execution: Execution) -> Result:
    item: Result = {
        "executionArn": execution.arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "status": execution.status,
        "startDate": execution.start_date,
        "redriveCount": execution.redrive_count,
    }
    optional = {
        "stopDate": execution.stop_date,
        "mapRunArn": execution.map_run_arn,
        "stateMachineVersionArn": execution.state_machine_version_arn,
        "stateMachineAliasArn": execution.state_machine_alias_arn,
        "redriveDate": execution.redrive_date,
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    return item


def _scope(backend: Backend, params: Params) -> dict[str, Any]:
    """The store filters a ListExecutions request asks for."""
    machine_text, map_run = params.get("stateMachineArn"), params.get("mapRunArn")
    if machine_text is None and map_run is None:
        raise validation(
            "1 validation error detected: Must provide a StateMachine ARN or MapRun ARN"
        )
    if map_run is not None:
        try:
            backend.store.map_runs.get(map_run)
        except NotFound as exc:
            raise AwsError("ResourceNotFound", f"Resource not found: '{map_run}'") from exc
        return {"map_run_arn": map_run}
    arn = machine_arn_of(str(machine_text), allow_qualified=True)
    base = f"{backend.prefix}:stateMachine:{arn.parts[0]}"
    if backend.store.state_machines.find(base) is None:
        raise machine_missing(arn.text)
    machine = lookup(backend, base)
    if machine.type != "STANDARD":
        raise type_not_supported()
    if len(arn.parts) == 1:
        return {"state_machine_arn": base}
    if arn.parts[1].isdigit():
        return {"state_machine_arn": base, "version_arn": arn.text}
    return {"state_machine_arn": base, "alias_arn": arn.text}


def list_executions(backend: Backend, params: Params) -> Result:
    filters = _scope(backend, params)
    if params.get("statusFilter"):
        filters["status"] = params["statusFilter"]
    if params.get("redriveFilter"):
        filters["redriven"] = params["redriveFilter"] == "REDRIVEN"
    try:
        page = backend.store.executions.list(
            **filters, limit=page_size(params), next_token=params.get("nextToken")
        )
    except ValueError as exc:
        raise invalid_token() from exc
    return with_token({"executions": [list_item(e) for e in page.items]}, page.next_token)


HANDLERS = {
    "StartExecution": start_execution,
    "StartSyncExecution": start_sync_execution,
    "StopExecution": stop_execution,
    "RedriveExecution": redrive_execution,
    "DescribeExecution": describe_execution,
    "ListExecutions": list_executions,
}
