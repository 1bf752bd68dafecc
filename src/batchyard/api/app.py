"""The server's ASGI application: services, authentication, metrics and workers.

``App`` is the seam the rest of batchyard plugs into: ``add_service`` a ``Service`` (see
``service.py``), ``add_worker`` anything with ``start()``/``stop()`` (engine workers, the
scheduler, log retention) -- workers start with the server's lifespan and stop, in reverse
order, when it ends. ``asgi()`` builds the Starlette application; every AWS request goes
through ``_handle``, which is the single place where errors become AWS's error shape.
"""

from __future__ import annotations

import inspect
import ipaddress
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.routing import Route as StarletteRoute

from batchyard.api import protocol, shapes, sigv4
from batchyard.api.errors import AwsError, internal_failure, not_implemented
from batchyard.api.service import RequestContext, Service

log = logging.getLogger("batchyard.api")

DEFAULT_CREDENTIALS = {"test": "test"}


class ConfigError(Exception):
    """The server cannot start with this configuration (the message says why)."""


class Worker(Protocol):
    """A background component whose life is the server's."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 4600
    data_dir: Path = Path(".batchyard")
    store_url: str | None = None
    region: str = "us-east-1"
    account_id: str = "123456789012"
    # access key id -> secret; None means "the default test/test, on loopback only".
    credentials: dict[str, str] | None = None
    # Refuse handler output with members the model lacks (tests turn this on).
    strict_output: bool = False
    # Where ECS tasks run unless a cluster's batchyard:runner tag says otherwise: "local",
    # "docker", "ecs", or None/"auto" (BATCHYARD_RUNNER, else docker when an engine answers).
    runner: str | None = None

    def resolved_credentials(self) -> dict[str, str]:
        if self.credentials:
            return dict(self.credentials)
        if is_loopback(self.host):
            return dict(DEFAULT_CREDENTIALS)
        raise ConfigError(
            f"Refusing to listen on {self.host} with the default credentials test/test: "
            "configure credentials (--access-key-id/--secret-access-key or "
            "BATCHYARD_ACCESS_KEY_ID/BATCHYARD_SECRET_ACCESS_KEY) to bind a non-loopback address."
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class _Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "batchyard_api_requests",
            "AWS API requests by service, operation and HTTP status.",
            ["service", "operation", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "batchyard_api_request_seconds",
            "AWS API request latency by service and operation.",
            ["service", "operation"],
            registry=self.registry,
        )


class App:
    """The batchyard server: AWS services on one HTTP endpoint, plus background workers."""

    def __init__(self, config: ServerConfig | None = None) -> None:
        self.config = config or ServerConfig()
        self.credentials = self.config.resolved_credentials()
        self.services: dict[str, Service] = {}
        self.router = protocol.Router()
        self.workers: list[Worker] = []
        # Non-AWS routes (the web console), matched before the AWS catch-all.
        self.routes: list[BaseRoute] = []
        self._closers: list[Callable[[], None]] = []
        # Set as soon as the server is asked to stop, before open requests are drained, so
        # that long polls (GetActivityTask) answer at once instead of holding the shutdown.
        self.stopping = threading.Event()
        self.metrics = _Metrics()

    def add_service(self, service: Service) -> None:
        self.services[service.name] = service
        self.router.add(service)

    def add_routes(self, routes: list[BaseRoute]) -> None:
        """Serve ``routes`` ahead of the AWS dispatcher (explicit paths and methods only)."""
        self.routes.extend(routes)

    def add_worker(self, worker: Worker) -> None:
        self.workers.append(worker)

    def on_shutdown(self, closer: Callable[[], None]) -> None:
        """Run ``closer`` when the server stops (after the workers have stopped)."""
        self._closers.append(closer)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        for worker in self.workers:
            log.info("starting %s", type(worker).__name__)
            worker.start()

    def stop(self) -> None:
        for worker in reversed(self.workers):
            log.info("stopping %s", type(worker).__name__)
            try:
                worker.stop()
            except Exception:
                log.exception("stopping %s failed", type(worker).__name__)
        self.close()

    def close(self) -> None:
        """Run the shutdown steps (also alone, when building the app failed half-way)."""
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception:
                log.exception("shutdown step failed")
        self._closers.clear()

    @asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(self.start)
        try:
            yield
        finally:
            await run_in_threadpool(self.stop)

    def asgi(self) -> Starlette:
        return Starlette(
            routes=[
                StarletteRoute("/healthz", self._healthz, methods=["GET"]),
                StarletteRoute("/metrics", self._metrics, methods=["GET"]),
                *self.routes,
                StarletteRoute(
                    "/{path:path}",
                    self._handle,
                    methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"],
                ),
            ],
            lifespan=self._lifespan,
        )

    async def _healthz(self, _: Request) -> Response:
        return JSONResponse({"status": "ok", "services": sorted(self.services)})

    async def _metrics(self, _: Request) -> Response:
        return Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    # ------------------------------------------------------------------ requests

    async def _handle(self, request: Request) -> Response:
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        incoming = protocol.Incoming(
            method=request.method,
            raw_path=request.scope.get("raw_path", b"/").decode("latin-1").split("?")[0] or "/",
            raw_query=request.scope.get("query_string", b"").decode("latin-1"),
            headers={
                k.decode("latin-1").lower(): v.decode("latin-1")
                for k, v in request.scope["headers"]
            },
            body=await request.body(),
        )
        target = incoming.headers.get("x-amz-target")
        service: Service | None = self.router.service_for_target(target)
        operation = target.rpartition(".")[2] if service is not None and target else "-"
        try:
            try:
                identity = self._authenticate(request, incoming)
            except AwsError as auth_error:
                if target is None:
                    # rest-json services (Lambda, Scheduler) answer authentication failures
                    # with 403, JSON-protocol services with 400.
                    auth_error.status = 403
                raise
            route = self.router.route(incoming, identity.service)
            service, operation = route.service, route.operation
            reply = await self._call(route, incoming, request_id, identity)
        except Exception as exc:  # the one place every failure becomes AWS's error shape
            error = service.to_aws_error(exc) if service is not None else None
            if error is None:
                error = exc if isinstance(exc, AwsError) else None
            if error is None:
                log.exception("%s %s failed (request %s)", request.method, operation, request_id)
                error = internal_failure()
            reply = protocol.error_reply(service, error, request_id)
        reply.headers.setdefault("x-amzn-RequestId", request_id)
        service_name = service.name if service is not None else "-"
        elapsed = time.perf_counter() - started
        self.metrics.requests.labels(service_name, operation, str(reply.status)).inc()
        self.metrics.latency.labels(service_name, operation).observe(elapsed)
        log.debug("%s %s.%s -> %d in %.1f ms", request.method, service_name, operation,
                  reply.status, elapsed * 1000)  # fmt: skip
        return Response(reply.body, status_code=reply.status, headers=reply.headers)

    def _authenticate(self, request: Request, incoming: protocol.Incoming) -> sigv4.Identity:
        host = incoming.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
        signed = sigv4.SignedRequest(
            method=incoming.method,
            host_url=f"{request.url.scheme}://{host}",
            raw_path=incoming.raw_path,
            raw_query=incoming.raw_query,
            headers=list(incoming.headers.items()),
            body=incoming.body,
        )
        return sigv4.verify(signed, self.credentials)

    async def _call(
        self,
        route: protocol.Route,
        incoming: protocol.Incoming,
        request_id: str,
        identity: sigv4.Identity,
    ) -> protocol.Reply:
        service, operation = route.service, route.operation
        handler = service.handlers.get(operation)
        if handler is None:
            raise not_implemented(operation, service.full_name)
        op = service.operation(operation)
        raw = protocol.read_input(route, incoming)
        shapes.validate(op.input_shape, raw, service.validation_error, service.relaxed)
        params = shapes.parse(op.input_shape, raw)
        context = RequestContext(
            service=service.name,
            operation=operation,
            request_id=request_id,
            region=self.config.region,
            account_id=self.config.account_id,
            access_key=identity.access_key,
            headers=incoming.headers,
        )
        if inspect.iscoroutinefunction(handler):
            output = await handler(params, context)
        else:
            output = await run_in_threadpool(handler, params, context)
        try:
            return protocol.reply(route, output, strict=self.config.strict_output)
        except shapes.OutputError:
            log.exception("%s.%s returned output outside its model", service.name, operation)
            raise
