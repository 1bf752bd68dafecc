"""Egress profiles of a project, written where the server reads them.

Egress profiles are server configuration, not an AWS resource: the server reads them from
its configuration and from ``DATA_DIR/egress.json`` (see ``batchyard.ecs.egress``; a running
server reads the file again when it changes), and no API lists or changes them. So deploy
writes them into that file when it is told where the server's data directory is
(``--server-data-dir``, for a server on this machine); otherwise it lists the profiles the
server must have, and ``RegisterTaskDefinition`` refuses a task definition whose
``batchyard:egress`` tag names a profile the server lacks -- the deploy stops there, with the
server's message naming the profiles it knows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from batchyard.deploy.changes import Action, Change

EGRESS_FILE = "egress.json"


def egress_changes(profiles: dict[str, dict[str, str]], data_dir: Path | None) -> Iterator[Change]:
    """Changes to ``DATA_DIR/egress.json`` for the declared profiles (never deletes others)."""
    if not profiles:
        return
    if data_dir is None:
        for name, spec in profiles.items():
            yield Change(
                "unchanged",
                "egress profile",
                name,
                [
                    f"not checked: the server must define it ({_describe(spec)}) in its "
                    f"{EGRESS_FILE}; pass --server-data-dir to write it"
                ],
            )
        return
    path = data_dir / EGRESS_FILE
    current = _read(path)
    for name, spec in profiles.items():
        have = current.get(name)
        if have == spec:
            yield Change("unchanged", "egress profile", name)
            continue
        action: Action = "create" if have is None else "update"
        yield Change(
            action,
            "egress profile",
            name,
            [_describe(spec), f"into {path}"],
            run=partial(_write, path, name, spec),
        )


def _describe(spec: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in spec.items())


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, name: str, spec: dict[str, str]) -> None:
    data = _read(path)
    data[name] = spec
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(path)
