"""tests/support/images.py: the busybox image is built once; the Docker skip rule."""

from __future__ import annotations

import pytest

from tests.support import images


def test_busybox_image_is_built_once_and_runs_busybox() -> None:
    images.require_docker()
    import docker

    tag = images.busybox_image()
    client = docker.from_env(version="auto")
    try:
        first = client.images.get(tag).id
        assert images.busybox_image() == tag
        assert client.images.get(tag).id == first  # not rebuilt
        output = client.containers.run(
            tag, ["sh", "-c", "echo $((6 * 7))"], network_mode="none", remove=True
        )
    finally:
        client.close()
    assert output == b"42\n"


def test_require_docker_skips_or_fails_under_the_services_flag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(images, "docker_available", lambda: False)
    monkeypatch.delenv("BATCHYARD_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception):
        images.require_docker()
    monkeypatch.setenv("BATCHYARD_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="BATCHYARD_REQUIRE_SERVICES=1 requires it"):
        images.require_docker()
