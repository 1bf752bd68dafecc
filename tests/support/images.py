"""A local busybox image for tests that need a real Docker engine, and the skip rule for them.

There is no registry here, so the image is made the way the CI makes it: ``docker import`` of a
tarball holding Debian's static busybox (``busybox-static``) at ``/bin/busybox`` and a symlink
per applet (``/bin/sh``, ``/usr/bin/tail``, ...). ``busybox_image()`` builds it once; later
calls (other tests, other processes) find it by its tag and return at once.

``require_docker()`` skips a test when no engine answers, unless
``BATCHYARD_REQUIRE_SERVICES=1`` (CI), which turns that into a failure.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import threading
from functools import cache
from typing import Any

import pytest

BUSYBOX_IMAGE = "batchyard-test/busybox:latest"
BUSYBOX_BINARY = "/bin/busybox"

_build_lock = threading.Lock()


@cache
def _client() -> Any:
    import docker

    return docker.from_env(timeout=30)


def docker_available() -> bool:
    """Whether a Docker engine (``DOCKER_HOST`` or the default socket) answers a ping."""
    try:
        return bool(_client().ping())
    except Exception:
        _client.cache_clear()
        return False


def require_docker() -> None:
    """Skip the calling test without a Docker engine (fail under BATCHYARD_REQUIRE_SERVICES=1)."""
    if docker_available():
        return
    message = "no Docker engine answers (DOCKER_HOST or /var/run/docker.sock)"
    if os.environ.get("BATCHYARD_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} (BATCHYARD_REQUIRE_SERVICES=1 requires it)", pytrace=False)
    pytest.skip(message)


def _applets() -> list[str]:
    listing = subprocess.run(
        [BUSYBOX_BINARY, "--list-full"], check=True, capture_output=True, text=True
    ).stdout
    return [line.strip() for line in listing.splitlines() if line.strip()]


def _rootfs_tarball() -> bytes:
    """A root filesystem: /bin/busybox, one symlink per applet, /tmp, a root user."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory, mode in (("bin", 0o755), ("sbin", 0o755), ("usr", 0o755),
                                ("usr/bin", 0o755), ("usr/sbin", 0o755), ("etc", 0o755),
                                ("tmp", 0o1777), ("root", 0o700), ("work", 0o777)):  # fmt: skip
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = mode
            tar.addfile(info)
        tar.add(BUSYBOX_BINARY, arcname="bin/busybox")
        for path in _applets():
            if path == "bin/busybox":
                continue
            info = tarfile.TarInfo(path)
            info.type = tarfile.SYMTYPE
            info.linkname = "/bin/busybox"
            tar.addfile(info)
        for name, text in (("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
                           ("etc/group", "root:x:0:\n")):  # fmt: skip
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def busybox_image() -> str:
    """The tag of the local busybox image, built on first use (requires a Docker engine)."""
    import docker.errors

    client = _client()
    with _build_lock:
        try:
            client.images.get(BUSYBOX_IMAGE)
        except docker.errors.ImageNotFound:
            repository, tag = BUSYBOX_IMAGE.rsplit(":", 1)
            client.api.import_image_from_data(
                _rootfs_tarball(), repository=repository, tag=tag, changes=['CMD ["sh"]']
            )
            client.images.get(BUSYBOX_IMAGE)  # raises if the import did not produce it
    return BUSYBOX_IMAGE
