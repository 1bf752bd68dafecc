"""YAML with a location for every value, so a problem names ``file:line:column: path``.

PyYAML composes the document into nodes that carry their marks; :func:`load` turns the nodes
into plain Python data itself (safe scalars only) and records, for each path in the data, where
its value -- and, for mapping members, its key -- starts. Duplicate keys, which PyYAML would
silently let the last one win, are an error here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

PathPart = str | int
DataPath = tuple[PathPart, ...]


def render_path(path: Sequence[PathPart]) -> str:
    """``schedules.nightly.target`` / ``task_definitions.app.containerDefinitions[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True)
class Location:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class Problem:
    """One thing wrong with the project file, where it is."""

    file: str
    location: Location | None
    path: DataPath
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.location is not None:
            where += f":{self.location.line}:{self.location.column}"
        subject = render_path(self.path)
        return f"{where}: {subject}: {self.message}" if subject else f"{where}: {self.message}"


class ProjectError(Exception):
    """The project file cannot be used; ``problems`` lists every reason found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class Source:
    """A loaded document: its data, and where each piece of it is in the file."""

    file: str
    data: Any
    values: dict[DataPath, Location] = field(default_factory=dict)
    keys: dict[DataPath, Location] = field(default_factory=dict)

    def where(self, path: DataPath, *, key: bool = False) -> Location | None:
        """The location of ``path`` (its key with ``key``), or of its nearest ancestor."""
        probe = tuple(path)
        while True:
            found = (self.keys if key else self.values).get(probe) or self.values.get(probe)
            if found is not None or not probe:
                return found
            probe = probe[:-1]

    def problem(self, path: DataPath, message: str, *, key: bool = False) -> Problem:
        return Problem(self.file, self.where(path, key=key), path, message)


def load(path: Path, display: str | None = None) -> Source:
    """Read and compose ``path``; ProjectError (with location) when it is not usable YAML."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ProjectError([Problem(name, None, (), f"cannot read the file: {reason}")]) from None
    return loads(text, name)


def loads(text: str, name: str) -> Source:
    """Compose YAML ``text`` (reported as file ``name``) into a :class:`Source`."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = Location(mark.line + 1, mark.column + 1) if mark is not None else None
        reason = exc.problem or exc.context or "not valid YAML"
        raise ProjectError([Problem(name, location, (), f"invalid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise ProjectError([Problem(name, None, (), f"invalid YAML: {exc}")]) from None
    source = Source(name, None)
    if node is None:
        source.data = {}
        return source
    problems: list[Problem] = []
    source.data = _build(node, (), source, problems)
    if problems:
        raise ProjectError(problems)
    return source


def _mark(node: yaml.Node) -> Location:
    return Location(node.start_mark.line + 1, node.start_mark.column + 1)


def _build(node: yaml.Node, path: DataPath, source: Source, problems: list[Problem]) -> Any:
    source.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(source.file, _mark(key_node), path, "keys must be text"))
                continue
            key = str(key_node.value)
            if key == "<<":
                problems.append(
                    Problem(source.file, _mark(key_node), path, "merge keys (<<) are not supported")
                )
                continue
            child = (*path, key)
            if key in result:
                problems.append(Problem(source.file, _mark(key_node), child, "duplicate key"))
                continue
            source.keys[child] = _mark(key_node)
            result[key] = _build(value_node, child, source, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), source, problems) for i, item in enumerate(node.value)]
    # Scalars: let PyYAML's safe constructor resolve the tag (int, bool, null, str, ...).
    constructor = yaml.SafeLoader("")
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        problems.append(Problem(source.file, _mark(node), path, f"invalid value: {exc}"))
        return None
