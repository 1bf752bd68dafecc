"""The ECS tables on SQLite and PostgreSQL: schema, conditional writes, races, listing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from batchyard.ecs import Backends, EcsService
from batchyard.ecs.records import TaskRecord
from batchyard.ecs.repository import RunRequests, Tasks
from batchyard.ecs.tables import ecs_clusters, ecs_run_requests, ecs_task_definitions, ecs_tasks
from batchyard.runners import make_runner
from batchyard.store import Store, open_store
from batchyard.store.schema import metadata
from tests.ecs.conftest import wait_for

ECS_TABLES = {t.name for t in (ecs_clusters, ecs_task_definitions, ecs_tasks, ecs_run_requests)}


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def _service(store: Store, tmp_path: Path) -> EcsService:
    backends = Backends(
        lambda kind: make_runner(kind, {"state_dir": str(tmp_path / "runner")}), lambda: "local"
    )
    return EcsService(store, backends, region="us-east-1", account="123456789012", poll_seconds=0.1)


def test_migration_creates_exactly_the_declared_tables(store: Store) -> None:
    with store.transaction() as tx:
        differences = compare_metadata(MigrationContext.configure(tx.connection), metadata)
    assert [d for d in differences if any(name in str(d) for name in ECS_TABLES)] == []


def _task(arn: str, created: datetime, **changes: object) -> TaskRecord:
    fields: dict[str, object] = {
        "arn": arn,
        "task_id": arn.rsplit("/", 1)[1],
        "cluster": "default",
        "family": "f",
        "started_by": None,
        "desired_status": "RUNNING",
        "last_status": "PROVISIONING",
        "created": created,
        "body": {"taskArn": arn, "lastStatus": "PROVISIONING", "desiredStatus": "RUNNING"},
        "version": 1,
        "launch_number": None,
        "waiter": None,
        "delivered": False,
        **changes,
    }
    return TaskRecord(**fields)  # type: ignore[arg-type]


def test_task_updates_are_conditional_on_the_version(store: Store) -> None:
    tasks = Tasks(store.db)
    now = datetime(2026, 11, 29, tzinfo=UTC)
    record = _task("arn:aws:ecs:us-east-1:1:task/default/" + "a" * 32, now)
    tasks.add([record])
    running = {**record.body, "lastStatus": "RUNNING"}
    first = tasks.replace(record, running)
    assert first is not None and first.version == 2 and first.last_status == "RUNNING"
    assert tasks.replace(record, {**record.body, "lastStatus": "STOPPED"}) is None  # stale
    stored = tasks.get(record.task_id)
    assert stored is not None and stored.last_status == "RUNNING"
    assert stored.body["version"] == 2
    assert tasks.set_launch_number(record.arn, 1) and not tasks.set_launch_number(record.arn, 2)


def test_a_client_token_is_claimed_once(store: Store) -> None:
    requests = RunRequests(store.db)
    now = datetime(2026, 11, 29, tzinfo=UTC)
    assert requests.claim("default", "slot-1", ["arn:1"], now)
    assert not requests.claim("default", "slot-1", ["arn:2"], now)
    assert requests.get("default", "slot-1") == ["arn:1"]
    assert requests.claim("other", "slot-1", ["arn:3"], now)  # tokens are per cluster


def test_listing_pages_in_creation_order(store: Store) -> None:
    tasks = Tasks(store.db)
    start = datetime(2026, 11, 29, tzinfo=UTC)
    arns = [f"arn:aws:ecs:us-east-1:1:task/default/{i:032x}" for i in range(5)]
    tasks.add([_task(a, start + timedelta(seconds=i // 2)) for i, a in enumerate(arns)])
    seen: list[str] = []
    after = None
    while True:
        page = tasks.list_arns("default", after=after, limit=2)
        if not page:
            break
        seen += [arn for arn, _ in page]
        after = (page[-1][1], page[-1][0])
    assert seen == arns


def test_concurrent_registrations_get_distinct_revisions(store: Store, tmp_path: Path) -> None:
    service = _service(store, tmp_path)
    revisions: list[int] = []
    lock = threading.Lock()

    def register() -> None:
        response = service.operation(
            "RegisterTaskDefinition",
            {"family": "race", "containerDefinitions": [{"name": "a", "image": "busybox"}]},
        )
        with lock:
            revisions.append(response["taskDefinition"]["revision"])

    threads = [threading.Thread(target=register) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(revisions) == [1, 2, 3, 4, 5, 6]


def test_a_task_stopped_before_it_started_never_runs(store: Store, tmp_path: Path) -> None:
    service = _service(store, tmp_path)
    definition = service.operation(
        "RegisterTaskDefinition",
        {"family": "never", "containerDefinitions": [
            {"name": "app", "image": "busybox", "command": ["sh", "-c", f"touch {tmp_path}/ran"]}
        ]},
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    (task,) = service.run_task({"taskDefinition": definition})["tasks"]
    service.stop_task(task["taskArn"], reason="changed my mind")
    service.supervisor.start()
    try:
        stopped = wait_for(
            lambda: (
                (t := service.describe_task(task["taskArn"])) and t["lastStatus"] == "STOPPED" and t
            )
        )
    finally:
        service.supervisor.stop()
        service.close()
    assert stopped["stopCode"] == "UserInitiated"
    assert stopped["stoppedReason"] == "changed my mind"
    assert "startedAt" not in stopped and "exitCode" not in stopped["containers"][0]
    assert not (tmp_path / "ran").exists()
