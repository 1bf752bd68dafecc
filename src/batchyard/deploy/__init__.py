"""``batchyard.yaml`` and ``batchyard deploy``: declare a team's batch setup, apply it by API.

The public API is three calls: :func:`load_project` (the file, checked, or a
:class:`ProjectError` whose problems name file, line and column), :func:`plan` (the changes a
deploy would make, read from the server through boto3) and :func:`apply` (run them in order).
Everything goes through the AWS APIs the server speaks, so what deploy does a script can do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from batchyard.deploy.changes import Change, Clients, ServiceMissing
from batchyard.deploy.egress import egress_changes
from batchyard.deploy.model import PROJECT_TAG, Project
from batchyard.deploy.plan import plan_project
from batchyard.deploy.schema import parse
from batchyard.deploy.source import Problem, ProjectError, load

__all__ = [
    "PROJECT_TAG",
    "Change",
    "Clients",
    "Problem",
    "Project",
    "ProjectError",
    "ServiceMissing",
    "apply",
    "load_project",
    "plan",
]


def load_project(path: Path) -> Project:
    """The project ``path`` declares; relative paths in it are relative to its directory."""
    source = load(path, display=str(path))
    return parse(source, path.resolve().parent)


def plan(
    project: Project, client: Callable[[str], Any], *, server_data_dir: Path | None = None
) -> list[Change]:
    """Every change (and every unchanged resource) a deploy of ``project`` would show."""
    egress = list(egress_changes(project.egress_profiles, server_data_dir))
    return egress + plan_project(project, Clients(client))


def apply(changes: list[Change], on_change: Callable[[Change], None] | None = None) -> None:
    """Run the changes in order; the first failure stops the deploy (and propagates)."""
    for change in changes:
        if change.run is None:
            continue
        if on_change is not None:
            on_change(change)
        change.run()
