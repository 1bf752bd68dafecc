"""EXPRESS executions: in memory, never in the history tables, logged only through the
state machine's LoggingConfiguration (as on AWS, where their history lives in CloudWatch Logs).
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from batchyard import asl
from batchyard.asl import SystemClock
from batchyard.engine import names
from batchyard.engine.journal import to_ms
from batchyard.engine.run import to_record
from batchyard.store import Execution, StateMachine

if TYPE_CHECKING:
    from batchyard.engine.service import Engine


def _prepare(
    engine: Engine, machine: StateMachine, name: str | None, revision_id: str | None
) -> tuple[asl.StateMachine, str, str]:
    compiled, _ = engine.core.machine(machine.arn, revision_id or machine.revision_id)
    name = name or str(uuid.uuid4())
    arn = names.execution_arn(machine.arn, name, express=True) + ":" + str(uuid.uuid4())
    return compiled, name, arn


def _run(
    engine: Engine,
    compiled: asl.StateMachine,
    machine: StateMachine,
    name: str,
    arn: str,
    text: str,
    start: datetime,
    trace_header: str | None,
) -> Execution:
    result = compiled.execute(
        json.loads(text),
        functions=engine.functions,
        name=name,
        clock=SystemClock(),
        input_text=text,
    )
    now = engine.core.now()
    execution = Execution(
        arn=arn,
        state_machine_arn=machine.arn,
        name=name,
        type="EXPRESS",
        status=result.status,
        input=text,
        revision_id=machine.revision_id,
        start_date=start,
        created=start,
        updated=now,
        output=json.dumps(result.output, separators=(",", ":"), ensure_ascii=False)
        if result.status == "SUCCEEDED"
        else None,
        error=result.error,
        cause=result.cause,
        stop_date=now,
        trace_header=trace_header,
    )
    if engine.logger is not None:
        engine.logger.write(execution, [to_record(arn, event) for event in result.events])
    return execution


def start(
    engine: Engine,
    machine: StateMachine,
    name: str | None,
    text: str,
    revision_id: str | None,
    trace_header: str | None,
) -> Execution:
    """StartExecution of an EXPRESS machine: run in a background thread, answer at once."""
    compiled, name, arn = _prepare(engine, machine, name, revision_id)
    start_date = engine.core.now()
    thread = threading.Thread(
        target=_run,
        args=(engine, compiled, machine, name, arn, text, start_date, trace_header),
        name=f"express-{name}",
        daemon=True,
    )
    thread.start()
    return Execution(
        arn=arn,
        state_machine_arn=machine.arn,
        name=name,
        type="EXPRESS",
        status="RUNNING",
        input=text,
        revision_id=machine.revision_id,
        start_date=start_date,
        created=start_date,
        updated=start_date,
        trace_header=trace_header,
    )


def run_sync(
    engine: Engine,
    machine: StateMachine,
    name: str | None,
    text: str,
    revision_id: str | None,
    trace_header: str | None,
) -> dict[str, Any]:
    """StartSyncExecution's output: the finished execution in AWS's shape."""
    compiled, name, arn = _prepare(engine, machine, name, revision_id)
    start_date = engine.core.now()
    done = _run(engine, compiled, machine, name, arn, text, start_date, trace_header)
    stop = done.stop_date or start_date
    output: dict[str, Any] = {
        "executionArn": arn,
        "stateMachineArn": machine.arn,
        "name": name,
        "startDate": start_date,
        "stopDate": stop,
        "status": done.status,
        "input": text,
        "inputDetails": {"included": True},
    }
    if done.error is not None:
        output["error"] = done.error
    if done.cause is not None:
        output["cause"] = done.cause
    if done.output is not None:
        output["output"] = done.output
        output["outputDetails"] = {"included": True}
    if trace_header is not None:
        output["traceHeader"] = trace_header
    duration = max(to_ms(stop) - to_ms(start_date), 1)
    output["billingDetails"] = {
        "billedMemoryUsedInMB": 64,
        "billedDurationInMilliseconds": ((duration + 99) // 100) * 100,
    }
    return output
