"""Records with sensible defaults, so each test states only what it is about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from batchyard.store import Execution, HistoryEvent, StateMachine, Store

T0 = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)  # millisecond-aligned: what the store keeps
SM_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:nightly"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def state_machine(arn: str = SM_ARN, **changes: Any) -> StateMachine:
    fields: dict[str, Any] = {
        "arn": arn,
        "name": arn.rsplit(":", 1)[1],
        "type": "STANDARD",
        "definition": '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}',
        "role_arn": "arn:aws:iam::123456789012:role/sfn",
        "revision_id": "rev-1",
        "created": T0,
        "updated": T0,
    }
    fields.update(changes)
    return StateMachine(**fields)


def execution(name: str = "run-1", *, start: float = 0, **changes: Any) -> Execution:
    fields: dict[str, Any] = {
        "arn": f"{SM_ARN.replace(':stateMachine:', ':execution:')}:{name}",
        "state_machine_arn": SM_ARN,
        "name": name,
        "type": "STANDARD",
        "status": "RUNNING",
        "input": '{"slot": "2026-03-01T03:00Z"}',
        "revision_id": "rev-1",
        "start_date": at(start),
        "created": at(start),
        "updated": at(start),
    }
    fields.update(changes)
    return Execution(**fields)


def events(execution_arn: str, first: int, count: int) -> list[HistoryEvent]:
    return [
        HistoryEvent(
            execution_arn=execution_arn,
            id=i,
            previous_event_id=i - 1,
            type="PassStateEntered",
            timestamp=at(i),
            details={"name": "P", "input": f'{{"i": {i}}}'},
        )
        for i in range(first, first + count)
    ]


def started(store: Store, name: str = "run-1", **changes: Any) -> Execution:
    """A stored execution (and its state machine, created once)."""
    if store.state_machines.find(SM_ARN) is None:
        store.state_machines.create(state_machine())
    return store.executions.create(execution(name, **changes))
