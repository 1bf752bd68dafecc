"""``batchyard.yaml``: what a project declares, checked in one pass with file locations.

:func:`parse` turns a loaded :class:`~batchyard.deploy.source.Source` into a :class:`Project`
or raises :class:`~batchyard.deploy.source.ProjectError` listing every problem it found, each
with its line and column. Task definitions are ECS ``RegisterTaskDefinition`` input written in
YAML and checked against botocore's model, so their field names and types are AWS's; the other
sections are batchyard's short forms of the AWS calls deploy makes.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.session  # type: ignore[import-untyped]
from botocore.validate import ParamValidator  # type: ignore[import-untyped]

from batchyard import asl
from batchyard.deploy.source import DataPath, Problem, ProjectError, Source

PROJECT_TAG = "batchyard:project"
EGRESS_TAG = "batchyard:egress"
DEFAULT_ROLE = "arn:aws:iam::123456789012:role/batchyard"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.:-]+)\}")
NAME = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")
SECTIONS = (
    "project",
    "log_groups",
    "clusters",
    "egress_profiles",
    "task_definitions",
    "functions",
    "state_machines",
    "schedule_groups",
    "schedules",
)
LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")
MACHINE_TYPES = ("STANDARD", "EXPRESS")
RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13")
# Scheduling policies, carried as batchyard:<name> tags of a schedule group (scheduler/policies).
GROUP_POLICIES = ("overlap", "catch-up", "catch-up-limit", "starting-deadline")
EGRESS_SETTINGS = ("proxy", "https_proxy", "no_proxy", "docker_network")


@dataclass
class LogGroup:
    name: str
    retention_days: int | None = None


@dataclass
class Function:
    name: str
    directory: Path
    handler: str
    runtime: str = "python3.12"
    timeout: int = 3
    memory: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    role: str = DEFAULT_ROLE
    description: str = ""


@dataclass
class StateMachine:
    name: str
    definition_file: Path
    definition: dict[str, Any]
    role: str = DEFAULT_ROLE
    type: str = "STANDARD"
    log_level: str | None = None
    include_execution_data: bool = False
    log_group: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class ScheduleGroup:
    name: str
    policies: dict[str, str] = field(default_factory=dict)


@dataclass
class Schedule:
    name: str
    expression: str
    target: str  # a state machine of the project, by name
    group: str
    timezone: str = "UTC"
    input: str | None = None
    role: str = DEFAULT_ROLE
    enabled: bool = True
    description: str = ""
    flexible_window_minutes: int | None = None


@dataclass
class Project:
    name: str
    root: Path
    log_groups: dict[str, LogGroup] = field(default_factory=dict)
    clusters: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> tags
    egress_profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    task_definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    state_machines: dict[str, StateMachine] = field(default_factory=dict)
    schedule_groups: dict[str, ScheduleGroup] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)


class _Checker:
    """Reads typed values out of the source, collecting a problem for each bad one."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, path: DataPath, message: str, *, key: bool = False) -> None:
        self.problems.append(self.source.problem(path, message, key=key))

    def mapping(
        self, value: Any, path: DataPath, allowed: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(path, f"expected a mapping, got {_kind(value)}")
            return {}
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    self.add(
                        (*path, key),
                        f"unknown key; expected one of: {', '.join(allowed)}",
                        key=True,
                    )
        return value

    def required(self, spec: dict[str, Any], key: str, path: DataPath) -> Any:
        if key not in spec or spec[key] is None:
            self.add(path, f"missing required key {key!r}")
            return None
        return spec[key]

    def text(
        self, spec: dict[str, Any], key: str, path: DataPath, *, required: bool = False
    ) -> str | None:
        value = self.required(spec, key, path) if required else spec.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.add((*path, key), f"expected text, got {_kind(value)}")
            return None
        return value

    def integer(
        self, spec: dict[str, Any], key: str, path: DataPath, low: int, high: int
    ) -> int | None:
        value = spec.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add((*path, key), f"expected a whole number, got {_kind(value)}")
            return None
        if not low <= value <= high:
            self.add((*path, key), f"must be between {low} and {high}, got {value}")
            return None
        return value

    def choice(
        self, spec: dict[str, Any], key: str, path: DataPath, options: tuple[str, ...]
    ) -> str | None:
        value = self.text(spec, key, path)
        if value is not None and value not in options:
            self.add((*path, key), f"must be one of {', '.join(options)}, got {value!r}")
            return None
        return value

    def boolean(self, spec: dict[str, Any], key: str, path: DataPath) -> bool | None:
        value = spec.get(key)
        if value is not None and not isinstance(value, bool):
            self.add((*path, key), f"expected true or false, got {_kind(value)}")
            return None
        return value

    def string_map(self, spec: dict[str, Any], key: str, path: DataPath) -> dict[str, str]:
        value = self.mapping(spec.get(key), (*path, key))
        result: dict[str, str] = {}
        for name, item in value.items():
            if isinstance(item, bool) or item is None or isinstance(item, dict | list):
                self.add((*path, key, name), f"expected text, got {_kind(item)}")
            else:
                result[name] = str(item)
        return result

    def names(self, value: Any, path: DataPath) -> dict[str, Any]:
        """A section: a mapping of resource names to their settings."""
        section = self.mapping(value, path)
        for name in section:
            if not NAME.match(name) and path[0] not in ("log_groups",):
                self.add((*path, name), "names are 1-64 letters, digits, '-', '_' or '.'", key=True)
        return section


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def parse(source: Source, root: Path) -> Project:
    """The project the source declares; ProjectError with every problem found."""
    check = _Checker(source)
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
        raise ProjectError(sorted(check.problems, key=_position))
    return project


def _position(problem: Problem) -> tuple[int, int]:
    location = problem.location
    return (location.line, location.column) if location is not None else (0, 0)


def _log_groups(check: _Checker, top: dict[str, Any], project: Project) -> None:
    for group, spec in check.names(top.get("log_groups"), ("log_groups",)).items():
        path: DataPath = ("log_groups", group)
        settings = check.mapping(spec, path, ("retention_days",))
        retention = check.integer(settings, "retention_days", path, 1, 3653)
        project.log_groups[group] = LogGroup(group, retention)


def _clusters(check: _Checker, top: dict[str, Any], project: Project) -> None:
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


def _egress(check: _Checker, top: dict[str, Any], project: Project) -> None:
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


def _task_definitions(check: _Checker, top: dict[str, Any], project: Project) -> None:
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
                check.add(where, f"invalid type {_kind(details['param'])}, expected {types}")
            else:
                check.add(where, f"{error_type}: {details}")
        _egress_tag(check, path, settings, project)
        project.task_definitions[family] = request


def _egress_tag(
    check: _Checker, path: DataPath, settings: dict[str, Any], project: Project
) -> None:
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


def _functions(check: _Checker, top: dict[str, Any], project: Project, root: Path) -> None:
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


def _state_machines(check: _Checker, top: dict[str, Any], project: Project, root: Path) -> None:
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
    check: _Checker,
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


def _schedule_groups(check: _Checker, top: dict[str, Any], project: Project) -> None:
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


def _schedules(check: _Checker, top: dict[str, Any], project: Project) -> None:
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
        if target is not None and target not in project.state_machines:
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
