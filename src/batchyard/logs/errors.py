"""CloudWatch Logs errors, named exactly like AWS's error codes.

The API layer turns each into ``{"__type": code, "message": message}``; the messages are the
texts AWS answers with (recorded against real AWS where a recording was available).
"""

from __future__ import annotations

from typing import ClassVar


class LogsError(Exception):
    """Base of every error the log store raises on purpose."""

    code: ClassVar[str] = "LogsError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ResourceNotFoundException(LogsError):
    code = "ResourceNotFoundException"


class ResourceAlreadyExistsException(LogsError):
    code = "ResourceAlreadyExistsException"


class InvalidParameterException(LogsError):
    code = "InvalidParameterException"


class LimitExceededException(LogsError):
    code = "LimitExceededException"


# AWS's texts, kept in one place so tests and callers share them.
GROUP_NOT_FOUND = "The specified log group does not exist."
STREAM_NOT_FOUND = "The specified log stream does not exist."
GROUP_EXISTS = "The specified log group already exists"
STREAM_EXISTS = "The specified log stream already exists"
INVALID_TOKEN = "The specified nextToken is invalid."
NOT_CHRONOLOGICAL = "Log events in a single PutLogEvents request must be in chronological order."
SPAN_TOO_LONG = (
    "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
)


def validation_error(value: object, member: str, constraint: str) -> InvalidParameterException:
    """AWS's request-validation message, e.g. for ``limit`` or ``retentionInDays``."""
    return InvalidParameterException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}"
    )
