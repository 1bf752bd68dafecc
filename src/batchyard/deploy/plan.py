"""What ``batchyard deploy`` would change: read the server's state, compare, list the changes.

A plan is a list of :class:`Change` items in the order they are applied: creates and updates
in dependency order (log groups and clusters before the task definitions and state machines
that use them, state machines before the schedules that start them), then deletes in the
reverse order. Each change carries the call that makes it, so applying is only running them.

What deploy may delete is what it created: every resource it creates carries the tag
``batchyard:project=<name>`` (schedules, which AWS cannot tag, live in a schedule group that
carries it), and only resources with the project's tag and no longer in the file are deleted.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from batchyard.deploy.model import PROJECT_TAG, Function, Project, Schedule, StateMachine

Action = Literal["create", "update", "delete", "unchanged"]
SYMBOLS: dict[Action, str] = {"create": "+", "update": "~", "delete": "-", "unchanged": "="}


class ServiceMissing(Exception):
    """The server does not serve an API the project needs."""


@dataclass
class Change:
    action: Action
    kind: str
    name: str
    details: list[str] = field(default_factory=list)
    run: Callable[[], object] | None = None

    def line(self) -> str:
        text = f"{SYMBOLS[self.action]} {self.kind} {self.name}"
        return text + (f" ({'; '.join(self.details)})" if self.details else "")


class Clients:
    """boto3 clients made on first use (a project without functions never asks for Lambda)."""

    def __init__(self, factory: Callable[[str], Any]) -> None:
        self._factory = factory
        self._made: dict[str, Any] = {}

    def __getattr__(self, service: str) -> Any:
        name = {"lambda_": "lambda"}.get(service, service)
        if name not in self._made:
            self._made[name] = self._factory(name)
        return self._made[name]


def not_served(error: ClientError) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == "UnknownOperationException")


def code_of(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _tag_list(tags: dict[str, str], key: str = "key", value: str = "value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in tags.items()]


def _tags_of(items: list[dict[str, str]] | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for tag in items or []:
        k = tag.get("key", tag.get("Key"))
        v = tag.get("value", tag.get("Value"))
        if k is not None:
            result[k] = v or ""
    return result


def differences(desired: Any, current: Any, path: str = "") -> list[str]:
    """The paths where ``current`` lacks what ``desired`` says (server defaults are ignored)."""
    if isinstance(desired, dict) and isinstance(current, dict):
        found: list[str] = []
        for key, value in desired.items():
            found.extend(differences(value, current.get(key), f"{path}.{key}" if path else key))
        return found
    if isinstance(desired, list) and isinstance(current, list) and len(desired) == len(current):
        found = []
        for index, (want, have) in enumerate(zip(desired, current, strict=True)):
            found.extend(differences(want, have, f"{path}[{index}]"))
        return found
    if desired == current:
        return []
    if current is None and desired in ({}, [], ""):
        return []  # AWS leaves empty members out of its answers
    # Numbers and their text ("256" and 256) are the same value to ECS.
    if (
        isinstance(desired, int | str)
        and isinstance(current, int | str)
        and str(desired) == str(current)
    ):
        return []
    return [path or "(value)"]


class Planner:
    """Builds the plan of one project against one server."""

    def __init__(self, project: Project, clients: Clients) -> None:
        self.project = project
        self.c = clients
        self.tags = {PROJECT_TAG: project.name}

    def owned(self, tags: dict[str, str]) -> bool:
        return tags.get(PROJECT_TAG) == self.project.name

    def plan(self) -> list[Change]:
        upserts: list[Change] = []
        deletes: list[Change] = []
        for kind in (
            self._log_groups,
            self._clusters,
            self._task_definitions,
            self._functions,
            self._state_machines,
            self._schedule_groups,
            self._schedules,
        ):
            for change in kind():
                (deletes if change.action == "delete" else upserts).append(change)
        return upserts + list(reversed(deletes))

    def _call(self, service: str, what: str, needed: bool, call: Callable[[], Any]) -> Any:
        """``call()``, or None when the server does not serve ``service`` and nothing needs it."""
        try:
            return call()
        except ClientError as exc:
            if not_served(exc):
                if needed:
                    raise ServiceMissing(
                        f"the server does not serve the {service} API ({what}), "
                        "which this project needs"
                    ) from None
                return None
            raise

    # ------------------------------------------------------------------ log groups

    def _log_groups(self) -> Iterator[Change]:
        logs = self.c.logs
        existing: dict[str, dict[str, Any]] = {
            group["logGroupName"]: group
            for page in logs.get_paginator("describe_log_groups").paginate()
            for group in page["logGroups"]
        }
        wanted = dict(self.project.log_groups)
        for machine in self.project.state_machines.values():
            if machine.log_group and machine.log_group not in wanted:
                from batchyard.deploy.model import LogGroup

                wanted[machine.log_group] = LogGroup(machine.log_group)
        for name, group in wanted.items():
            current = existing.get(name)
            if current is None:
                yield Change(
                    "create",
                    "log group",
                    name,
                    run=_create_log_group(logs, name, group.retention_days, self.tags),
                )
                continue
            have = current.get("retentionInDays")
            if group.retention_days is not None and have != group.retention_days:
                yield Change(
                    "update",
                    "log group",
                    name,
                    [f"retention_days: {have} -> {group.retention_days}"],
                    run=partial(
                        logs.put_retention_policy,
                        logGroupName=name,
                        retentionInDays=group.retention_days,
                    ),
                )
            else:
                yield Change("unchanged", "log group", name)
        for name in existing:
            if name in wanted:
                continue
            tags = logs.list_tags_log_group(logGroupName=name).get("tags", {})
            if self.owned(tags):
                yield Change(
                    "delete",
                    "log group",
                    name,
                    run=partial(logs.delete_log_group, logGroupName=name),
                )

    # ------------------------------------------------------------------ clusters

    def _clusters(self) -> Iterator[Change]:
        needed = bool(self.project.clusters)
        listed = self._call("ECS", "ListClusters", needed, lambda: self.c.ecs.list_clusters())
        if listed is None:
            return
        ecs = self.c.ecs
        arns = listed.get("clusterArns", [])
        described = (
            ecs.describe_clusters(clusters=arns, include=["TAGS"])["clusters"] if arns else []
        )
        existing = {c["clusterName"]: c for c in described if c.get("status") == "ACTIVE"}
        for name, extra in self.project.clusters.items():
            desired = {**extra, **self.tags}
            current = existing.get(name)
            if current is None:
                yield Change(
                    "create",
                    "cluster",
                    name,
                    run=partial(ecs.create_cluster, clusterName=name, tags=_tag_list(desired)),
                )
                continue
            tags = _tags_of(current.get("tags"))
            if tags == desired:
                yield Change("unchanged", "cluster", name)
                continue
            yield Change(
                "update",
                "cluster",
                name,
                ["tags"],
                run=partial(_retag_cluster, ecs, current["clusterArn"], tags, desired),
            )
        for name, cluster in existing.items():
            if name not in self.project.clusters and self.owned(_tags_of(cluster.get("tags"))):
                yield Change(
                    "delete", "cluster", name, run=partial(ecs.delete_cluster, cluster=name)
                )

    # ------------------------------------------------------------------ task definitions

    def _task_definitions(self) -> Iterator[Change]:
        needed = bool(self.project.task_definitions)
        listed = self._call(
            "ECS",
            "ListTaskDefinitionFamilies",
            needed,
            lambda: [
                family
                for page in self.c.ecs.get_paginator("list_task_definition_families").paginate(
                    status="ACTIVE"
                )
                for family in page["families"]
            ],
        )
        if listed is None:
            return
        ecs = self.c.ecs
        current: dict[str, tuple[dict[str, Any], dict[str, str]]] = {}
        for family in listed:
            try:
                answer = ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
            except ClientError:
                continue
            current[family] = (answer["taskDefinition"], _tags_of(answer.get("tags")))
        for family, request in self.project.task_definitions.items():
            desired = {**request, "tags": _tag_list({**_tags_of(request.get("tags")), **self.tags})}
            register = partial(ecs.register_task_definition, **desired)
            if family not in current:
                yield Change("create", "task definition", family, run=register)
                continue
            definition, tags = current[family]
            changed = differences(
                {k: v for k, v in request.items() if k not in ("tags", "family")}, definition
            )
            if _tags_of(desired["tags"]) != tags:
                changed.append("tags")
            if changed:
                yield Change(
                    "update",
                    "task definition",
                    family,
                    [f"new revision; changed: {', '.join(changed)}"],
                    run=register,
                )
            else:
                yield Change("unchanged", "task definition", family)
        for family, (_definition, tags) in current.items():
            if family not in self.project.task_definitions and self.owned(tags):
                yield Change(
                    "delete",
                    "task definition",
                    family,
                    run=partial(_deregister_family, ecs, family),
                )

    # ------------------------------------------------------------------ functions

    def _functions(self) -> Iterator[Change]:
        needed = bool(self.project.functions)
        listed = self._call(
            "Lambda",
            "ListFunctions",
            needed,
            lambda: [
                function
                for page in self.c.lambda_.get_paginator("list_functions").paginate()
                for function in page.get("Functions", [])
            ],
        )
        if listed is None:
            return
        lam = self.c.lambda_
        existing = {f["FunctionName"]: f for f in listed}
        for name, function in self.project.functions.items():
            archive = zip_directory(function.directory)
            digest = base64.b64encode(hashlib.sha256(archive).digest()).decode()
            configuration = _function_configuration(function)
            current = existing.get(name)
            if current is None:
                yield Change(
                    "create",
                    "function",
                    name,
                    run=partial(
                        lam.create_function,
                        FunctionName=name,
                        Code={"ZipFile": archive},
                        Tags=dict(self.tags),
                        Publish=False,
                        **configuration,
                    ),
                )
                continue
            changed = differences(configuration, current)
            steps: list[Callable[[], Any]] = []
            if changed:
                steps.append(
                    partial(lam.update_function_configuration, FunctionName=name, **configuration)
                )
            if current.get("CodeSha256") != digest:
                changed.append("code")
                steps.append(partial(lam.update_function_code, FunctionName=name, ZipFile=archive))
            if changed:
                yield Change(
                    "update",
                    "function",
                    name,
                    [f"changed: {', '.join(changed)}"],
                    run=_sequence(steps, lam, name),
                )
            else:
                yield Change("unchanged", "function", name)
        for name in existing:
            if name in self.project.functions:
                continue
            tags = lam.get_function(FunctionName=name).get("Tags", {})
            if self.owned(tags):
                yield Change(
                    "delete",
                    "function",
                    name,
                    run=partial(lam.delete_function, FunctionName=name),
                )

    # ------------------------------------------------------------------ state machines

    def _state_machines(self) -> Iterator[Change]:
        sfn = self.c.stepfunctions
        existing = {
            m["name"]: m["stateMachineArn"]
            for page in sfn.get_paginator("list_state_machines").paginate()
            for m in page["stateMachines"]
        }
        for name, machine in self.project.state_machines.items():
            arn = existing.get(name)
            if arn is None:
                yield Change(
                    "create", "state machine", name, run=partial(self._create_machine, machine)
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
            tags = _tags_of(sfn.list_tags_for_resource(resourceArn=arn).get("tags"))
            desired_tags = {**machine.tags, **self.tags}
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
                    run=partial(self._replace_machine, arn, machine),
                )
            else:
                yield Change(
                    "update",
                    "state machine",
                    name,
                    changed,
                    run=partial(self._update_machine, arn, machine),
                )
        for name, arn in existing.items():
            if name in self.project.state_machines:
                continue
            tags = _tags_of(sfn.list_tags_for_resource(resourceArn=arn).get("tags"))
            if self.owned(tags):
                yield Change(
                    "delete",
                    "state machine",
                    name,
                    run=partial(sfn.delete_state_machine, stateMachineArn=arn),
                )

    def _logging(self, machine: StateMachine) -> dict[str, Any]:
        if machine.log_level in (None, "OFF") or machine.log_group is None:
            return {"level": "OFF"}
        group_arn = _log_group_arn(self.c.logs, machine.log_group)
        return {
            "level": machine.log_level,
            "includeExecutionData": machine.include_execution_data,
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group_arn}}],
        }

    def _create_machine(self, machine: StateMachine) -> None:
        self.c.stepfunctions.create_state_machine(
            name=machine.name,
            definition=json.dumps(machine.definition),
            roleArn=machine.role,
            type=machine.type,
            loggingConfiguration=self._logging(machine),
            tags=_tag_list({**machine.tags, **self.tags}),
        )

    def _update_machine(self, arn: str, machine: StateMachine) -> None:
        sfn = self.c.stepfunctions
        sfn.update_state_machine(
            stateMachineArn=arn,
            definition=json.dumps(machine.definition),
            roleArn=machine.role,
            loggingConfiguration=self._logging(machine),
        )
        desired = {**machine.tags, **self.tags}
        current = _tags_of(sfn.list_tags_for_resource(resourceArn=arn).get("tags"))
        stale = [key for key in current if key not in desired]
        if stale:
            sfn.untag_resource(resourceArn=arn, tagKeys=stale)
        if current != desired:
            sfn.tag_resource(resourceArn=arn, tags=_tag_list(desired))

    def _replace_machine(self, arn: str, machine: StateMachine) -> None:
        self.c.stepfunctions.delete_state_machine(stateMachineArn=arn)
        self._create_machine(machine)

    # ------------------------------------------------------------------ schedules

    def _schedule_groups(self) -> Iterator[Change]:
        needed = bool(self.project.schedule_groups)
        listed = self._call(
            "EventBridge Scheduler",
            "ListScheduleGroups",
            needed,
            lambda: [
                group
                for page in self.c.scheduler.get_paginator("list_schedule_groups").paginate()
                for group in page.get("ScheduleGroups", [])
            ],
        )
        if listed is None:
            return
        scheduler = self.c.scheduler
        existing = {g["Name"]: g for g in listed if g.get("State", "ACTIVE") == "ACTIVE"}
        for name, group in self.project.schedule_groups.items():
            desired = {**{f"batchyard:{k}": v for k, v in group.policies.items()}, **self.tags}
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
                        Tags=_tag_list(desired, "Key", "Value"),
                    ),
                )
                continue
            tags = _tags_of(
                scheduler.list_tags_for_resource(ResourceArn=current["Arn"]).get("Tags")
            )
            ours = {k: v for k, v in tags.items() if k.startswith("batchyard:")}
            if ours == desired:
                yield Change("unchanged", "schedule group", name)
                continue
            stale = [k for k in ours if k not in desired]

            def retag(
                arn: str = current["Arn"], t: dict[str, str] = desired, old: list[str] = stale
            ) -> None:
                if old:
                    scheduler.untag_resource(ResourceArn=arn, TagKeys=old)
                scheduler.tag_resource(ResourceArn=arn, Tags=_tag_list(t, "Key", "Value"))

            yield Change(
                "update",
                "schedule group",
                name,
                [f"policies: {_policies_text(group.policies)}"],
                run=retag,
            )
        for name, current in existing.items():
            if name in self.project.schedule_groups or name == "default":
                continue
            tags = _tags_of(
                scheduler.list_tags_for_resource(ResourceArn=current["Arn"]).get("Tags")
            )
            if self.owned(tags):
                yield Change(
                    "delete",
                    "schedule group",
                    name,
                    run=partial(scheduler.delete_schedule_group, Name=name),
                )
        self._owned_groups = [
            name
            for name, current in existing.items()
            if name in self.project.schedule_groups
            or self.owned(
                _tags_of(scheduler.list_tags_for_resource(ResourceArn=current["Arn"]).get("Tags"))
            )
        ]

    def _schedules(self) -> Iterator[Change]:
        groups = getattr(self, "_owned_groups", None)
        if groups is None:
            return
        scheduler = self.c.scheduler
        existing: dict[tuple[str, str], dict[str, Any]] = {}
        for group in groups:
            for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group):
                for item in page.get("Schedules", []):
                    existing[(group, item["Name"])] = item
        for name, schedule in self.project.schedules.items():
            key = (schedule.group, name)
            if key not in existing:
                yield Change(
                    "create",
                    "schedule",
                    name,
                    [f"{schedule.expression} {schedule.timezone}"],
                    run=partial(self._put_schedule, scheduler.create_schedule, schedule),
                )
                continue
            current = scheduler.get_schedule(Name=name, GroupName=schedule.group)
            changed = self._schedule_changes(schedule, current)
            if changed:
                yield Change(
                    "update",
                    "schedule",
                    name,
                    changed,
                    run=partial(self._put_schedule, scheduler.update_schedule, schedule),
                )
            else:
                yield Change("unchanged", "schedule", name)
        wanted = {(s.group, s.name) for s in self.project.schedules.values()}
        for group, name in existing:
            if (group, name) not in wanted:
                yield Change(
                    "delete",
                    "schedule",
                    name,
                    run=partial(scheduler.delete_schedule, Name=name, GroupName=group),
                )

    def _put_schedule(self, call: Callable[..., Any], schedule: Schedule) -> None:
        call(**self._schedule_request(schedule))

    def _target_arn(self, schedule: Schedule) -> str:
        sfn = self.c.stepfunctions
        for page in sfn.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                if machine["name"] == schedule.target:
                    return str(machine["stateMachineArn"])
        raise ServiceMissing(f"state machine {schedule.target!r} does not exist on the server")

    def _schedule_request(self, schedule: Schedule) -> dict[str, Any]:
        target: dict[str, Any] = {"Arn": self._target_arn(schedule), "RoleArn": schedule.role}
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

    def _schedule_changes(self, schedule: Schedule, current: dict[str, Any]) -> list[str]:
        changed: list[str] = []
        if current.get("ScheduleExpression") != schedule.expression:
            changed.append(
                f"expression {current.get('ScheduleExpression')} -> {schedule.expression}"
            )
        if current.get("ScheduleExpressionTimezone", "UTC") != schedule.timezone:
            changed.append(
                f"timezone {current.get('ScheduleExpressionTimezone')} -> {schedule.timezone}"
            )
        target = current.get("Target", {})
        if not str(target.get("Arn", "")).endswith(f":stateMachine:{schedule.target}"):
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


def _create_log_group(
    logs: Any, name: str, retention: int | None, tags: dict[str, str]
) -> Callable[[], None]:
    def run() -> None:
        logs.create_log_group(logGroupName=name, tags=tags)
        if retention is not None:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention)

    return run


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


def _retag_cluster(ecs: Any, arn: str, current: dict[str, str], desired: dict[str, str]) -> None:
    stale = [key for key in current if key not in desired]
    if stale:
        ecs.untag_resource(resourceArn=arn, tagKeys=stale)
    ecs.tag_resource(resourceArn=arn, tags=_tag_list(desired))


def _deregister_family(ecs: Any, family: str) -> None:
    for page in ecs.get_paginator("list_task_definitions").paginate(
        familyPrefix=family, status="ACTIVE"
    ):
        for arn in page["taskDefinitionArns"]:
            if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family:
                ecs.deregister_task_definition(taskDefinition=arn)


def _function_configuration(function: Function) -> dict[str, Any]:
    return {
        "Runtime": function.runtime,
        "Handler": function.handler,
        "Role": function.role,
        "Timeout": function.timeout,
        "MemorySize": function.memory,
        "Description": function.description,
        "Environment": {"Variables": dict(function.environment)},
    }


def _sequence(steps: list[Callable[[], Any]], lam: Any, name: str) -> Callable[[], None]:
    def run() -> None:
        for index, step in enumerate(steps):
            if index:  # Lambda refuses a second update while the first is in progress
                _wait_updated(lam, name)
            step()

    return run


def _wait_updated(lam: Any, name: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = lam.get_function_configuration(FunctionName=name).get("LastUpdateStatus")
        if status != "InProgress":
            return
        time.sleep(0.5)


def zip_directory(directory: Path) -> bytes:
    """The directory as a zip whose bytes depend only on file names and contents.

    Fixed timestamps and a sorted order make the archive -- and so Lambda's ``CodeSha256`` --
    the same on every deploy of unchanged code, which is what lets the plan say "unchanged".
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            relative = path.relative_to(directory)
            if path.is_dir() or "__pycache__" in relative.parts or path.suffix == ".pyc":
                continue
            info = zipfile.ZipInfo(relative.as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()
