"""Plugging ECS into a server: the service over the state store, its supervisor as a worker.

``install_ecs(app, config, store, logs)`` is called by ``build_app`` with the store the Step
Functions install opened and the server's log store (container output goes there by the
``awslogs`` rules). Configuration it reads from ``config`` when present: ``runner`` (``--runner``:
``local`` | ``docker`` | ``ecs`` | ``auto``) and ``egress_profiles``; otherwise
``BATCHYARD_RUNNER`` and ``DATA_DIR/egress.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from batchyard.ecs import EcsService
from batchyard.ecs.backends import Backends, default_runner_kind, make_factory
from batchyard.ecs.egress import load_profiles
from batchyard.ecs.logsink import StoreSink
from batchyard.logs import LogStore
from batchyard.store import Store
from batchyard.store.owner import OwnerId

if TYPE_CHECKING:
    from batchyard.api.app import App, ServerConfig


def install_ecs(app: App, config: ServerConfig, store: Store, logs: LogStore | None) -> EcsService:
    """Serve ``ecs`` on ``app`` and run its task supervisor as a server worker."""
    from batchyard.api.app import ConfigError
    from batchyard.api.ecs import EcsApi

    try:
        profiles = load_profiles(config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    configured: str | None = getattr(config, "runner", None)
    if configured not in (None, "", "auto", "local", "docker", "ecs"):
        raise ConfigError(f"unknown runner {configured!r}: use local, docker, ecs or auto")
    state_root = config.data_dir / "runners"

    def options(kind: str) -> Mapping[str, Any]:
        return {"state_dir": str(state_root / kind)} if kind == "local" else {}

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
