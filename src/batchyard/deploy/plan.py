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

from collections.abc import Callable, Iterator

from batchyard.deploy.changes import Change, Clients, Context
from batchyard.deploy.model import Project
from batchyard.deploy.resources import ecs, functions, logs, scheduler, states

# The resource kinds in dependency order: each may use what the ones before it created.
KINDS: tuple[Callable[[Context], Iterator[Change]], ...] = (
    logs.log_groups,
    ecs.clusters,
    ecs.task_definitions,
    functions.functions,
    states.state_machines,
    scheduler.schedule_groups,
    scheduler.schedules,
)


def plan_project(project: Project, clients: Clients) -> list[Change]:
    """Creates and updates in dependency order, then deletes in the reverse order."""
    context = Context(project, clients)
    upserts: list[Change] = []
    deletes: list[Change] = []
    for kind in KINDS:
        for change in kind(context):
            (deletes if change.action == "delete" else upserts).append(change)
    return upserts + list(reversed(deletes))
