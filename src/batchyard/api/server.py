"""``batchyard server`` assembled: the log store, the API services, uvicorn.

``build_app`` wires the components of one server process under its data directory
(``logs.duckdb``; ``state.db`` unless ``--store`` points elsewhere); ``serve`` runs it with
uvicorn, which turns SIGTERM/SIGINT into a graceful shutdown: requests drain, the workers stop, and the
log store flushes its journal and closes.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import uvicorn

from batchyard.api.app import App, ServerConfig
from batchyard.api.ecs import install_ecs
from batchyard.api.lambda_ import install_functions
from batchyard.api.logs import LogsApi
from batchyard.api.scheduler import install as install_scheduler
from batchyard.api.stepfunctions.wiring import connect_ecs
from batchyard.api.stepfunctions.wiring import install as install_stepfunctions
from batchyard.logs import LogStore

log = logging.getLogger("batchyard.server")

RETENTION_INTERVAL_S = 3600.0


class RetentionWorker:
    """Deletes events past their group's retention, hourly (and once at start)."""

    def __init__(self, store: LogStore, interval_s: float = RETENTION_INTERVAL_S) -> None:
        self._store = store
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="log-retention", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                deleted = self._store.expire()
                if deleted:
                    log.info("retention: deleted %d expired log events", deleted)
            except Exception:
                log.exception("retention pass failed")
            self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def build_app(config: ServerConfig) -> App:
    """The server's ``App``: every service and worker, data under ``config.data_dir``."""
    app = App(config)  # checks the credentials before anything is created on disk
    try:
        _install(app, config)
    except BaseException:
        app.close()  # a half-built server must not keep its stores open or its locks held
        raise
    return app


def _install(app: App, config: ServerConfig) -> None:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = LogStore(
        str(config.data_dir / "logs.duckdb"),
        account_id=config.account_id,
        region=config.region,
    )
    app.on_shutdown(store.close)
    logs = LogsApi(store, tags_path=config.data_dir / "logs-tags.json")
    app.add_service(logs.service())
    app.add_worker(logs.queries)
    app.add_worker(RetentionWorker(store))
    # Step Functions: state store (state.db or --store), engine workers, the API.
    backend = install_stepfunctions(app, config, logs=store)
    # Lambda: functions in the state store, run in warm workers; the engine's Lambda tasks.
    functions = install_functions(app, config, backend.store, store, engine=backend.engine)
    # ECS: clusters, task definitions, tasks run by the supervisor on the cluster's runner.
    ecs = install_ecs(app, config, backend.store, store)
    connect_ecs(backend, ecs)
    # EventBridge Scheduler: schedules and slots in the state store, delivered to the engine.
    install_scheduler(app, config, backend, ecs=ecs, functions=functions)
    # The web console, last: it shows whatever the server installed above.
    from batchyard.web.wiring import install as install_console  # web imports api: no cycle

    install_console(app, stepfunctions=backend, logs=store, functions=functions)


class _Server(uvicorn.Server):
    """uvicorn's server, telling the app the moment a stop signal arrives.

    uvicorn drains open requests before the app's lifespan ends; long polls must learn of the
    stop first, or SIGTERM would wait for them (up to a minute for GetActivityTask).
    """

    def __init__(self, config: uvicorn.Config, app: App) -> None:
        super().__init__(config)
        self._app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._app.stopping.set()
        super().handle_exit(sig, frame)


def serve(config: ServerConfig, *, log_level: str = "info") -> None:
    """Run the server in the foreground until SIGTERM or SIGINT."""
    app = build_app(config)
    log.info(
        "batchyard server on http://%s:%d (region %s, account %s, data in %s)",
        config.host, config.port, config.region, config.account_id, config.data_dir,
    )  # fmt: skip
    # uvicorn re-raises the stop signal once it has shut down; a no-op handler lets the
    # process then exit normally (status 0) instead of dying of the signal.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    _Server(
        uvicorn.Config(
            app.asgi(),
            host=config.host,
            port=config.port,
            log_level=log_level,
            access_log=False,
            lifespan="on",
        ),
        app,
    ).run()
    log.info("batchyard server stopped")
