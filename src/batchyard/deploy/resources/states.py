"""State machines: compared by parsed definition, role, logging configuration and tags; a
changed type replaces the machine (AWS cannot update it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from typing import Any

from batchyard.deploy.changes import Change, Context, ServiceMissing, tag_list, tags_of
from batchyard.deploy.model import StateMachine


def state_machines(ctx: Context) -> Iterator[Change]:
    sfn = ctx.c.stepfunctions
    existing = {
        m["name"]: m["stateMachineArn"]
        for page in sfn.get_paginator("list_state_machines").paginate()
        for m in page["stateMachines"]
    }
    for name, machine in ctx.project.state_machines.items():
        arn = existing.get(name)
        if arn is None:
            yield Change(
                "create", "state machine", name, run=partial(_create_machine, ctx, machine)
            )
            continue
        current = sfn.describe_state_machine(stateMachineArn=arn)
        changed: list[str] = []
        if json.loads(current["definition"]) != machine.definition:
            changed.append(f"definition ({machine.definition_file.name})")
        if current.get("roleArn") != machine.role:
            changed.append("role")
        if current.get("type") != machine.type:
            changed.append(f"type {current.get('type')} -> {machine.type} (replaced)")
        have_logging = current.get("loggingConfiguration") or {}
        want_level = machine.log_level or "OFF"
        if have_logging.get("level", "OFF") != want_level:
            changed.append(f"logging level {have_logging.get('level', 'OFF')} -> {want_level}")
        if bool(have_logging.get("includeExecutionData")) != machine.include_execution_data:
            changed.append("logging include_execution_data")
        have_group = _log_group_name(have_logging)
        if want_level != "OFF" and have_group != machine.log_group:
            changed.append(f"logging log_group {have_group} -> {machine.log_group}")
        tags = tags_of(sfn.list_tags_for_resource(resourceArn=arn).get("tags"))
        desired_tags = {**machine.tags, **ctx.tags}
        retag = tags != desired_tags
        if retag:
            changed.append("tags")
        if not changed:
            yield Change("unchanged", "state machine", name)
        elif current.get("type") != machine.type:
            yield Change(
                "update",
                "state machine",
                name,
                changed,
                run=partial(_replace_machine, ctx, arn, machine),
            )
        else:
            yield Change(
                "update",
                "state machine",
                name,
                changed,
                run=partial(_update_machine, ctx, arn, machine),
            )
    for name, arn in existing.items():
        if name in ctx.project.state_machines:
            continue
        tags = tags_of(sfn.list_tags_for_resource(resourceArn=arn).get("tags"))
        if ctx.owned(tags):
            yield Change(
                "delete",
                "state machine",
                name,
                run=partial(sfn.delete_state_machine, stateMachineArn=arn),
            )


def _logging(ctx: Context, machine: StateMachine) -> dict[str, Any]:
    if machine.log_level in (None, "OFF") or machine.log_group is None:
        return {"level": "OFF"}
    group_arn = _log_group_arn(ctx.c.logs, machine.log_group)
    return {
        "level": machine.log_level,
        "includeExecutionData": machine.include_execution_data,
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group_arn}}],
    }


def _create_machine(ctx: Context, machine: StateMachine) -> None:
    ctx.c.stepfunctions.create_state_machine(
        name=machine.name,
        definition=json.dumps(machine.definition),
        roleArn=machine.role,
        type=machine.type,
        loggingConfiguration=_logging(ctx, machine),
        tags=tag_list({**machine.tags, **ctx.tags}),
    )


def _update_machine(ctx: Context, arn: str, machine: StateMachine) -> None:
    sfn = ctx.c.stepfunctions
    sfn.update_state_machine(
        stateMachineArn=arn,
        definition=json.dumps(machine.definition),
        roleArn=machine.role,
        loggingConfiguration=_logging(ctx, machine),
    )
    desired = {**machine.tags, **ctx.tags}
    current = tags_of(sfn.list_tags_for_resource(resourceArn=arn).get("tags"))
    stale = [key for key in current if key not in desired]
    if stale:
        sfn.untag_resource(resourceArn=arn, tagKeys=stale)
    if current != desired:
        sfn.tag_resource(resourceArn=arn, tags=tag_list(desired))


def _replace_machine(ctx: Context, arn: str, machine: StateMachine) -> None:
    ctx.c.stepfunctions.delete_state_machine(stateMachineArn=arn)
    _create_machine(ctx, machine)


def _log_group_arn(logs: Any, name: str) -> str:
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        for group in page["logGroups"]:
            if group["logGroupName"] == name:
                return str(group["arn"])
    raise ServiceMissing(f"log group {name!r} does not exist on the server")


def _log_group_name(logging: dict[str, Any]) -> str | None:
    for destination in logging.get("destinations") or []:
        arn = destination.get("cloudWatchLogsLogGroup", {}).get("logGroupArn", "")
        if ":log-group:" in arn:
            return str(arn.split(":log-group:", 1)[1].removesuffix(":*"))
    return None
