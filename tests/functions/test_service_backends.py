"""The function service on SQLite and PostgreSQL: the repository contract, replicas, schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from batchyard.functions import FunctionService, ResourceNotFoundException
from batchyard.functions.errors import PreconditionFailedException
from batchyard.functions.repository import lambda_code, lambda_functions
from batchyard.store import Store, open_store
from batchyard.store.schema import metadata
from tests.functions.conftest import HANDLER, ROLE, zip_of
from tests.store.conftest import (  # noqa: F401 - fixtures: a migrated database per backend
    backend,
    open_stores,
    postgres_schema,
    sqlite_template,
    store,
    store_url,
)


def params(name: str, source: str = HANDLER, **extra: Any) -> dict[str, Any]:
    return {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": zip_of({"app.py": source})},
        **extra,
    }


@pytest.fixture
def service(store: Store, tmp_path: Path) -> Iterator[FunctionService]:  # noqa: F811
    functions = FunctionService(store, None, data_dir=tmp_path / "one")
    yield functions
    functions.close()


def test_the_migration_creates_exactly_the_declared_tables(store: Store) -> None:  # noqa: F811
    with store.transaction() as tx:
        diffs = compare_metadata(MigrationContext.configure(tx.connection), metadata)
    mine = {lambda_functions.name, lambda_code.name}
    assert [d for d in diffs if _table_of(d) in mine] == []


def _table_of(diff: Any) -> str | None:
    """The table a diff of ``compare_metadata`` is about (a table, a column, an index...)."""
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:
        if isinstance(part, str) and part.startswith("lambda_"):
            return part
        table = getattr(part, "table", None)
        if table is not None:
            return str(table.name)
        name = getattr(part, "name", None)
        if name is not None:
            return str(name)
    return None


def test_create_invoke_update_list_delete(service: FunctionService) -> None:
    created = service.create_function(params("svc", Timeout=4))
    assert created["Timeout"] == 4
    result = service.invoke("svc", b'{"n": 1}')
    assert (result.status_code, result.function_error) == (200, None)
    assert json.loads(result.payload) == {"echo": {"n": 1}, "calls": 1}
    updated = service.update_configuration("svc", {"Timeout": 9})
    assert updated["RevisionId"] != created["RevisionId"]
    with pytest.raises(PreconditionFailedException):
        service.update_configuration("svc", {"Timeout": 2, "RevisionId": created["RevisionId"]})
    service.create_function(params("svc-b"))
    page = service.list_functions(max_items=1)
    assert [f["FunctionName"] for f in page["Functions"]] == ["svc"]
    rest = service.list_functions(marker=page["NextMarker"])
    assert [f["FunctionName"] for f in rest["Functions"]] == ["svc-b"]
    service.delete_function("svc")
    with pytest.raises(ResourceNotFoundException, match="Function not found: arn:aws:lambda"):
        service.invoke("svc")
    summaries = service.list_invocations("svc")
    assert [s.status for s in summaries] == ["Succeeded"]
    assert summaries[0].cold_start is True


def test_a_replica_runs_code_created_on_another(
    open_stores: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    one = FunctionService(open_stores(), None, data_dir=tmp_path / "one")
    # Without a cache: the update must be seen by the very next invocation.
    two = FunctionService(open_stores(), None, data_dir=tmp_path / "two", record_ttl=0)
    try:
        one.create_function(params("shared"))
        result = two.invoke("shared", b'{"from": "two"}')
        assert json.loads(result.payload)["echo"] == {"from": "two"}
        assert (tmp_path / "two" / "functions" / "code").is_dir()
        source = "def handler(event, context):\n    return 'new'\n"
        one.update_code("shared", {"ZipFile": zip_of({"app.py": source})})
        # The other replica sees the new revision and replaces its warm worker.
        assert json.loads(two.invoke("shared").payload) == "new"
    finally:
        one.close()
        two.close()


def test_the_function_error_and_log_tail_through_the_python_api(
    service: FunctionService,
) -> None:
    import base64

    service.create_function(params("api"))
    result = service.invoke("api", b'{"action": "fail", "why": "z"}', log_type="Tail")
    assert result.function_error == "Unhandled"
    document = json.loads(result.payload)
    assert document["requestId"] == result.request_id
    assert result.log_tail is not None
    tail = base64.b64decode(result.log_tail).decode()
    assert "[ERROR] ValueError: bad input: z\nTraceback (most recent call last):" in tail
    assert service.invoke("api", b"{}", "DryRun").status_code == 204


def test_the_lambda_api_on_a_postgresql_store(tmp_path: Path) -> None:
    """``batchyard server --store postgresql://...``: functions and their code in PostgreSQL."""
    import boto3  # type: ignore[import-untyped]

    from batchyard.api import ServerConfig, build_app
    from tests.api.conftest import free_port, serve_app
    from tests.store.conftest import _fresh_schema, _postgres_or_skip

    _postgres_or_skip()
    with _fresh_schema() as url:
        port = free_port()
        config = ServerConfig(port=port, data_dir=tmp_path, store_url=url, strict_output=True)
        for endpoint in serve_app(build_app(config), port):
            lam = boto3.client(
                "lambda",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="test",
                aws_secret_access_key="test",
            )
            lam.create_function(**params("on-pg"))
            answer = lam.invoke(FunctionName="on-pg", Payload=b'{"pg": true}')
            assert json.loads(answer["Payload"].read())["echo"] == {"pg": True}
            names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
            assert names == ["on-pg"]
        store = open_store(url)
        try:
            with store.transaction() as tx:
                rows = tx.connection.execute(lambda_functions.select()).all()
            assert [row.name for row in rows] == ["on-pg"]
        finally:
            store.close()


