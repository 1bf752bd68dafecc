"""Reading typed values out of a loaded project file, one problem per bad value.

The :class:`Checker` never raises: each check that fails adds a
:class:`~batchyard.deploy.source.Problem` located at the value (or its key) and returns a
usable default, so one pass reports every problem of the file.
"""

from __future__ import annotations

from typing import Any

from batchyard.deploy.model import NAME
from batchyard.deploy.source import DataPath, Problem, Source


class Checker:
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
            self.add(path, f"expected a mapping, got {kind_of(value)}")
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
            self.add((*path, key), f"expected text, got {kind_of(value)}")
            return None
        return value

    def integer(
        self, spec: dict[str, Any], key: str, path: DataPath, low: int, high: int
    ) -> int | None:
        value = spec.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add((*path, key), f"expected a whole number, got {kind_of(value)}")
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
            self.add((*path, key), f"expected true or false, got {kind_of(value)}")
            return None
        return value

    def string_map(self, spec: dict[str, Any], key: str, path: DataPath) -> dict[str, str]:
        value = self.mapping(spec.get(key), (*path, key))
        result: dict[str, str] = {}
        for name, item in value.items():
            if isinstance(item, bool) or item is None or isinstance(item, dict | list):
                self.add((*path, key, name), f"expected text, got {kind_of(item)}")
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


def kind_of(value: Any) -> str:
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


def position(problem: Problem) -> tuple[int, int]:
    location = problem.location
    return (location.line, location.column) if location is not None else (0, 0)
