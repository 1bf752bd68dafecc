"""ECS resource names: building ARNs and reading the identifiers callers pass.

ECS accepts a name or a full ARN almost everywhere (``cluster``, ``task``, ``taskDefinition``);
these helpers turn either into the parts the service stores, and build ARNs in ECS's long
format (``task/CLUSTER/ID`` with a 32-hex id).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from batchyard.ecs import errors

DEFAULT_CLUSTER = "default"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


@dataclass(frozen=True)
class Scope:
    """Where ARNs live: one region of one account."""

    region: str
    account: str

    def _prefix(self) -> str:
        return f"arn:aws:ecs:{self.region}:{self.account}"

    def cluster_arn(self, name: str) -> str:
        return f"{self._prefix()}:cluster/{name}"

    def task_definition_arn(self, family: str, revision: int) -> str:
        return f"{self._prefix()}:task-definition/{family}:{revision}"

    def task_arn(self, cluster: str, task_id: str) -> str:
        return f"{self._prefix()}:task/{cluster}/{task_id}"

    def container_arn(self, cluster: str, task_id: str) -> str:
        return f"{self._prefix()}:container/{cluster}/{task_id}/{uuid.uuid4()}"

    def cluster_name(self, identifier: str | None) -> str:
        """The cluster named by a name or ARN (``default`` when absent)."""
        if not identifier:
            return DEFAULT_CLUSTER
        if identifier.startswith("arn:"):
            resource = identifier.split(":", 5)[-1]
            if not resource.startswith("cluster/"):
                raise errors.invalid(f"Invalid cluster ARN: {identifier}")
            return resource.removeprefix("cluster/")
        return identifier


def new_task_id() -> str:
    return uuid.uuid4().hex


def valid_name(name: str) -> bool:
    """Cluster names and families: up to 255 letters, numbers, underscores and hyphens."""
    return bool(_NAME.match(name))


def task_id_of(identifier: str) -> str:
    """The id of a task given by id or ARN (``.../task/CLUSTER/ID`` or ``.../task/ID``)."""
    if identifier.startswith("arn:"):
        return identifier.rsplit("/", 1)[-1]
    return identifier


def task_definition_parts(identifier: str) -> tuple[str, int | None]:
    """``family`` / ``family:revision`` / a full ARN → ``(family, revision or None)``."""
    text = identifier
    if identifier.startswith("arn:"):
        resource = identifier.split(":", 5)[-1]
        if not resource.startswith("task-definition/"):
            raise errors.client(f"Invalid task definition ARN: {identifier}")
        text = resource.removeprefix("task-definition/")
    family, sep, revision = text.partition(":")
    if not sep:
        return family, None
    if not revision.isdigit():
        raise errors.client(f"Invalid revision number. Number: {revision}")
    return family, int(revision)