def test_overlapping_invocations_get_their_own_workers_and_idle_ones_are_reaped(
    service: FunctionService,
) -> None:
    import threading
    import time

    source = "import os, time\ndef handler(event, context):\n    time.sleep(0.5)\n    return os.getpid()\n"
    service.create_function(params("parallel", source))
    pids: list[int] = []

    def call() -> None:
        pids.append(json.loads(service.invoke("parallel", b"{}").payload))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(pids)) == 2  # overlapping, so two workers
    assert service.pool.idle_count("parallel") == 2
    assert service.pool.reap(now=time.monotonic() + service.pool.idle_seconds + 1) == 2
    assert service.pool.idle_count("parallel") == 0
    assert service.invoke("parallel", b"{}").status_code == 200  # a cold start again


def test_closing_the_service_ends_its_workers(store: Store, tmp_path: Path) -> None:  # noqa: F811
    import os
    import time

    functions = FunctionService(store, None, data_dir=tmp_path)
    functions.create_function(params("closing"))
    pid = json.loads(functions.invoke("closing", b'{"action": "context"}').payload)["pid"]
    functions.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"worker {pid} outlived the service")


def test_engine_handlers_prefer_in_process_ones_and_reach_stored_functions(
    service: FunctionService,
) -> None:
    from batchyard.functions.tasks import FunctionFailed, ServiceHandlers

    service.create_function(params("stored"))
    handlers = ServiceHandlers(service, local={"local": lambda event, context: "here"})
    assert handlers["local"](None, None) == "here"
    assert handlers.get("missing") is None
    assert "stored" in handlers and "missing" not in handlers
    assert sorted(handlers) == ["local", "stored"] and len(handlers) == 2
    assert bool(ServiceHandlers(service)) is True  # never replaced by ``functions or {}``
    stored = handlers["arn:aws:lambda:us-east-1:123456789012:function:stored"]
    assert stored({"n": 1}, None) == {"echo": {"n": 1}, "calls": 1}
    with pytest.raises(FunctionFailed) as failed:
        stored({"action": "fail", "why": "w"}, None)
    assert failed.value.error_document["errorType"] == "ValueError"
    handlers["stored"] = lambda event, context: "overridden"
    assert handlers["stored"](None, None) == "overridden"


def test_a_failed_event_invocation_is_tried_twice_more_with_its_request_id(
    store: Store,  # noqa: F811
    tmp_path: Path,
) -> None:
    import time

    functions = FunctionService(
        store, None, data_dir=tmp_path, async_retry_delays=(0.05, 0.05), record_ttl=0
    )
    try:
        functions.create_function(params("retried"))
        accepted = functions.invoke("retried", b'{"action": "fail", "why": "r"}', "Event")
        assert accepted.status_code == 202
        deadline = time.monotonic() + 20
        while len(functions.list_invocations("retried")) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # no fourth try
        tries = functions.list_invocations("retried")
        assert [t.status for t in tries] == ["Failed"] * 3
        assert {t.request_id for t in tries} == {accepted.request_id}
        functions.invoke("retried", b'{"n": 1}', "Event")
        while len(functions.list_invocations("retried")) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert functions.list_invocations("retried")[0].status == "Succeeded"
    finally:
        functions.close()
