"""batchyard's AWS-compatible API: wire protocols from botocore's models, SigV4, AWS errors.

Public surface: ``App`` and ``ServerConfig`` (the server), ``Service`` and ``RequestContext``
(register a service and its handlers), ``AwsError`` (answer an error), ``build_app`` (the
server as ``batchyard server`` runs it).
"""

from batchyard.api.app import App, ConfigError, ServerConfig, Worker
from batchyard.api.errors import AwsError
from batchyard.api.server import build_app, serve
from batchyard.api.service import Handler, RequestContext, Service

__all__ = [
    "App",
    "AwsError",
    "ConfigError",
    "Handler",
    "RequestContext",
    "ServerConfig",
    "Service",
    "Worker",
    "build_app",
    "serve",
]
