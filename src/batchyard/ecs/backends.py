"""Which runner runs a cluster's tasks, and one runner instance per kind.

A cluster's tag ``batchyard:runner`` (``local`` | ``docker`` | ``ecs``) chooses; without it the
server's default applies: ``--runner`` (``ServerConfig.runner`` or ``BATCHYARD_RUNNER``), else
:func:`default_runner_kind` — ``docker`` when a Docker engine answers, ``local`` otherwise.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from batchyard.ecs import errors
from batchyard.runners.base import Runner

log = logging.getLogger("batchyard.ecs")

RUNNER_TAG = "batchyard:runner"
KINDS = ("local", "docker", "ecs")

RunnerFactory = Callable[[str], Runner]


def docker_reachable(timeout: float = 2.0) -> bool:
    """Whether a Docker engine (``DOCKER_HOST`` or the default socket) answers a ping."""
    try:
        docker = importlib.import_module("docker")
        client = docker.from_env(timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def default_runner_kind(configured: str | None = None) -> str:
    """The server's runner: ``configured`` (``--runner``) or ``BATCHYARD_RUNNER`` if set and not
    ``auto``; else ``docker`` when an engine is reachable, ``local`` otherwise."""
    choice = configured or os.environ.get("BATCHYARD_RUNNER") or "auto"
    if choice != "auto":
        if choice not in KINDS:
            raise ValueError(f"unknown runner {choice!r}: use one of {', '.join(KINDS)} or auto")
        return choice
    return "docker" if docker_reachable() else "local"


def check_tags(tags: Mapping[str, str]) -> None:
    kind = tags.get(RUNNER_TAG)
    if kind is not None and kind not in KINDS:
        raise errors.invalid(f"Tag {RUNNER_TAG} must be one of {', '.join(KINDS)}, got '{kind}'.")


def make_factory(options: Callable[[str], Mapping[str, Any]]) -> RunnerFactory:
    """Runners from ``batchyard.runners.make_runner(kind, options(kind))``."""

    def factory(kind: str) -> Runner:
        module = importlib.import_module("batchyard.runners")
        make_runner = getattr(module, "make_runner", None)
        if make_runner is None and kind == "local":  # before the runners' factory existed
            local = importlib.import_module("batchyard.runners.local")
            runner: Runner = local.LocalRunner(**options(kind))
            return runner
        if make_runner is None:
            raise RuntimeError(f"the {kind} runner is not available in this build")
        runner = make_runner(kind, dict(options(kind)))
        return runner

    return factory


class Backends:
    """One runner per kind, made on first use; the cluster's kind from its tags."""

    def __init__(self, factory: RunnerFactory, default_kind: Callable[[], str]) -> None:
        self._factory = factory
        self._default_kind = default_kind
        self._default: str | None = None
        self._runners: dict[str, Runner] = {}
        self._lock = threading.Lock()

    def kind_for(self, cluster_tags: Mapping[str, str]) -> str:
        kind = cluster_tags.get(RUNNER_TAG)
        if kind:
            return kind
        with self._lock:
            if self._default is None:
                self._default = self._default_kind()
                log.info("ECS tasks run on the %s runner by default", self._default)
            return self._default

    def runner(self, kind: str) -> Runner:
        with self._lock:
            runner = self._runners.get(kind)
            if runner is None:
                runner = self._runners[kind] = self._factory(kind)
            return runner

    def close(self) -> None:
        with self._lock:
            runners, self._runners = list(self._runners.values()), {}
        for runner in runners:
            try:
                runner.close()
            except Exception:
                log.exception("closing the %s runner failed", runner.name)
