"""Egress profiles: how a task's traffic leaves, chosen by name.

A profile either routes through a forward proxy (batchyard injects ``HTTP_PROXY``,
``HTTPS_PROXY`` and ``NO_PROXY`` in both cases, since tools disagree on which they read) or
attaches the task to a Docker network (for example a bridge created with
``com.docker.network.host_ipv4`` = the fixed source address), or both. Profiles come from the
server configuration (``ServerConfig.egress_profiles``, when the server has that field) or from
``DATA_DIR/egress.json``; a task picks one with the tag ``batchyard:egress`` on its task
definition or on RunTask (RunTask's wins) and records it in the tag ``batchyard:egress-profile``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchyard.ecs import errors

log = logging.getLogger("batchyard.ecs")

SELECT_TAG = "batchyard:egress"
RECORD_TAG = "batchyard:egress-profile"
# Never proxied: loopback and the metadata/credential endpoints ECS tasks use.
DEFAULT_NO_PROXY = "localhost,127.0.0.1,::1,169.254.169.254,169.254.170.2"


@dataclass(frozen=True)
class EgressProfile:
    """``proxy``: URL for HTTP and HTTPS; ``docker_network``: TaskSpec.network_mode."""

    proxy: str | None = None
    https_proxy: str | None = None  # when HTTPS goes elsewhere; default: ``proxy``
    no_proxy: str = DEFAULT_NO_PROXY
    docker_network: str | None = None

    def environment(self) -> dict[str, str]:
        """The variables the profile injects into every container."""
        if self.proxy is None and self.https_proxy is None:
            return {}
        values = {
            "HTTP_PROXY": self.proxy or self.https_proxy or "",
            "HTTPS_PROXY": self.https_proxy or self.proxy or "",
            "NO_PROXY": self.no_proxy,
        }
        return {**values, **{k.lower(): v for k, v in values.items()}}


def parse_profiles(raw: Mapping[str, Any], source: str) -> dict[str, EgressProfile]:
    """Profiles from JSON-like data: ``{"name": {"proxy": ..., "docker_network": ...}}``."""
    known = set(EgressProfile.__dataclass_fields__)
    profiles: dict[str, EgressProfile] = {}
    for name, spec in raw.items():
        if isinstance(spec, EgressProfile):
            profiles[name] = spec
            continue
        if not isinstance(spec, Mapping):
            raise ValueError(f"{source}: egress profile {name!r} must be an object")
        unknown = set(spec) - known
        if unknown:
            raise ValueError(
                f"{source}: egress profile {name!r} has unknown settings {sorted(unknown)}; "
                f"known: {sorted(known)}"
            )
        profiles[name] = EgressProfile(**spec)
    return profiles


def load_profiles(config: object) -> dict[str, EgressProfile]:
    """Profiles of a server configuration: its ``egress_profiles`` plus ``egress.json``."""
    profiles: dict[str, EgressProfile] = {}
    data_dir = getattr(config, "data_dir", None)
    if data_dir is not None:
        path = Path(data_dir) / "egress.json"
        if path.exists():
            try:
                raw = json.loads(path.read_text())
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: not valid JSON ({exc})") from exc
            if not isinstance(raw, dict):
                raise ValueError(f"{path}: expected an object of named egress profiles")
            profiles.update(parse_profiles(raw, str(path)))
    configured = getattr(config, "egress_profiles", None)
    if configured:
        profiles.update(parse_profiles(configured, "egress_profiles"))
    return profiles


def choose(
    profiles: Mapping[str, EgressProfile],
    definition_tags: Mapping[str, str],
    run_tags: Mapping[str, str],
) -> tuple[str, EgressProfile] | None:
    """The profile a task uses, or ``None``; an unknown name is InvalidParameterException."""
    name = run_tags.get(SELECT_TAG) or definition_tags.get(SELECT_TAG)
    if not name:
        return None
    profile = profiles.get(name)
    if profile is None:
        known = ", ".join(sorted(profiles)) or "none configured"
        raise errors.invalid(f"Unknown egress profile '{name}' (tag {SELECT_TAG}); known: {known}.")
    return name, profile


class ProfileSource:
    """The profiles of a running server: ``egress.json`` is read again when it changes (so
    ``batchyard deploy`` can add profiles to a live server); a broken edit keeps the last good
    profiles and is logged."""

    def __init__(self, config: object) -> None:
        self._config = config
        data_dir = getattr(config, "data_dir", None)
        self._path = Path(data_dir) / "egress.json" if data_dir is not None else None
        self._stamp = self._mtime()
        self._profiles = load_profiles(config)  # raises at start-up: a clear ConfigError
        self._lock = threading.Lock()

    def _mtime(self) -> float | None:
        if self._path is None or not self._path.exists():
            return None
        return self._path.stat().st_mtime

    def __call__(self) -> dict[str, EgressProfile]:
        stamp = self._mtime()
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    self._profiles = load_profiles(self._config)
                except ValueError:
                    log.exception("egress profiles not reloaded; the previous ones stay")
            return dict(self._profiles)
