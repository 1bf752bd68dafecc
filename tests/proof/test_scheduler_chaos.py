"""Three ``batchyard server`` replicas on one PostgreSQL, SIGKILLed and restarted at random
while many schedules fire every second: every slot starts exactly once.

The schedules use the test-only ``rate(1 second)`` (a batchyard extension, enabled here by
``BATCHYARD_SCHEDULER_SECOND_RATES=1``) and target a Pass state machine with the Input
``{"slot": "<aws.scheduler.scheduled-time>", ...}``. The replicas' slot leases are 3 s
(``BATCHYARD_SCHEDULER_LEASE_SECONDS``), so a slot claimed by a killed replica is delivered by
another one 3 s after its due time.

Evidence, read from the database after the chaos: the executions (the target's own records),
counted per (schedule, slot) by the ``slot`` their *input* carries — not by their name, so a
slot delivered twice under two names, or at a drifted time, would show as a duplicate or an
unexpected slot. Every slot of the window must have exactly one execution: the test prints
``duplicates: 0, missed: 0``.

Duration: ``BATCHYARD_CHAOS_SECONDS`` (default 150 s; the suite's budget), schedules:
``BATCHYARD_CHAOS_SCHEDULES`` (default 20). Skipped without PostgreSQL unless
``BATCHYARD_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from tests.proof.servers import ServerProcess

CHAOS_SECONDS = int(os.environ.get("BATCHYARD_CHAOS_SECONDS", "150"))
SCHEDULES = int(os.environ.get("BATCHYARD_CHAOS_SCHEDULES", "20"))
LEASE_SECONDS = 3
SETTLE_SECONDS = 20  # after the chaos: leases lapse, late slots are delivered
SEED = int(os.environ.get("BATCHYARD_CHAOS_SEED", "20261129"))

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(CHAOS_SECONDS + 300)]

POSTGRES_URL = os.environ.get(
    "BATCHYARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
ROLE = "arn:aws:iam::123456789012:role/scheduler"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


@pytest.fixture
def postgres_url() -> Iterator[str]:
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is unreachable at {POSTGRES_URL}: {exc}"
        if os.environ.get("BATCHYARD_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} (BATCHYARD_REQUIRE_SERVICES=1 requires it)", pytrace=False)
        pytest.skip(message)
    schema = f"by_chaos_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _retry(call: object, attempts: int = 30) -> object:
    for attempt in range(attempts):
        try:
            return call()  # type: ignore[operator]
        except Exception:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def _chaos(replicas: list[ServerProcess], seconds: float, rng: random.Random) -> int:
    """Kill one replica (sometimes two) at random moments and restart them; how many kills."""
    kills = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(rng.uniform(2.0, 8.0))
        victims = rng.sample(replicas, 2 if rng.random() < 0.25 else 1)
        for victim in victims:
            victim.kill9()
            kills += 1
        time.sleep(rng.uniform(0.0, 4.0))
        for victim in victims:
            victim.start()
    return kills


def test_every_slot_starts_exactly_once_under_sigkill(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCHYARD_SCHEDULER_SECOND_RATES", "1")
    monkeypatch.setenv("BATCHYARD_SCHEDULER_LEASE_SECONDS", str(LEASE_SECONDS))
    rng = random.Random(SEED)
    replicas = [ServerProcess(tmp_path / n, "--store", postgres_url) for n in ("a", "b", "c")]
    try:
        for replica in replicas:  # one after the other: the first one migrates the schema
            replica.start()
        sfn = replicas[0].client("stepfunctions")
        scheduler = replicas[0].client("scheduler")
        machine = sfn.create_state_machine(name="chaos", definition=PASS, roleArn=ROLE)[
            "stateMachineArn"
        ]
        arns = []
        for i in range(SCHEDULES):
            arns.append(
                scheduler.create_schedule(
                    Name=f"chaos-{i:03d}",
                    ScheduleExpression="rate(1 second)",
                    FlexibleTimeWindow={"Mode": "OFF"},
                    Target={
                        "Arn": machine,
                        "RoleArn": ROLE,
                        "Input": json.dumps(
                            {"slot": "<aws.scheduler.scheduled-time>",
                             "schedule": "<aws.scheduler.schedule-arn>"}
                        ),
                    },
                )["ScheduleArn"]
            )  # fmt: skip
        window_start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
        kills = _chaos(replicas, CHAOS_SECONDS, rng)
        window_end = datetime.now(UTC).replace(microsecond=0)
        time.sleep(SETTLE_SECONDS)
        for arn in arns:  # stop firing before counting
            name = arn.rsplit("/", 1)[-1]
            current = _retry(lambda name=name: scheduler.get_schedule(Name=name))
            _retry(
                lambda name=name, current=current: scheduler.update_schedule(
                    Name=name,
                    ScheduleExpression=current["ScheduleExpression"],  # type: ignore[index]
                    FlexibleTimeWindow={"Mode": "OFF"},
                    Target=current["Target"],  # type: ignore[index]
                    State="DISABLED",
                )
            )
    finally:
        for replica in replicas:
            replica.stop()

    with psycopg.connect(postgres_url) as conn:
        inputs = [row[0] for row in conn.execute("SELECT input FROM executions")]
        ledger = conn.execute(
            "SELECT status, count(*) FROM scheduler_slots GROUP BY status"
        ).fetchall()
        # Slots settled more than a lease after their due time: delivered by a replica that
        # took them over from a killed one (or claimed late while all were restarting).
        late = conn.execute(
            "SELECT count(*) FROM scheduler_slots WHERE status = 'STARTED' "
            "AND settled - due_at > %s",
            (LEASE_SECONDS * 1000,),
        ).fetchone()[0]
    starts: Counter[tuple[str, str]] = Counter()
    for text in inputs:
        payload = json.loads(text)
        starts[(payload["schedule"], payload["slot"])] += 1
    expected = {
        (arn, (window_start + timedelta(seconds=k)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        for arn in arns
        for k in range(int((window_end - window_start).total_seconds()) + 1)
    }
    duplicates = sum(count - 1 for count in starts.values() if count > 1)
    missed = sum(1 for key in expected if starts[key] == 0)
    stamps = {slot for _, slot in expected}
    off_grid = [
        key
        for key in starts
        if key[1] >= min(stamps) and key[1] <= max(stamps) and key not in expected
    ]
    print(
        f"\nscheduler chaos: {CHAOS_SECONDS} s, {len(replicas)} replicas, {kills} SIGKILLs, "
        f"{SCHEDULES} schedules at rate(1 second), {len(expected)} slots in the window, "
        f"{len(inputs)} executions in all; ledger {dict(ledger)}"
    )
    print(f"slots delivered more than a lease late (take-overs, restarts): {late}")
    print(f"duplicates: {duplicates}, missed: {missed}")
    assert kills > 0
    assert duplicates == 0
    assert missed == 0
    assert off_grid == []
