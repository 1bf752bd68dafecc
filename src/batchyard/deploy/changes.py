"""The vocabulary of a plan: a :class:`Change`, the :class:`Context` every resource kind reads
the server through, and the comparison rules they share.

A resource kind (``resources/*.py``) is a function ``(Context) -> Iterator[Change]`` that reads
what the server has, compares it with what the project declares, and yields one change per
resource -- with the call that makes it, so applying a plan is only running those calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from batchyard.deploy.model import PROJECT_TAG, Project

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


def tag_list(tags: dict[str, str], key: str = "key", value: str = "value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in tags.items()]


def tags_of(items: list[dict[str, str]] | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for tag in items or []:
        k = tag.get("key", tag.get("Key"))
        v = tag.get("value", tag.get("Value"))
        if k is not None:
            result[k] = v or ""
    return result


def _empty(value: Any) -> bool:
    """Nothing but empty containers and text (``{"Variables": {}}`` is empty)."""
    if isinstance(value, dict):
        return all(_empty(item) for item in value.values())
    if isinstance(value, list):
        return not value
    return bool(value == "")


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
    if current is None and _empty(desired):
        return []  # AWS leaves empty members out of its answers
    # Numbers and their text ("256" and 256) are the same value to ECS.
    if (
        isinstance(desired, int | str)
        and isinstance(current, int | str)
        and str(desired) == str(current)
    ):
        return []
    return [path or "(value)"]


class Context:
    """What every resource kind needs: the project, the clients, and the ownership rule."""

    def __init__(self, project: Project, clients: Clients) -> None:
        self.project = project
        self.c = clients
        self.tags = {PROJECT_TAG: project.name}
        # Filled by the schedule groups, read by the schedules: the groups deploy manages.
        self.owned_schedule_groups: list[str] | None = None

    def owned(self, tags: dict[str, str]) -> bool:
        """Whether deploy created the resource carrying ``tags`` for this project."""
        return tags.get(PROJECT_TAG) == self.project.name

    def call(self, service: str, what: str, needed: bool, call: Callable[[], Any]) -> Any:
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
