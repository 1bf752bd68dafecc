"""Checks specific to one state type, dispatched through :data:`TYPE_CHECKS`, plus the Retry and
Catch arrays that Task, Parallel and Map share.

Generic field rules (allowed, required, value kinds) live in ``validation_fields``; what is here
needs to look at several fields together or into nested objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from batchyard.asl import validation_jsonata as jsonata_checks
from batchyard.asl import validation_messages as msg
from batchyard.asl.validation_choice import check_choice
from batchyard.asl.validation_context import JSONATA, JSONPATH, Ctx, is_jsonata, is_timestamp
from batchyard.asl.validation_fields import FIELD_CHECKS, MAX_SECONDS, integer_in, number_in
from batchyard.asl.validation_map import check_map
from batchyard.asl.validation_paths import check_assign, check_payload_template, looks_like_path

StateCheck = Callable[[Ctx, dict[str, Any], str, str], None]

_ARN = re.compile(r"arn:[^:\s]+:[^:\s]+:[^:\s]*:[^:\s]*:\S+")
_ACTIVITY = re.compile(r"arn:[^:\s]+:states:[^:\s]+:[^:\s]+:activity:\S+")
_INTEGRATION = re.compile(r"arn:[^:\s]+:states:::([a-z0-9-]+):(\S+)")
# Integration patterns a service never supports (the Developer Guide's table, as confirmed by
# others with ValidateStateMachineDefinition). Only impossible pairs are listed: support of the
# possible ones is per API action, and refusing a valid definition is worse than missing one.
_NO_SYNC = frozenset(
    {"lambda", "sns", "sqs", "dynamodb", "events", "apigateway", "aws-sdk", "bedrock-agentcore"}
)
_NO_CALLBACK = frozenset(
    {
        *("athena", "batch", "codebuild", "elasticmapreduce", "emr-containers", "emr-serverless"),
        *("glue", "databrew", "mediaconvert", "sagemaker", "dynamodb", "bedrock-agentcore"),
    }
)
WAIT_FIELDS = ("SecondsPath", "Seconds", "TimestampPath", "Timestamp")

RETRIER_CHECKS = {
    "ErrorEquals": None,
    "Comment": FIELD_CHECKS["Comment"],
    "IntervalSeconds": integer_in(1, MAX_SECONDS),
    "MaxAttempts": integer_in(0, MAX_SECONDS),
    "BackoffRate": number_in(1.0, float(MAX_SECONDS)),
    # One year, the longest an execution can run.
    "MaxDelaySeconds": integer_in(1, 31622400),
    "JitterStrategy": None,
}
CATCHER_FIELDS = frozenset({"ErrorEquals", "Next", "ResultPath", "Comment", "Output", "Assign"})


def _error_equals(ctx: Ctx, value: Any, where: str, last: bool) -> None:
    if not isinstance(value, list):
        ctx.schema(msg.expected_type("ARRAY"), where)
        return
    if not value:
        ctx.schema(msg.cannot_be_empty(), where)
        return
    for index, name in enumerate(value):
        if not isinstance(name, str):
            ctx.schema(msg.expected_type("STRING"), f"{where}[{index}]")
    if "States.ALL" in value and (len(value) > 1 or not last):
        ctx.schema(msg.states_all_position(), where)


def _entries(
    ctx: Ctx, state: dict[str, Any], field: str, where: str
) -> list[tuple[str, dict[str, Any], bool]]:
    """The object entries of a Retry/Catch array with their location and whether they are last."""
    entries = state.get(field)
    if not isinstance(entries, list):
        return []
    result = []
    for index, entry in enumerate(entries):
        location = f"{where}/{field}[{index}]"
        if isinstance(entry, dict):
            result.append((location, entry, index == len(entries) - 1))
        else:
            ctx.schema(msg.expected_type("OBJECT"), location)
    return result


def check_retry(ctx: Ctx, state: dict[str, Any], where: str, language: str) -> None:
    for location, retrier, last in _entries(ctx, state, "Retry", where):
        for name, value in retrier.items():
            if name not in RETRIER_CHECKS:
                ctx.schema(msg.not_supported(name), location)
                continue
            check = RETRIER_CHECKS[name]
            if check is not None:
                check(ctx, value, f"{location}/{name}", False)
        if "ErrorEquals" not in retrier:
            ctx.schema(msg.required(["ErrorEquals"]), location)
        else:
            _error_equals(ctx, retrier["ErrorEquals"], f"{location}/ErrorEquals", last)
        jitter = retrier.get("JitterStrategy")
        if "JitterStrategy" in retrier and jitter not in ("NONE", "FULL"):
            ctx.schema(msg.one_of_values(["NONE", "FULL"]), f"{location}/JitterStrategy")


def check_catch(ctx: Ctx, state: dict[str, Any], where: str, language: str) -> None:
    for location, catcher, last in _entries(ctx, state, "Catch", where):
        for name in catcher:
            if name not in CATCHER_FIELDS:
                ctx.schema(msg.not_supported(name), location)
            elif name == ("ResultPath" if language == JSONATA else "Output"):
                ctx.schema(msg.wrong_query_language(language, name), location)
        missing = [name for name in ("ErrorEquals", "Next") if name not in catcher]
        if missing:
            ctx.schema(msg.required(missing), location)
        if "ErrorEquals" in catcher:
            _error_equals(ctx, catcher["ErrorEquals"], f"{location}/ErrorEquals", last)
        if "Next" in catcher:
            FIELD_CHECKS["Next"](ctx, catcher["Next"], f"{location}/Next", False)
        if "ResultPath" in catcher and language == JSONPATH:
            FIELD_CHECKS["ResultPath"](ctx, catcher["ResultPath"], f"{location}/ResultPath", False)
        if "Assign" in catcher:
            check_assign(
                ctx, catcher["Assign"], f"{location}/Assign", jsonpath=language == JSONPATH
            )
        if language == JSONATA:
            for name in ("Output", "Assign"):
                if name in catcher:
                    jsonata_checks.check_value(
                        ctx, catcher[name], f"{location}/{name}", catcher=True
                    )


def _errors(ctx: Ctx, state: dict[str, Any], where: str, language: str) -> None:
    check_retry(ctx, state, where, language)
    check_catch(ctx, state, where, language)


def _express_resource(ctx: Ctx, resource: str, where: str) -> None:
    """Express workflows cannot wait: no activities, no ``.sync``, no ``.waitForTaskToken``."""
    if _ACTIVITY.fullmatch(resource):
        ctx.schema(msg.express_activity(), where)
        return
    for pattern in (".waitForTaskToken", ".sync"):
        if resource.startswith("arn:") and (
            pattern + ":" in resource or resource.endswith(pattern)
        ):
            ctx.schema(msg.express_integration(pattern), where)
            return


def _unsupported_pattern(resource: str) -> bool:
    """An optimized integration asked for a pattern its service never offers."""
    match = _INTEGRATION.fullmatch(resource)
    if match is None:
        return False
    service, action = match.groups()
    if action.endswith((".sync", ".sync:2")):
        return service in _NO_SYNC
    return action.endswith(".waitForTaskToken") and service in _NO_CALLBACK


def _task(ctx: Ctx, state: dict[str, Any], where: str, language: str) -> None:
    resource = state.get("Resource")
    if isinstance(resource, str) and not _ARN.fullmatch(resource):
        ctx.schema(msg.bad_resource_arn(), f"{where}/Resource")
    elif isinstance(resource, str) and _unsupported_pattern(resource):
        ctx.schema(msg.unrecognized_resource(resource), f"{where}/Resource")
    elif isinstance(resource, str) and ctx.express:
        _express_resource(ctx, resource, f"{where}/Resource")
    timeout, heartbeat = state.get("TimeoutSeconds"), state.get("HeartbeatSeconds")
    if isinstance(timeout, int) and isinstance(heartbeat, int) and heartbeat >= timeout:
        ctx.schema(msg.heartbeat_not_below_timeout(), where)
    credentials = state.get("Credentials")
    if isinstance(credentials, dict):
        role_fields = ("RoleArn", "RoleArn.$") if language == JSONPATH else ("RoleArn",)
        if not any(name in credentials for name in role_fields):
            ctx.schema(msg.role_arn_missing(), f"{where}/Credentials")
    _errors(ctx, state, where, language)


def _wait(ctx: Ctx, state: dict[str, Any], where: str, language: str) -> None:
    if not any(name in state for name in WAIT_FIELDS):
        ctx.schema(msg.exactly_one_of(WAIT_FIELDS), where)
    timestamp = state.get("Timestamp")
    expression = language == JSONATA and is_jsonata(timestamp)
    if isinstance(timestamp, str) and not expression and not is_timestamp(timestamp):
        ctx.schema(msg.bad_timestamp(), f"{where}/Timestamp")


def _parallel(ctx: Ctx, state: dict[str, Any], where: str, language: str) -> None:
    branches = state.get("Branches")
    if isinstance(branches, list):
        if not branches:
            ctx.schema(msg.cannot_be_empty(), f"{where}/Branches")
        for index, branch in enumerate(branches):
            if ctx.validate_scope is not None:
                ctx.validate_scope(ctx, branch, f"{where}/Branches[{index}]")
    _errors(ctx, state, where, language)


def _nothing(ctx: Ctx, state: dict[str, Any], where: str, language: str) -> None:
    """Succeed is fully described by the field tables."""


def _dollar_keys(value: Any, where: str) -> list[str]:
    """Locations of ``.$`` keys inside a literal (where they are not evaluated)."""
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if isinstance(key, str) and key.endswith(".$"):
                found.append(f"{where}/{key}")
            found.extend(_dollar_keys(item, f"{where}/{key}"))
        return found
    if isinstance(value, list):
        return [loc for i, item in enumerate(value) for loc in _dollar_keys(item, f"{where}[{i}]")]
    return []


def _pass(ctx: Ctx, state: dict[str, Any], where: str, language: str) -> None:
    # Result is never evaluated: a ".$" key in it stays literal, which AWS warns about.
    for location in _dollar_keys(state.get("Result"), f"{where}/Result"):
        ctx.warning(msg.PASS_RESULT_IS_STATIC, msg.pass_result_is_static(), location)


def _fail(ctx: Ctx, state: dict[str, Any], where: str, language: str) -> None:
    if language == JSONPATH:
        for name in ("Error", "Cause"):
            if looks_like_path(state.get(name)):
                ctx.warning(msg.NO_PATH, msg.no_path(), f"{where}/{name}")


def _choice(ctx: Ctx, state: dict[str, Any], where: str, language: str) -> None:
    check_choice(ctx, state, where, language)


def _map(ctx: Ctx, state: dict[str, Any], where: str, language: str) -> None:
    check_map(ctx, state, where, language)
    _errors(ctx, state, where, language)


TYPE_CHECKS: dict[str, StateCheck] = {
    "Pass": _pass,
    "Succeed": _nothing,
    "Fail": _fail,
    "Task": _task,
    "Wait": _wait,
    "Choice": _choice,
    "Parallel": _parallel,
    "Map": _map,
}

# JSONPath payload templates, whose ``.$`` keys must hold a path or an intrinsic call.
PAYLOAD_FIELDS = ("Parameters", "ResultSelector", "ItemSelector", "Credentials")


def check_data_flow(ctx: Ctx, state: dict[str, Any], where: str, language: str) -> None:
    """Language-specific expressions: ``.$`` templates in JSONPath, ``{% %}`` in JSONata."""
    if language == JSONPATH:
        for name in PAYLOAD_FIELDS:
            if name in state:
                check_payload_template(ctx, state[name], f"{where}/{name}")
    else:
        jsonata_checks.check_state(ctx, state, where)
    if "Assign" in state:
        check_assign(ctx, state["Assign"], f"{where}/Assign", jsonpath=language == JSONPATH)
