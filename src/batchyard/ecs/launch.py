"""From a task record to the runner's ``TaskSpec``: overrides, secrets, logs, egress.

Secrets: AWS resolves ``secrets[].valueFrom`` from Secrets Manager or SSM; batchyard has neither,
so it reads ``file:///absolute/path`` (the file's text, one trailing newline dropped) or
``env:NAME`` (a variable of the server's own environment). Anything else, or a secret that cannot
be read, fails the start as ECS does: ``TaskFailedToStart`` with a ``ResourceInitializationError``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from batchyard.ecs.egress import EgressProfile
from batchyard.runners.base import AwsLogs, ContainerSpec, StartFailure, TaskSpec

SECRETS_FAILED = (
    "ResourceInitializationError: unable to pull secrets or registry auth: "
    "execution resource retrieval failed: unable to retrieve secret from {source}: {why}"
)


def resolve_secret(value_from: str) -> str:
    if value_from.startswith("file://"):
        path = Path(value_from.removeprefix("file://"))
        try:
            return path.read_text().removesuffix("\n")
        except OSError as exc:
            raise StartFailure(
                SECRETS_FAILED.format(source=value_from, why=exc.strerror or exc)
            ) from exc
    if value_from.startswith("env:"):
        name = value_from.removeprefix("env:")
        if name not in os.environ:
            raise StartFailure(
                SECRETS_FAILED.format(
                    source=value_from, why=f"the server has no environment variable {name}"
                )
            )
        return os.environ[name]
    raise StartFailure(
        SECRETS_FAILED.format(
            source=value_from, why="batchyard resolves only file:///PATH and env:NAME secrets"
        )
    )


def _pairs(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {i["name"]: i.get("value", "") for i in items or [] if "name" in i}


def _awslogs(container: dict[str, Any]) -> AwsLogs | None:
    logging = container.get("logConfiguration") or {}
    if logging.get("logDriver") != "awslogs":
        return None
    options = logging.get("options") or {}
    return AwsLogs(
        group=options["awslogs-group"],
        stream_prefix=options.get("awslogs-stream-prefix"),
        create_group=str(options.get("awslogs-create-group", "")).lower() == "true",
    )


def task_spec(
    *,
    task: dict[str, Any],
    task_id: str,
    definition: dict[str, Any],
    egress: EgressProfile | None,
) -> TaskSpec:
    """The runner's view of a task; raises ``StartFailure`` if a secret cannot be resolved."""
    overrides = {o.get("name"): o for o in task.get("overrides", {}).get("containerOverrides", [])}
    egress_env = egress.environment() if egress is not None else {}
    containers = []
    for spec in definition["containerDefinitions"]:
        override = overrides.get(spec["name"], {})
        environment = _pairs(spec.get("environment"))
        environment.update(_pairs(override.get("environment")))
        for secret in spec.get("secrets") or []:
            environment[secret["name"]] = resolve_secret(secret["valueFrom"])
        environment.update(egress_env)  # the platform's egress policy wins
        command = override.get("command") or spec.get("command") or []
        containers.append(
            ContainerSpec(
                name=spec["name"],
                image=spec["image"],
                command=list(command),
                entry_point=list(spec.get("entryPoint") or []),
                environment=environment,
                working_directory=spec.get("workingDirectory"),
                cpu=override.get("cpu", spec.get("cpu")) or None,
                memory_mib=override.get("memory", spec.get("memory")),
                essential=spec.get("essential", True),
                logs=_awslogs(spec),
            )
        )
    return TaskSpec(
        task_arn=task["taskArn"],
        task_id=task_id,
        cluster_arn=task["clusterArn"],
        task_definition_arn=task["taskDefinitionArn"],
        containers=containers,
        cpu=_units(task.get("cpu")),
        memory_mib=_units(task.get("memory")),
        network_mode=egress.docker_network if egress is not None else None,
    )


def _units(value: str | None) -> int | None:
    """Task-level ``cpu``/``memory`` strings: ``"256"``, or ``"1 vCPU"``/``"2 GB"`` forms."""
    if not value:
        return None
    text = value.strip().lower()
    if text.isdigit():
        return int(text)
    number, _, unit = text.partition(" ")
    try:
        amount = float(number)
    except ValueError:
        return None
    return int(amount * 1024) if unit in ("vcpu", "gb") else None
