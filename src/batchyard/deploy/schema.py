"""``batchyard.yaml`` checked in one pass, every problem with its file location.

:func:`parse` turns a loaded :class:`~batchyard.deploy.source.Source` into a
:class:`~batchyard.deploy.model.Project` or raises
:class:`~batchyard.deploy.source.ProjectError` listing every problem it found, in file order.
Each part is checked by the rules of what consumes it: task definitions by botocore's model of
``RegisterTaskDefinition``, state machine definitions by ``asl.validate`` (the server's own
validator), schedule expressions and policies by the scheduler's parser and rules.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.session  # type: ignore[import-untyped]
from botocore.validate import ParamValidator  # type: ignore[import-untyped]

from batchyard import asl
from batchyard.deploy.checker import Checker, kind_of, position
from batchyard.deploy.model import (
    DEFAULT_ROLE,
    EGRESS_SETTINGS,
    EGRESS_TAG,
    GROUP_POLICIES,
    LOG_LEVELS,
    MACHINE_TYPES,
    NAME,
    RUNTIMES,
    SECTIONS,
    Function,
    LogGroup,
    Project,
    Schedule,
    ScheduleGroup,
    StateMachine,
)
from batchyard.deploy.source import DataPath, ProjectError, Source

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.:-]+)\}")


def parse(source: Source, root: Path) -> Project:
    """The project the source declares; ProjectError with every problem found."""
    check = Checker(source)
    top = check.mapping(source.data, (), SECTIONS)
    name = check.text(top, "project", (), required=True) or ""
    if name and not NAME.match(name):
        check.add(("project",), "a project name is 1-64 letters, digits, '-', '_' or '.'")
    project = Project(name=name, root=root)
    _log_groups(check, top, project)
    _clusters(check, top, project)
    _egress(check, top, project)
    _task_definitions(check, top, project)
    _functions(check, top, project, root)
    _state_machines(check, top, project, root)
    _schedule_groups(check, top, project)
    _schedules(check, top, project)
    if check.problems:
        raise ProjectError(sorted(check.problems, key=position))
    return project


def _log_groups(check: Checker, top: dict[str, Any], project: Project) -> None:
    for group, spec in check.names(top.get("log_groups"), ("log_groups",)).items():
        path: DataPath = ("log_groups", group)
        settings = check.mapping(spec, path, ("retention_days",))
        retention = check.integer(settings, "retention_days", path, 1, 3653)
        project.log_groups[group] = LogGroup(group, retention)


def _clusters(check: Checker, top: dict[str, Any], project: Project) -> None:
    """A list of cluster names, or a mapping of names to ``{tags: {...}}``."""
    value = top.get("clusters")
    if value is None:
        return
    if isinstance(value, list):
        for index, cluster in enumerate(value):
            if not isinstance(cluster, str) or not NAME.match(cluster):
                check.add(
                    ("clusters", index), "a cluster name is 1-64 letters, digits, '-', '_' or '.'"
                )
            else:
                project.clusters[cluster] = {}
        return
    for cluster, spec in check.names(value, ("clusters",)).items():
        path: DataPath = ("clusters", cluster)
        settings = check.mapping(spec, path, ("tags",))
        project.clusters[cluster] = check.string_map(settings, "tags", path)


def _egress(check: Checker, top: dict[str, Any], project: Project) -> None:
    for profile, spec in check.names(top.get("egress_profiles"), ("egress_profiles",)).items():
        path: DataPath = ("egress_profiles", profile)
        settings = check.mapping(spec, path, EGRESS_SETTINGS)
        values = {key: check.text(settings, key, path) for key in EGRESS_SETTINGS}
        if not values["proxy"] and not values["https_proxy"] and not values["docker_network"]:
            check.add(path, "an egress profile needs a proxy, an https_proxy or a docker_network")
        project.egress_profiles[profile] = {k: v for k, v in values.items() if v}


_ECS_MODEL: Any = None


def _register_shape() -> Any:
    global _ECS_MODEL
    if _ECS_MODEL is None:
        model = botocore.session.get_session().get_service_model("ecs")
        _ECS_MODEL = model.operation_model("RegisterTaskDefinition").input_shape
    return _ECS_MODEL


def _botocore_path(name: str) -> DataPath:
    """``.containerDefinitions[0].memory`` as a data path."""
    parts: list[str | int] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", name):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return tuple(parts)


def _unknown_field(name: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(valid)}"
    return f"unknown field of RegisterTaskDefinition; {hint}"


def task_definition_request(family: str, spec: dict[str, Any]) -> dict[str, Any]:
    """RegisterTaskDefinition input of a declared task definition (``tags`` may be a map)."""
    request = {key: value for key, value in spec.items() if key != "tags"}
    request["family"] = family
    tags = spec.get("tags")
    if isinstance(tags, dict):
        request["tags"] = [{"key": k, "value": str(v)} for k, v in tags.items()]
    elif isinstance(tags, list):
        request["tags"] = tags
    return request


def _task_definitions(check: Checker, top: dict[str, Any], project: Project) -> None:
    for family, spec in check.names(top.get("task_definitions"), ("task_definitions",)).items():
        path: DataPath = ("task_definitions", family)
        settings = check.mapping(spec, path)
        if "family" in settings and settings["family"] != family:
            check.add((*path, "family"), "the family is the key of this entry; leave it out")
        if not settings.get("containerDefinitions"):
            check.add(path, "missing required key 'containerDefinitions'")
            continue
        request = task_definition_request(family, settings)
        report = ParamValidator().validate(request, _register_shape())
        for error_type, name, details in report._errors:
            where = (*path, *_botocore_path(name))
            if error_type == "unknown field":
                check.add(
                    (*where, details["unknown_param"]),
                    _unknown_field(details["unknown_param"], details["valid_names"]),
                    key=True,
                )
            elif error_type == "missing required field":
                check.add(where, f"missing required field {details['required_name']!r}")
            elif error_type == "invalid type":
                types = ", ".join(
                    t.replace("<class '", "").replace("'>", "") for t in details["valid_types"]
                )
                check.add(where, f"invalid type {kind_of(details['param'])}, expected {types}")
            else:
                check.add(where, f"{error_type}: {details}")
        _egress_tag(check, path, settings, project)
        project.task_definitions[family] = request


def _egress_tag(check: Checker, path: DataPath, settings: dict[str, Any], project: Project) -> None:
    """A task definition's ``batchyard:egress`` tag must name a profile the project declares."""
    tags = settings.get("tags")
    found: list[tuple[DataPath, Any]] = []
    if isinstance(tags, dict) and EGRESS_TAG in tags:
        found.append(((*path, "tags", EGRESS_TAG), tags[EGRESS_TAG]))
    elif isinstance(tags, list):
        found.extend(
            ((*path, "tags", index, "value"), tag.get("value"))
            for index, tag in enumerate(tags)
            if isinstance(tag, dict) and tag.get("key") == EGRESS_TAG
        )
    for where, profile in found:
        if profile not in project.egress_profiles:
            known = ", ".join(project.egress_profiles) or "none"
            check.add(
                where, f"egress profile {profile!r} is not in egress_profiles (declared: {known})"
            )


