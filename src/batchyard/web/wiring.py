"""Plugging the console into a server ``App`` (see the package docstring)."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from batchyard.api.app import App, is_loopback
from batchyard.api.stepfunctions.common import Backend
from batchyard.logs import LogStore
from batchyard.web import components, executions, insights, overview
from batchyard.web.auth import Sessions
from batchyard.web.context import Console, Invocations
from batchyard.web.inproc import InProcess
from batchyard.web.pages import Guard, page_routes

STATIC = Path(__file__).parent / "static"


def install(
    app: App,
    *,
    stepfunctions: Backend | None = None,
    logs: LogStore | None = None,
    functions: Invocations | None = None,
) -> Console:
    """Serve the console from ``app`` (call after every service is added)."""
    console = Console(
        app=app,
        aws=InProcess(app),
        sessions=Sessions(app.credentials, required=not is_loopback(app.config.host)),
        stepfunctions=stepfunctions,
        logs=logs,
        functions=functions,
    )
    guard = Guard(console)
    endpoints = [
        *executions.routes(console),
        *insights.routes(console, stepfunctions.store if stepfunctions else None),
        *components.routes(console),
        *overview.routes(console),
    ]
    api: list[BaseRoute] = [
        Route(path, guard.api(endpoint), methods=[method]) for path, endpoint, method in endpoints
    ]
    app.add_routes(
        [
            *page_routes(console, guard),
            *api,
            Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        ]
    )
    return console
