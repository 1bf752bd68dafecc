"""make_runner: a runner from configuration; bad configuration is a clear ValueError."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchyard.runners import RUNNERS, make_runner
from batchyard.runners.local import LocalRunner


def test_kinds() -> None:
    assert sorted(RUNNERS) == ["docker", "ecs", "local"]


def test_local_with_options(tmp_path: Path) -> None:
    runner = make_runner("local", {"state_dir": str(tmp_path), "stop_grace_seconds": 2})
    assert isinstance(runner, LocalRunner)
    assert runner.name == "local" and runner.stop_grace_seconds == 2


def test_unknown_kind_and_option() -> None:
    with pytest.raises(
        ValueError, match="unknown runner 'kubernetes'; choose one of: docker, ecs, local"
    ):
        make_runner("kubernetes", {})
    with pytest.raises(ValueError, match="unknown option\\(s\\) colour for the local runner"):
        make_runner("local", {"colour": "blue"})
