"""RedriveExecution: rerun only the unsuccessful part of a FAILED, TIMED_OUT or ABORTED one.

A redrive is one more interpreter input, ``{"k": "redrive", "cut": n}``: the run rewinds to
just before input ``n`` (the one that ended the execution), keeps the history recorded so far,
appends ``ExecutionRedriven`` and dispatches again what was outstanding at that point — the
failed task, the failed Map iterations and Parallel branches, an interrupted Wait — while what
had succeeded stays done. Being an input, it replays like any other after a crash.

Limits: retry counters are those of the rewound point (a state that exhausted its retries
gets one more attempt, not a fresh set); an execution that failed on its very first input
(nothing ran before the failing state) cannot be rewound and is refused.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from batchyard.engine.errors import ExecutionNotRedrivable, execution_does_not_exist
from batchyard.engine.journal import Input, to_ms

if TYPE_CHECKING:
    from batchyard.engine.core import Core

REDRIVABLE = ("FAILED", "TIMED_OUT", "ABORTED")
WINDOW = timedelta(days=14)


def redrive(core: Core, arn: str, client_token: str | None) -> datetime:
    from batchyard.engine.core import KIND

    with core.lock(arn):
        execution = core.store.executions.find(arn)
        if execution is None:
            raise execution_does_not_exist(arn)
        if execution.type != "STANDARD":
            raise ExecutionNotRedrivable(f"Execution is {execution.type} and cannot be redriven")
        run = core.rebuild(execution)
        redriven = any(i.get("k") == "redrive" and i.get("ct") == client_token for i in run.inputs)
        if execution.status == "RUNNING" and client_token is not None and redriven:
            return execution.redrive_date or execution.start_date
        if execution.status not in REDRIVABLE:
            raise ExecutionNotRedrivable(f"Execution is {execution.status} and cannot be redriven")
        now = core.now()
        if execution.stop_date is not None and now - execution.stop_date > WINDOW:
            raise ExecutionNotRedrivable(
                "Execution can not be redriven as it has been more than 14 days since the "
                "execution stopped"
            )
        cut = len(run.inputs) - 1
        if cut < 1:
            raise ExecutionNotRedrivable(
                "Execution can not be redriven as it failed before any state completed"
            )
        count = execution.redrive_count + 1
        item: Input = {"k": "redrive", "t": to_ms(now), "cut": cut, "n": count}
        if client_token is not None:
            item["ct"] = client_token
        run.apply(item)
        run.execution = replace(
            execution,
            status="RUNNING",
            output=None,
            error=None,
            cause=None,
            stop_date=None,
            redrive_count=count,
            redrive_date=now,
            redrive_status="NOT_REDRIVABLE",
            updated=now,
        )
        with core.store.transaction() as tx:
            for pending in run.new_tasks:
                if pending.token is not None:
                    # A callback token comes from the interpreter and is the same as before.
                    tx.connection.execute(
                        sa.text("DELETE FROM task_tokens WHERE token = :t AND status <> 'WAITING'"),
                        {"t": pending.token},
                    )
            core.write_step(tx, run, [item])
            tx.work.enqueue(KIND, arn, now=now)
            tx.work.wake(KIND, arn, at=now)
        core.committed(run)
        # The worker that claims it next replays (redrive included) and re-attaches the
        # outstanding tasks: one code path for redrive and crash recovery.
        core.forget(arn)
        core.work_ready.set()
        return now
