"""Plugging ECS into a server: the service over the state store, its supervisor as a worker.

``install_ecs(app, config, store, logs)`` is called by ``build_app`` with the store the Step
Functions install opened and the server's log store (container output goes there by the
``awslogs`` rules). Configuration it reads from ``config`` when present: ``runner`` (``--runner``:
``local`` | ``docker`` | ``ecs`` | ``auto``) and ``egress_profiles``; otherwise
``BATCHYARD_RUNNER`` and ``DATA_DIR/egress.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from batchyard.ecs import EcsService
from batchyard.ecs.backends import Backends, default_runner_kind, make_factory
from batchyard.ecs.egress import ProfileSource
from batchyard.ecs.logsink import StoreSink
from batchyard.logs import LogStore
from batchyard.store import Store
from batchyard.store.owner import OwnerId

if TYPE_CHECKING:
    from batchyard.api.app import App, ServerConfig


def runner_options(config: ServerConfig) -> dict[str, dict[str, Any]]:
    """Per-runner options (``make_runner(kind, options)``): ``ServerConfig.runner_options`` when
    the server has that field, else ``DATA_DIR/runners.json`` (``{"ecs": {"region": ...,
    "subnets": [...]}, "docker": {...}}``)."""
    configured = getattr(config, "runner_options", None)
    if configured:
        return {str(k): dict(v) for k, v in configured.items()}
    path = config.data_dir / "runners.json"
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ValueError(f"{path}: expected an object of runner kinds to option objects")
    return raw


def install_ecs(app: App, config: ServerConfig, store: Store, logs: LogStore | None) -> EcsService:
    """Serve ``ecs`` on ``app`` and run its task supervisor as a server worker."""
    from batchyard.api.app import ConfigError
    from batchyard.api.ecs import EcsApi

    try:
        profiles = ProfileSource(config)
        runner_options(config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    configured: str | None = getattr(config, "runner", None)
    if configured not in (None, "", "auto", "local", "docker", "ecs"):
        raise ConfigError(f"unknown runner {configured!r}: use local, docker, ecs or auto")
    state_root = config.data_dir / "runners"

    configured_options = runner_options(config)

    def options(kind: str) -> Mapping[str, Any]:
        # Every runner keeps its re-attach state (pid files, exits, log-forwarding progress)
        # under the data directory, so that it survives a restart.
        defaults = {"state_dir": str(state_root / kind)}
        return {**defaults, **configured_options.get(kind, {})}

    backends = Backends(make_factory(options), lambda: default_runner_kind(configured))
    owner = OwnerId.acquire(config.data_dir / "ecs", prefix="ecs")
    app.on_shutdown(owner.release)
    service = EcsService(
        store,
        backends,
        region=config.region,
        account=config.account_id,
        logs=StoreSink(logs) if logs is not None else None,
        egress_profiles=profiles,
        owner=owner.value,
        reclaim_own_leases=owner.stable,
    )
    app.add_worker(service.supervisor)
    app.on_shutdown(service.close)
    app.add_service(EcsApi(service).service())
    return service
