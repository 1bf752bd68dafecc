"""The Lambda API (rest-json, ``2015-03-31``) of the batchyard server, over ``batchyard.functions``.

Each handler maps the request onto one :class:`~batchyard.functions.FunctionService` call; the
service already speaks Lambda's shapes and texts. Errors are answered as Lambda answers them:
``{"Type": "User", "Message": ...}`` with ``x-amzn-ErrorType`` and the status of the model's
error shape.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from batchyard.api.app import App, ServerConfig
from batchyard.api.errors import AwsError
from batchyard.api.service import Handler, RequestContext, Service
from batchyard.functions import FunctionService, LambdaError
from batchyard.functions.logship import LogSink
from batchyard.store import Store

Params = dict[str, Any]


def _error(exc: LambdaError) -> AwsError:
    return AwsError(exc.code, exc.message, fields={"Type": "User"})


class LambdaApi:
    """Handlers of the Lambda operations batchyard serves."""

    def __init__(self, functions: FunctionService) -> None:
        self.functions = functions

    def service(self) -> Service:
        service = Service(
            "lambda",
            # A runtime outside the model's list is answered by the service with Lambda's own
            # text; a runtime inside it that batchyard does not run (nodejs...) likewise.
            relaxed={("Runtime", "enum")},
        )
        service.register_all(self.handlers())
        service.translate(LambdaError, _error)
        return service

    def handlers(self) -> dict[str, Handler]:
        return {
            "CreateFunction": self.create_function,
            "GetFunction": self.get_function,
            "GetFunctionConfiguration": self.get_function_configuration,
            "ListFunctions": self.list_functions,
            "UpdateFunctionCode": self.update_function_code,
            "UpdateFunctionConfiguration": self.update_function_configuration,
            "DeleteFunction": self.delete_function,
            "Invoke": self.invoke,
            "ListTags": self.list_tags,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
        }

    def create_function(self, params: Params, _: RequestContext) -> Params:
        return self.functions.create_function(params)

    def get_function(self, params: Params, _: RequestContext) -> Params:
        return self.functions.get_function(params["FunctionName"], params.get("Qualifier"))

    def get_function_configuration(self, params: Params, _: RequestContext) -> Params:
        return self.functions.get_configuration(params["FunctionName"], params.get("Qualifier"))

    def list_functions(self, params: Params, _: RequestContext) -> Params:
        return self.functions.list_functions(params.get("Marker"), params.get("MaxItems"))

    def update_function_code(self, params: Params, _: RequestContext) -> Params:
        return self.functions.update_code(params["FunctionName"], params)

    def update_function_configuration(self, params: Params, _: RequestContext) -> Params:
        return self.functions.update_configuration(params["FunctionName"], params)

    def delete_function(self, params: Params, _: RequestContext) -> Params:
        self.functions.delete_function(params["FunctionName"], params.get("Qualifier"))
        return {"StatusCode": 204}

    def list_tags(self, params: Params, _: RequestContext) -> Params:
        return {"Tags": self.functions.list_tags(params["Resource"])}

    def tag_resource(self, params: Params, _: RequestContext) -> None:
        self.functions.tag(params["Resource"], dict(params["Tags"]))

    def untag_resource(self, params: Params, _: RequestContext) -> None:
        self.functions.untag(params["Resource"], list(params["TagKeys"]))

    def invoke(self, params: Params, context: RequestContext) -> Params:
        result = self.functions.invoke(
            params["FunctionName"],
            params.get("Payload") or b"",
            params.get("InvocationType") or "RequestResponse",
            log_type=params.get("LogType"),
            qualifier=params.get("Qualifier"),
            request_id=context.request_id,
            client_context=params.get("ClientContext"),
        )
        answer: Params = {"StatusCode": result.status_code, "Payload": result.payload}
        if result.status_code == 200:
            answer["ExecutedVersion"] = result.executed_version
        if result.function_error is not None:
            answer["FunctionError"] = result.function_error
        if result.log_tail is not None:
            answer["LogResult"] = result.log_tail
        return answer


def worker_environment(config: ServerConfig) -> dict[str, str]:
    """What a function's process needs to call this server back with boto3 unchanged."""
    host = "127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host
    env = {"AWS_ENDPOINT_URL": f"http://{host}:{config.port}"}
    credentials = config.resolved_credentials()
    if credentials:
        key, secret = next(iter(sorted(credentials.items())))
        env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_SESSION_TOKEN="")
    return env


def install_functions(
    app: App,
    config: ServerConfig,
    store: Store,
    logs: LogSink | None,
    *,
    engine: Any = None,
) -> FunctionService:
    """Serve the Lambda API on ``app``; with ``engine``, its Lambda tasks call these functions."""
    service = FunctionService(
        store,
        logs,
        data_dir=Path(config.data_dir),
        region=config.region,
        account=config.account_id,
        worker_env=worker_environment(config),
    )
    app.add_worker(_Reaper(service))
    app.on_shutdown(service.close)
    app.add_service(LambdaApi(service).service())
    if engine is not None:
        from batchyard.functions.tasks import ServiceHandlers

        engine.core.functions = ServiceHandlers(service, local=engine.core.functions)
    return service


class _Reaper:
    """Stops workers idle past the pool's limit, once a minute."""

    def __init__(self, service: FunctionService, interval_s: float = 60.0) -> None:
        self._service = service
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="lambda-reaper", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._service.pool.reap()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