def _functions(check: Checker, top: dict[str, Any], project: Project, root: Path) -> None:
    allowed = (
        "directory",
        "handler",
        "runtime",
        "timeout",
        "memory",
        "environment",
        "role",
        "description",
    )
    for name, spec in check.names(top.get("functions"), ("functions",)).items():
        path: DataPath = ("functions", name)
        settings = check.mapping(spec, path, allowed)
        directory = check.text(settings, "directory", path, required=True)
        handler = check.text(settings, "handler", path, required=True)
        if handler is not None and "." not in handler:
            check.add((*path, "handler"), "a handler is module.function, such as app.handler")
        folder = root / directory if directory is not None else None
        if folder is not None and not folder.is_dir():
            check.add((*path, "directory"), f"no such directory: {folder}")
        function = Function(
            name=name,
            directory=folder or root,
            handler=handler or "",
            runtime=check.choice(settings, "runtime", path, RUNTIMES) or "python3.12",
            timeout=check.integer(settings, "timeout", path, 1, 900) or 3,
            memory=check.integer(settings, "memory", path, 128, 10240) or 128,
            environment=check.string_map(settings, "environment", path),
            role=check.text(settings, "role", path) or DEFAULT_ROLE,
            description=check.text(settings, "description", path) or "",
        )
        project.functions[name] = function


def _state_machines(check: Checker, top: dict[str, Any], project: Project, root: Path) -> None:
    allowed = ("definition", "substitutions", "role", "type", "logging", "tags")
    for name, spec in check.names(top.get("state_machines"), ("state_machines",)).items():
        path: DataPath = ("state_machines", name)
        settings = check.mapping(spec, path, allowed)
        definition_path = check.text(settings, "definition", path, required=True)
        machine_type = check.choice(settings, "type", path, MACHINE_TYPES) or "STANDARD"
        substitutions = check.string_map(settings, "substitutions", path)
        definition: dict[str, Any] = {}
        file = root / definition_path if definition_path is not None else root
        if definition_path is not None:
            definition = (
                _definition(check, (*path, "definition"), file, machine_type, substitutions) or {}
            )
        logging = check.mapping(
            settings.get("logging"),
            (*path, "logging"),
            ("level", "include_execution_data", "log_group"),
        )
        logging_path = (*path, "logging")
        level = check.choice(logging, "level", logging_path, LOG_LEVELS)
        log_group = check.text(logging, "log_group", logging_path)
        if level not in (None, "OFF") and log_group is None:
            check.add(logging_path, f"logging level {level} needs a log_group")
        project.state_machines[name] = StateMachine(
            name=name,
            definition_file=file,
            definition=definition,
            role=check.text(settings, "role", path) or DEFAULT_ROLE,
            type=machine_type,
            log_level=level,
            include_execution_data=bool(
                check.boolean(logging, "include_execution_data", logging_path)
            ),
            log_group=log_group,
            tags=check.string_map(settings, "tags", path),
        )


