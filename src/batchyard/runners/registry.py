"""``make_runner(kind, options)``: a runner from configuration, one table entry per backend.

Options are the backend's keyword arguments (see each runner's docstring); an unknown kind or
option is a ``ValueError`` naming it and listing what is accepted, never a ``TypeError``
from deep inside a constructor.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from batchyard.runners.base import Runner


def _local(options: dict[str, Any]) -> Runner:
    from batchyard.runners.local import LocalRunner

    return _build(LocalRunner, "local", options)


def _docker(options: dict[str, Any]) -> Runner:
    from batchyard.runners.docker import DockerRunner

    return _build(DockerRunner, "docker", options)


def _ecs(options: dict[str, Any]) -> Runner:
    from batchyard.runners.ecs import EcsRunner

    return _build(EcsRunner, "ecs", options)


RUNNERS: dict[str, Callable[[dict[str, Any]], Runner]] = {
    "local": _local,
    "docker": _docker,
    "ecs": _ecs,
}


def _build(cls: Callable[..., Any], kind: str, options: dict[str, Any]) -> Runner:
    accepted = [
        name
        for name, p in inspect.signature(cls).parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and name != "client"
    ]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join(unknown)} for the {kind} runner; "
            f"accepted: {', '.join(accepted)}"
        )
    runner: Runner = cls(**options)
    return runner


def make_runner(kind: str, options: Mapping[str, Any] | None = None) -> Runner:
    """The runner ``kind`` (``local``, ``docker``, ``ecs``) configured with ``options``."""
    try:
        factory = RUNNERS[kind]
    except KeyError:
        raise ValueError(
            f"unknown runner {kind!r}; choose one of: {', '.join(sorted(RUNNERS))}"
        ) from None
    return factory(dict(options or {}))
