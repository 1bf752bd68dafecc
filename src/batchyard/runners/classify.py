"""ECS's start-failure reasons: the exact texts, how to build them, how to recognise them.

A task that cannot start stops with ``stopCode: TaskFailedToStart`` and a ``stoppedReason``
whose prefix (before the first ``:``) names the class of failure. The texts below are the
examples of Amazon ECS's "Stopped tasks error codes" page (Fargate, platform version 1.4.0+)
and of stopped tasks reported by users, verbatim; runners build their own reasons with the
same prefixes and shapes (``cannot_pull``, ``cannot_start``), and the ECS service injects
start failures for tests with :func:`injected_reason`, so a retry flow sees what AWS sends.

Classify by prefix, never by the whole text: the part after the prefix varies with the
platform version, and ECS truncates long reasons.
"""

from __future__ import annotations

from dataclasses import dataclass

# Prefixes documented on "Stopped tasks error codes" (and the platform-1.3 spelling of one).
CONTAINER_RUNTIME_TIMEOUT = "ContainerRuntimeTimeoutError"
DOCKER_TIMEOUT = "DockerTimeoutError"  # platform version 1.3.0 or earlier
CANNOT_START = "CannotStartContainerError"
CANNOT_STOP = "CannotStopContainerError"
CANNOT_INSPECT = "CannotInspectContainerError"
RESOURCE_INITIALIZATION = "ResourceInitializationError"
CANNOT_PULL = "CannotPullContainerError"
CANNOT_CREATE_VOLUME = "CannotCreateVolumeError"
OUT_OF_MEMORY = "OutOfMemoryError"

# Reasons without a prefix: whole sentences, matched exactly.
ENI_TIMEOUT = "Timeout waiting for network interface provisioning to complete."
EPHEMERAL_STORAGE_TIMEOUT = "Timeout waiting for EphemeralStorage provisioning to complete."

# A container killed by the kernel's OOM killer (``containers[].reason``, exit code 137).
OUT_OF_MEMORY_REASON = "OutOfMemoryError: Container killed due to memory usage"
# StopTask without a reason.
STOPPED_BY_USER = "Task stopped by user"
ESSENTIAL_CONTAINER_EXITED = "Essential container in task exited"


@dataclass(frozen=True)
class Classification:
    """What a ``stoppedReason`` says: its error class and whether trying again may help."""

    error_class: str  # the prefix, or the sentence for reasons without one; "Unknown" otherwise
    transient: bool  # infrastructure hiccup that a new launch may not meet again


# Error class -> whether a retry may succeed (reference 5.3): infrastructure timeouts and
# resource bootstrapping are transient; a missing image or a bad entry point is not.
_TRANSIENT: dict[str, bool] = {
    CONTAINER_RUNTIME_TIMEOUT: True,
    DOCKER_TIMEOUT: True,
    CANNOT_INSPECT: True,
    RESOURCE_INITIALIZATION: True,
    ENI_TIMEOUT: True,
    EPHEMERAL_STORAGE_TIMEOUT: True,
    CANNOT_CREATE_VOLUME: True,
    CANNOT_START: False,
    CANNOT_STOP: False,
    CANNOT_PULL: False,
    OUT_OF_MEMORY: False,
}

# Canonical reasons, in the order injected start failures cycle through them: the failures
# the team behind batchyard met on Fargate first, then the rest of the documented examples.
INJECTED_REASONS: tuple[str, ...] = (
    "ResourceInitializationError: failed to configure ENI: failed to setup regular eni: "
    "netplugin failed with no error message",
    ENI_TIMEOUT,
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: unable to retrieve secrets from ssm: service call has been retried 5 "
    "time(s): RequestCanceled: request context canceled caused by: context deadline exceeded",
    "ContainerRuntimeTimeoutError: Could not transition to running; timed out after waiting "
    "1m: context deadline exceeded",
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
    'resolve ref "docker.io/library/busybox:latest": failed to do request: Head '
    '"https://registry-1.docker.io/v2/library/busybox/manifests/latest": dial tcp '
    "54.236.113.205:443: i/o timeout",
    "CannotStartContainerError: failed to get container status: context deadline exceeded",
    "CannotInspectContainerError: context deadline exceeded",
    EPHEMERAL_STORAGE_TIMEOUT,
)


def injected_reason(n: int) -> str:
    """The reason for the ``n``-th injected start failure (0-based), cycling deterministically."""
    return INJECTED_REASONS[n % len(INJECTED_REASONS)]


def classify(reason: str | None) -> Classification:
    """The error class of a ``stoppedReason`` (or container ``reason``)."""
    if not reason:
        return Classification("Unknown", False)
    text = reason.strip()
    if text in _TRANSIENT:  # the whole sentences
        return Classification(text, _TRANSIENT[text])
    prefix = text.split(":", 1)[0].strip()
    if prefix in _TRANSIENT:
        return Classification(prefix, _TRANSIENT[prefix])
    return Classification("Unknown", False)


def docker_reference(image: str) -> str:
    """An image name as containerd spells it in errors: ``busybox`` ->
    ``docker.io/library/busybox:latest``."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and not digest:
        name += ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    return f"{name}@{digest}" if digest else name


def cannot_pull_not_found(image: str) -> str:
    """The reason Fargate gives for an image that does not exist in its registry."""
    ref = docker_reference(image)
    return (
        f"{CANNOT_PULL}: pull image manifest has been retried 5 time(s): "
        f"failed to resolve ref {ref}: {ref}: not found"
    )


def cannot_pull(detail: str) -> str:
    """A pull that failed for another reason, with the engine's own message."""
    return f"{CANNOT_PULL}: {detail}"


def executable_not_found(executable: str) -> str:
    """The reason for an entry point or command that does not exist (runc's wording)."""
    return cannot_start(
        "Error response from daemon: failed to create shim task: OCI runtime create failed: "
        "runc create failed: unable to start container process: "
        f'exec: "{executable}": executable file not found in $PATH: unknown'
    )


def cannot_start(detail: str) -> str:
    return f"{CANNOT_START}: {detail}"


def missing_log_group(group: str) -> str:
    """The reason for an ``awslogs-group`` that does not exist (and ``awslogs-create-group``
    is not ``true``)."""
    del group  # AWS does not name the group in this message
    return (
        f"{RESOURCE_INITIALIZATION}: failed to validate logger args: create stream has been "
        "retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: "
        "The specified log group does not exist. : exit status 1"
    )