def substitute(value: Any, substitutions: dict[str, str]) -> Any:
    """``${Name}`` in every string of ``value`` replaced, as CloudFormation's
    ``DefinitionSubstitutions`` does (names without a substitution are left alone)."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: substitutions.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {key: substitute(item, substitutions) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, substitutions) for item in value]
    return value


def _definition(
    check: Checker,
    path: DataPath,
    file: Path,
    machine_type: str,
    substitutions: dict[str, str],
) -> dict[str, Any] | None:
    """The definition file's JSON with its substitutions, validated as the server would."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        check.add(path, f"cannot read {file}: {reason}")
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        check.add(path, f"{file}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}")
        return None
    if substitutions:
        document = substitute(document, substitutions)
    errors = [d for d in asl.validate(document, machine_type=machine_type) if d.severity == "ERROR"]
    for diagnostic in errors:
        check.add(
            path, f"{file.name}{diagnostic.location or ''}: {diagnostic.code}: {diagnostic.message}"
        )
    return document if isinstance(document, dict) and not errors else None


def _schedule_groups(check: Checker, top: dict[str, Any], project: Project) -> None:
    for name, spec in check.names(top.get("schedule_groups"), ("schedule_groups",)).items():
        path: DataPath = ("schedule_groups", name)
        settings = check.mapping(spec, path, ("policies",))
        policies = check.string_map(settings, "policies", path)
        for key in policies:
            if key not in GROUP_POLICIES:
                check.add(
                    (*path, "policies", key),
                    f"unknown policy; expected one of: {', '.join(GROUP_POLICIES)}",
                    key=True,
                )
        message = _policy_problem(policies)
        if message is not None:
            check.add((*path, "policies"), message)
        project.schedule_groups[name] = ScheduleGroup(name, policies)


def _policy_problem(policies: dict[str, str]) -> str | None:
    """The scheduler's own message for a bad policy value (it validates the same tags)."""
    try:
        from batchyard.scheduler.policies import validate_tags
    except ImportError:  # pragma: no cover - the server then refuses the tags
        return None
    return validate_tags({f"batchyard:{k}": v for k, v in policies.items()})


def _expression_parser() -> Callable[..., object] | None:
    """The scheduler's expression parser (its errors are AWS's), if that package is there."""
    try:
        from batchyard.scheduler.expressions import parse as parse_expression
    except ImportError:  # pragma: no cover - the server then checks expressions on create
        return None
    return parse_expression


def _schedules(check: Checker, top: dict[str, Any], project: Project) -> None:
    parse_expression = _expression_parser()

    allowed = (
        "expression",
        "timezone",
        "target",
        "input",
        "role",
        "enabled",
        "description",
        "group",
        "flexible_window_minutes",
    )
    for name, spec in check.names(top.get("schedules"), ("schedules",)).items():
        path: DataPath = ("schedules", name)
        settings = check.mapping(spec, path, allowed)
        expression = check.text(settings, "expression", path, required=True)
        timezone = check.text(settings, "timezone", path) or "UTC"
        if expression is not None and parse_expression is not None:
            try:
                parse_expression(expression, timezone, allow_seconds=True)
            except ValueError as exc:
                where = "timezone" if "Timezone" in str(exc) else "expression"
                check.add((*path, where), str(exc))
        target = check.text(settings, "target", path, required=True)
        if target is not None and target.startswith("arn:"):
            if ":states:" not in target or ":stateMachine:" not in target:
                check.add((*path, "target"), "a target ARN must be a state machine's ARN")
        elif target is not None and target not in project.state_machines:
            known = ", ".join(project.state_machines) or "none"
            check.add(
                (*path, "target"),
                f"no state machine {target!r} in this project (state machines: {known})",
            )
        raw_input = settings.get("input")
        input_text = None
        if isinstance(raw_input, str):
            input_text = raw_input
            try:
                json.loads(raw_input)
            except json.JSONDecodeError as exc:
                check.add((*path, "input"), f"input text must be JSON: {exc.msg}")
        elif raw_input is not None:
            input_text = json.dumps(raw_input, sort_keys=True, separators=(",", ":"))
        group = check.text(settings, "group", path) or project.name
        if group != project.name and group not in project.schedule_groups:
            check.add((*path, "group"), f"no schedule group {group!r} in schedule_groups")
        enabled = check.boolean(settings, "enabled", path)
        project.schedules[name] = Schedule(
            name=name,
            expression=expression or "",
            target=target or "",
            group=group,
            timezone=timezone,
            input=input_text,
            role=check.text(settings, "role", path) or DEFAULT_ROLE,
            enabled=True if enabled is None else enabled,
            description=check.text(settings, "description", path) or "",
            flexible_window_minutes=check.integer(
                settings, "flexible_window_minutes", path, 1, 1440
            ),
        )
    if project.schedules and project.name not in project.schedule_groups:
        project.schedule_groups[project.name] = ScheduleGroup(project.name)
