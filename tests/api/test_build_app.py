"""Building the server: a configuration error leaves nothing open behind it."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchyard.api import ConfigError, ServerConfig
from batchyard.api.server import build_app
from batchyard.store.owner import OwnerId


def test_a_refused_configuration_releases_what_was_opened(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown runner 'bogus'"):
        build_app(ServerConfig(data_dir=tmp_path, runner="bogus"))
    # The engine's owner lock was taken before the ECS service refused the runner: released.
    owner = OwnerId.acquire(tmp_path)
    assert owner.stable
    owner.release()
    # And the same data directory serves a good configuration at once.
    app = build_app(ServerConfig(data_dir=tmp_path, runner="local"))
    app.close()
