"""Schedule groups (whose ``batchyard:`` tags are the scheduling policies) and the schedules
in the groups the project owns -- AWS cannot tag a schedule, so ownership is the group's."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from batchyard.deploy.changes import Change, Context, ServiceMissing, tag_list, tags_of
from batchyard.deploy.model import Schedule


def schedule_groups(ctx: Context) -> Iterator[Change]:
    needed = bool(ctx.project.schedule_groups)
    listed = ctx.call(
        "EventBridge Scheduler",
        "ListScheduleGroups",
        needed,
        lambda: [
            group
            for page in ctx.c.scheduler.get_paginator("list_schedule_groups").paginate()
            for group in page.get("ScheduleGroups", [])
        ],
    )
    if listed is None:
        return
    scheduler = ctx.c.scheduler
    existing = {g["Name"]: g for g in listed if g.get("State", "ACTIVE") == "ACTIVE"}
    group_tags = {
        name: tags_of(scheduler.list_tags_for_resource(ResourceArn=group["Arn"]).get("Tags"))
        for name, group in existing.items()
    }
    for name, group in ctx.project.schedule_groups.items():
        desired = {**{f"batchyard:{k}": v for k, v in group.policies.items()}, **ctx.tags}
        current = existing.get(name)
        if current is None:
            yield Change(
                "create",
                "schedule group",
                name,
                [f"policies: {_policies_text(group.policies)}"] if group.policies else [],
                run=partial(
                    scheduler.create_schedule_group,
                    Name=name,
                    Tags=tag_list(desired, "Key", "Value"),
                ),
            )
            continue
        ours = {k: v for k, v in group_tags[name].items() if k.startswith("batchyard:")}
        if ours == desired:
            yield Change("unchanged", "schedule group", name)
            continue
        stale = [k for k in ours if k not in desired]

        def retag(
            arn: str = current["Arn"], t: dict[str, str] = desired, old: list[str] = stale
        ) -> None:
            if old:
                scheduler.untag_resource(ResourceArn=arn, TagKeys=old)
            scheduler.tag_resource(ResourceArn=arn, Tags=tag_list(t, "Key", "Value"))

        yield Change(
            "update",
            "schedule group",
            name,
            [f"policies: {_policies_text(group.policies)}"],
            run=retag,
        )
    for name in existing:
        if name in ctx.project.schedule_groups or name == "default":
            continue
        if ctx.owned(group_tags[name]):
            yield Change(
                "delete",
                "schedule group",
                name,
                run=partial(scheduler.delete_schedule_group, Name=name),
            )
    ctx.owned_schedule_groups = [
        name
        for name in existing
        if name in ctx.project.schedule_groups or ctx.owned(group_tags[name])
    ]


def schedules(ctx: Context) -> Iterator[Change]:
    groups = ctx.owned_schedule_groups
    if groups is None:
        return
    scheduler = ctx.c.scheduler
    existing: dict[tuple[str, str], dict[str, Any]] = {}
    for group in groups:
        for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group):
            for item in page.get("Schedules", []):
                existing[(group, item["Name"])] = item
    for name, schedule in ctx.project.schedules.items():
        key = (schedule.group, name)
        if key not in existing:
            yield Change(
                "create",
                "schedule",
                name,
                [f"{schedule.expression} {schedule.timezone}"],
                run=partial(_put_schedule, ctx, scheduler.create_schedule, schedule),
            )
            continue
        current = scheduler.get_schedule(Name=name, GroupName=schedule.group)
        changed = _schedule_changes(ctx, schedule, current)
        if changed:
            yield Change(
                "update",
                "schedule",
                name,
                changed,
                run=partial(_put_schedule, ctx, scheduler.update_schedule, schedule),
            )
        else:
            yield Change("unchanged", "schedule", name)
    wanted = {(s.group, s.name) for s in ctx.project.schedules.values()}
    for group, name in existing:
        if (group, name) not in wanted:
            yield Change(
                "delete",
                "schedule",
                name,
                run=partial(scheduler.delete_schedule, Name=name, GroupName=group),
            )


def _put_schedule(ctx: Context, call: Callable[..., Any], schedule: Schedule) -> None:
    call(**_schedule_request(ctx, schedule))


def _target_arn(ctx: Context, schedule: Schedule) -> str:
    if schedule.target.startswith("arn:"):
        return schedule.target
    sfn = ctx.c.stepfunctions
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"] == schedule.target:
                return str(machine["stateMachineArn"])
    raise ServiceMissing(f"state machine {schedule.target!r} does not exist on the server")


def _schedule_request(ctx: Context, schedule: Schedule) -> dict[str, Any]:
    target: dict[str, Any] = {"Arn": _target_arn(ctx, schedule), "RoleArn": schedule.role}
    if schedule.input is not None:
        target["Input"] = schedule.input
    window: dict[str, Any] = (
        {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": schedule.flexible_window_minutes}
        if schedule.flexible_window_minutes
        else {"Mode": "OFF"}
    )
    return {
        "Name": schedule.name,
        "GroupName": schedule.group,
        "ScheduleExpression": schedule.expression,
        "ScheduleExpressionTimezone": schedule.timezone,
        "FlexibleTimeWindow": window,
        "Target": target,
        "State": "ENABLED" if schedule.enabled else "DISABLED",
        "Description": schedule.description,
    }


def _schedule_changes(ctx: Context, schedule: Schedule, current: dict[str, Any]) -> list[str]:
    changed: list[str] = []
    if current.get("ScheduleExpression") != schedule.expression:
        changed.append(f"expression {current.get('ScheduleExpression')} -> {schedule.expression}")
    if current.get("ScheduleExpressionTimezone", "UTC") != schedule.timezone:
        changed.append(
            f"timezone {current.get('ScheduleExpressionTimezone')} -> {schedule.timezone}"
        )
    target = current.get("Target", {})
    have = str(target.get("Arn", ""))
    if have != schedule.target and not have.endswith(f":stateMachine:{schedule.target}"):
        changed.append(f"target -> {schedule.target}")
    if target.get("RoleArn") != schedule.role:
        changed.append("role")
    if _json_or_text(target.get("Input")) != _json_or_text(schedule.input):
        changed.append("input")
    state = "ENABLED" if schedule.enabled else "DISABLED"
    if current.get("State") != state:
        changed.append(f"state {current.get('State')} -> {state}")
    if (current.get("Description") or "") != schedule.description:
        changed.append("description")
    window = current.get("FlexibleTimeWindow", {})
    if (
        window.get("MaximumWindowInMinutes") if window.get("Mode") == "FLEXIBLE" else None
    ) != schedule.flexible_window_minutes:
        changed.append("flexible_window_minutes")
    return changed


def _json_or_text(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _policies_text(policies: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in policies.items()) or "none"
