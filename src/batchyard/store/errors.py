"""Errors raised by :mod:`batchyard.store`.

They carry data (which resource, which key) so the API layer can map them to the AWS error it
owes the caller (``ExecutionAlreadyExists``, ``StateMachineDoesNotExist``, ...) without parsing
database messages.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class AlreadyExists(StoreError):
    """A row with the same unique key exists (execution name, history event id, ARN, ...)."""

    def __init__(self, resource: str, key: str) -> None:
        super().__init__(f"{resource} already exists: {key}")
        self.resource = resource
        self.key = key


class NotFound(StoreError):
    """No row has this key."""

    def __init__(self, resource: str, key: str) -> None:
        super().__init__(f"{resource} not found: {key}")
        self.resource = resource
        self.key = key


class Conflict(StoreError):
    """A conditional update matched no row: someone else changed it first (optimistic lock)."""

    def __init__(self, resource: str, key: str, expected_version: int) -> None:
        super().__init__(f"{resource} {key} changed since version {expected_version}")
        self.resource = resource
        self.key = key
        self.expected_version = expected_version


class LeaseLost(StoreError):
    """The caller's lease on a work item expired and another owner claimed it (or it is gone)."""

    def __init__(self, kind: str, key: str, owner: str) -> None:
        super().__init__(f"lease on {kind} {key} is no longer held by {owner}")
        self.kind = kind
        self.key = key
        self.owner = owner


class ServiceUnavailable(StoreError):
    """The database cannot be reached or its schema cannot be brought up to date."""
