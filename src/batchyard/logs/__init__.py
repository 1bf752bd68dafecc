"""CloudWatch Logs for batchyard: log groups and streams, fast ingestion, retention,
FilterLogEvents, and Logs Insights queries compiled to DuckDB.

The public API is ``LogStore`` (see ``store.py``) and the AWS-named errors.
"""

from batchyard.logs.errors import (
    InvalidParameterException,
    LimitExceededException,
    LogsError,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
)
from batchyard.logs.insights.errors import MalformedQueryException
from batchyard.logs.query import QueryResult
from batchyard.logs.store import LogStore

__all__ = [
    "InvalidParameterException",
    "LimitExceededException",
    "LogStore",
    "LogsError",
    "MalformedQueryException",
    "QueryResult",
    "ResourceAlreadyExistsException",
    "ResourceNotFoundException",
]
