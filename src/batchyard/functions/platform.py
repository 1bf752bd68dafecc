"""Lambda's platform lines around a handler's output: INIT_START, START, END, REPORT.

:func:`invocation_log` turns one :class:`~batchyard.functions.worker.Outcome` into the log
events of the worker's stream, in Lambda's order (init-phase output before ``START``), and the
invocation's text for ``LogType: Tail`` (from ``START`` to ``REPORT``). Formats are those of
Lambda's Text log format.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from batchyard.functions import config as configuration
from batchyard.functions.repository import FunctionRecord
from batchyard.functions.worker import Outcome


def invocation_log(
    record: FunctionRecord,
    outcome: Outcome,
    request_id: str,
    started: datetime,
    invoked: datetime,
    region: str,
) -> tuple[list[dict[str, Any]], str]:
    """``(events, text)``: ``started`` is when the call came, ``invoked`` when the handler
    was called (later on a cold start, after the init phase)."""
    init_ms = int(started.timestamp() * 1000)
    lines: list[tuple[int, str]] = []
    if outcome.init_ms is not None:
        runtime = str(record.config["Runtime"])
        version = configuration.runtime_version_arn(region, runtime)
        lines.append(
            (
                init_ms,
                f"INIT_START Runtime Version: {runtime.replace('python', 'python:')}.v1"
                f"\tRuntime Version ARN: {version}\n",
            )
        )
    # Output of the init phase (module-level prints) precedes START, as on Lambda.
    lines.extend((max(stamp, init_ms), text) for stamp, text in outcome.init_logs)
    start_ms = max([int(invoked.timestamp() * 1000), *(stamp for stamp, _ in lines)])
    handler_lines = sorted(outcome.logs, key=lambda item: item[0])
    lines.append((start_ms, f"START RequestId: {request_id} Version: $LATEST\n"))
    lines.extend((max(stamp, start_ms), text) for stamp, text in handler_lines)
    end_ms = max([start_ms + int(outcome.duration_ms), *(stamp for stamp, _ in handler_lines)])
    if outcome.timed_out:
        moment = datetime.fromtimestamp(end_ms / 1000, UTC)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        timeout = float(record.config.get("Timeout", configuration.DEFAULT_TIMEOUT))
        lines.append((end_ms, f"{stamp} {request_id} Task timed out after {timeout:.2f} seconds\n"))
    lines.append((end_ms, f"END RequestId: {request_id}\n"))
    lines.append((end_ms, report_line(record, outcome, request_id)))
    events = [{"timestamp": stamp, "message": text} for stamp, text in lines]
    start = next(i for i, (_, text) in enumerate(lines) if text.startswith("START RequestId"))
    return events, "".join(text for _, text in lines[start:])


def report_line(record: FunctionRecord, outcome: Outcome, request_id: str) -> str:
    """``REPORT RequestId: …\\tDuration: … ms\\tBilled Duration: … ms\\t…`` as Lambda writes it.

    Billed duration rounds up to the millisecond and includes a cold start's init phase (Lambda
    bills INIT for every runtime since August 2025).
    """
    memory = int(record.config.get("MemorySize", configuration.DEFAULT_MEMORY))
    billed = math.ceil(outcome.duration_ms + (outcome.init_ms or 0.0)) or 1
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {outcome.duration_ms:.2f} ms\t"
        f"Billed Duration: {billed} ms\tMemory Size: {memory} MB\t"
        f"Max Memory Used: {outcome.max_memory_mb} MB\t"
    )
    if outcome.init_ms is not None:
        line += f"Init Duration: {outcome.init_ms:.2f} ms\t"
    if outcome.timed_out:
        return line + "Status: timeout\n"
    if outcome.platform_error is not None:
        return line + f"Status: error\tError Type: {outcome.platform_error}\n"
    return line + "\n"
