"""The ECS API of the batchyard server (AWS JSON 1.1, ``AmazonEC2ContainerServiceV20141113.*``).

Every handler passes the validated request to :class:`batchyard.ecs.EcsService`, which answers
with ECS's shapes and raises :class:`batchyard.ecs.EcsError` with ECS's codes and texts.
"""

from __future__ import annotations

from typing import Any

from batchyard.api.ecs.wiring import install_ecs
from batchyard.api.service import Handler, RequestContext, Service
from batchyard.ecs import EcsError, EcsService
from batchyard.ecs.service import OPERATIONS

__all__ = ["EcsApi", "install_ecs"]


class EcsApi:
    """Handlers of the ECS operations batchyard serves, over one ``EcsService``."""

    def __init__(self, ecs: EcsService) -> None:
        self.ecs = ecs

    def _handler(self, operation: str) -> Handler:
        def handle(params: dict[str, Any], _: RequestContext) -> dict[str, Any]:
            return self.ecs.operation(operation, params)

        handle.__name__ = operation
        return handle

    def handlers(self) -> dict[str, Handler]:
        return {operation: self._handler(operation) for operation in OPERATIONS}

    def service(self) -> Service:
        service = Service("ecs", validation_error="InvalidParameterException")
        service.register_all(self.handlers())
        service.translate(EcsError)
        return service
