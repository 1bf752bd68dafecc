"""The CloudWatch Logs API of the batchyard server."""

from batchyard.api.logs.handlers import LogsApi, TagStore
from batchyard.api.logs.queries import QueryManager

__all__ = ["LogsApi", "QueryManager", "TagStore"]
