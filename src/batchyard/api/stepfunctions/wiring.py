"""Plugging the Step Functions API into a server: state store, engine, service, worker."""

from __future__ import annotations

from batchyard.api.app import App, ServerConfig
from batchyard.api.stepfunctions import StepFunctionsApi
from batchyard.api.stepfunctions.common import Backend
from batchyard.engine import Engine
from batchyard.engine.ecs_tasks import EcsTasks, attach
from batchyard.logs import LogStore
from batchyard.store import open_store
from batchyard.store.owner import OwnerId


def state_url(config: ServerConfig) -> str:
    return config.store_url or f"sqlite:///{config.data_dir / 'state.db'}"


def install(app: App, config: ServerConfig, logs: LogStore | None = None) -> Backend:
    """Open the state store, run the engine as a server worker, serve ``stepfunctions``."""
    store = open_store(state_url(config))
    app.on_shutdown(store.close)
    owner = OwnerId.acquire(config.data_dir)
    app.on_shutdown(owner.release)
    engine = Engine(
        store,
        logs=logs,
        region=config.region,
        account=config.account_id,
        owner=owner.value,
        reclaim_own_leases=owner.stable,
    )
    backend = Backend(
        store,
        region=config.region,
        account=config.account_id,
        engine=engine,
        logs=logs,
        stopping=app.stopping,
    )
    app.add_worker(engine)
    app.add_service(StepFunctionsApi(backend).service())
    return backend


def connect_ecs(backend: Backend, ecs: EcsTasks) -> None:
    """Let state machines run ECS tasks (``ecs:runTask``, ``.sync``, ``.waitForTaskToken``)
    on ``ecs``, which tells the engine when a ``.sync`` task stops."""
    attach(backend.require_engine().core, ecs)
