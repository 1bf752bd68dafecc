"""What every Step Functions handler shares: the backend, ARNs, names, AWS's error texts.

The error helpers return ``AwsError`` with the exact codes and messages AWS answers (recorded
against AWS in LocalStack's snapshot tests); handlers ``raise`` them. Everything that depends
on the region and account (ARN building and parsing) hangs off :class:`Backend`, so a server
configured for another region answers with ARNs of that region.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from batchyard.api.errors import AwsError
from batchyard.engine import Engine
from batchyard.logs import LogStore
from batchyard.store import Execution, StateMachine, Store

Params = dict[str, Any]
Result = dict[str, Any]
T = TypeVar("T")

DEFAULT_PAGE = 100
# AWS refuses these in state machine, execution and activity names (API reference: "name").
_BAD_NAME = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Backend:
    """The state a handler works on: the store, the engine (once it is there), the ARN space."""

    store: Store
    region: str = "us-east-1"
    account: str = "123456789012"
    engine: Engine | None = None  # None: only the operations that need no execution work
    logs: LogStore | None = None  # where LoggingConfiguration destinations must exist
    clock: Callable[[], datetime] = field(default=utc_now)
    # GetActivityTask's long poll (AWS holds it up to 60 s; tests shorten it).
    activity_wait_seconds: float = 60.0
    # Set when the server is stopping: long polls answer at once (no task) instead of waiting.
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def prefix(self) -> str:
        return f"arn:aws:states:{self.region}:{self.account}"

    def machine_arn(self, name: str) -> str:
        return f"{self.prefix}:stateMachine:{name}"

    def activity_arn(self, name: str) -> str:
        return f"{self.prefix}:activity:{name}"

    def require_engine(self) -> Engine:
        if self.engine is None:
            raise AwsError("ServiceUnavailable", "The execution engine is not running.", 503)
        return self.engine


# --------------------------------------------------------------------------- AWS's errors


def invalid_arn(arn: str) -> AwsError:
    return AwsError("InvalidArn", f"Invalid Arn: 'Invalid ARN prefix: {arn}'")


ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/.+")


def check_role_arn(role_arn: str) -> None:
    """An IAM role ARN in form (its existence and trust policy are not checked: no IAM here)."""
    if not ROLE_ARN.fullmatch(role_arn):
        raise AwsError("InvalidArn", f"Invalid Role Arn: '{role_arn}'")


def wrong_resource(kind: str) -> AwsError:
    return AwsError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: {kind}'")


def machine_missing(arn: str) -> AwsError:
    return AwsError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")


def execution_missing(arn: str) -> AwsError:
    return AwsError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")


def activity_missing(arn: str) -> AwsError:
    return AwsError("ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'")


def resource_missing(arn: str) -> AwsError:
    return AwsError("ResourceNotFound", f"Resource not found: '{arn}'")


def invalid_name(name: str) -> AwsError:
    return AwsError("InvalidName", f"Invalid Name: '{name}'")


def invalid_token() -> AwsError:
    return AwsError("InvalidToken", "Invalid Token: 'Invalid token'")


def validation(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def type_not_supported() -> AwsError:
    return AwsError(
        "StateMachineTypeNotSupported",
        "This operation is not supported by this type of state machine",
    )


# --------------------------------------------------------------------------- ARNs and names


@dataclass(frozen=True)
class Arn:
    """A Step Functions ARN split into its resource type and the parts after it."""

    text: str
    resource: str  # stateMachine, execution, express, activity, mapRun, ...
    parts: tuple[str, ...]


def parse_arn(text: str) -> Arn:
    """Split ``text``; ``InvalidArn`` (AWS's "Invalid ARN prefix") if it is no states ARN."""
    pieces = text.split(":")
    if len(pieces) < 7 or pieces[0] != "arn" or pieces[2] != "states" or not pieces[6]:
        raise invalid_arn(text)
    return Arn(text, pieces[5], tuple(pieces[6:]))


def machine_arn_of(text: str, *, allow_qualified: bool = False) -> Arn:
    """A ``stateMachine`` ARN (``NAME``, or ``NAME:qualifier`` when ``allow_qualified``)."""
    arn = parse_arn(text)
    if arn.resource != "stateMachine":
        raise wrong_resource(arn.resource.lower())
    if len(arn.parts) > (2 if allow_qualified else 1):
        raise invalid_arn(text)
    return arn


def execution_arn_of(text: str) -> Arn:
    arn = parse_arn(text)
    if arn.resource not in ("execution", "express"):
        raise wrong_resource(arn.resource.lower())
    return arn


def check_name(name: str) -> None:
    """AWS's naming rule for state machines, executions, activities and aliases."""
    if not 1 <= len(name) <= 80 or _BAD_NAME.search(name):
        raise invalid_name(name)


def new_name() -> str:
    return str(uuid.uuid4())


# --------------------------------------------------------------------------- store lookups


def get_machine(backend: Backend, arn: str) -> StateMachine:
    machine = backend.store.state_machines.find(arn)
    if machine is None or machine.status != "ACTIVE":
        raise machine_missing(arn)
    return machine


def get_execution(backend: Backend, arn: str) -> Execution:
    execution_arn_of(arn)
    execution = backend.store.executions.find(arn)
    if execution is None:
        raise execution_missing(arn)
    return execution


def all_machines(backend: Backend) -> list[StateMachine]:
    machines: list[StateMachine] = []
    token: str | None = None
    while True:
        page = backend.store.state_machines.list(limit=1000, next_token=token)
        machines.extend(page.items)
        token = page.next_token
        if token is None:
            return machines


# --------------------------------------------------------------------------- pagination


def page_size(params: Params, default: int = DEFAULT_PAGE) -> int:
    """``maxResults``: 0 or absent means the default, as AWS documents."""
    size = int(params.get("maxResults") or 0)
    return size if size > 0 else default


def paginate(
    items: Sequence[T], params: Params, default: int = DEFAULT_PAGE
) -> tuple[list[T], str | None]:
    """One page of an in-memory listing; the token carries the offset of the next item."""
    start = 0
    token = params.get("nextToken")
    if token is not None:
        start = decode_offset(token)
    size = page_size(params, default)
    page = list(items[start : start + size])
    more = start + size < len(items)
    return page, encode_offset(start + size) if more else None


def encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def decode_offset(token: str) -> int:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(value["o"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise invalid_token() from exc
    if offset < 0:
        raise invalid_token()
    return offset


def with_token(result: Result, token: str | None) -> Result:
    if token is not None:
        result["nextToken"] = token
    return result


def tag_list(tags: Sequence[Any]) -> list[dict[str, str]]:
    return [{"key": tag.key, "value": tag.value} for tag in tags]
