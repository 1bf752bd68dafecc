"""ECS start-failure texts and their classification."""

from __future__ import annotations

from batchyard.runners import classify


def test_injected_reasons_cycle_deterministically_with_documented_prefixes() -> None:
    reasons = [classify.injected_reason(n) for n in range(2 * len(classify.INJECTED_REASONS))]
    assert reasons[: len(classify.INJECTED_REASONS)] == list(classify.INJECTED_REASONS)
    assert reasons[len(classify.INJECTED_REASONS) :] == list(classify.INJECTED_REASONS)
    assert reasons[0].startswith("ResourceInitializationError: ")
    assert reasons[1] == "Timeout waiting for network interface provisioning to complete."
    for reason in classify.INJECTED_REASONS:
        assert classify.classify(reason).error_class != "Unknown", reason


def test_classification_by_prefix() -> None:
    assert classify.classify(
        "CannotPullContainerError: ref pull has been retried 5 time(s): failed to resolve"
    ) == classify.Classification("CannotPullContainerError", False)
    assert classify.classify(
        "ResourceInitializationError: failed to configure ENI: context deadline exceeded"
    ) == classify.Classification("ResourceInitializationError", True)
    assert classify.classify(classify.ENI_TIMEOUT).transient
    assert classify.classify("Essential container in task exited").error_class == "Unknown"
    assert classify.classify(None).error_class == "Unknown"


def test_docker_references_as_containerd_spells_them() -> None:
    assert classify.docker_reference("busybox") == "docker.io/library/busybox:latest"
    assert classify.docker_reference("org/app:1") == "docker.io/org/app:1"
    assert (
        classify.docker_reference("123.dkr.ecr.us-east-1.amazonaws.com/app:v2")
        == "123.dkr.ecr.us-east-1.amazonaws.com/app:v2"
    )
    assert classify.docker_reference("localhost:5000/app") == "localhost:5000/app:latest"


def test_texts() -> None:
    assert classify.cannot_pull_not_found("nope:1") == (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
        "failed to resolve ref docker.io/library/nope:1: docker.io/library/nope:1: not found"
    )
    assert classify.OUT_OF_MEMORY_REASON == "OutOfMemoryError: Container killed due to memory usage"
    assert classify.executable_not_found("x").startswith("CannotStartContainerError: ")
