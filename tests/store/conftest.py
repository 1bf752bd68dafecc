"""Backends for the store contract: every test runs on a SQLite file and on PostgreSQL.

PostgreSQL runs at ``BATCHYARD_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``),
in a schema created for the test session and dropped afterwards; each test starts from empty
tables. When the server is unreachable the
PostgreSQL cases are skipped, unless ``BATCHYARD_REQUIRE_SERVICES=1`` (as in CI): then they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from batchyard.store import Store, open_store
from batchyard.store.schema import metadata

POSTGRES_URL = os.environ.get(
    "BATCHYARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
StoreFactory = Callable[[], Store]


def _postgres_or_skip() -> None:
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is unreachable at {POSTGRES_URL}: {exc}"
        if os.environ.get("BATCHYARD_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} (BATCHYARD_REQUIRE_SERVICES=1 requires it)", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (cheaper than migrating every time)."""
    path = tmp_path_factory.mktemp("store") / "template.db"
    open_store(f"sqlite:///{path}").close()
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """One migrated schema for the session; tests empty its tables (DDL is slow on PostgreSQL)."""
    _postgres_or_skip()
    with _fresh_schema() as url:
        open_store(url).close()
        yield url


@contextmanager
def _fresh_schema() -> Iterator[str]:
    schema = f"by_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgresql":
        _postgres_or_skip()
    return name


@pytest.fixture
def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of a migrated, empty database of each backend."""
    if backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "state.db")
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("postgres_schema")
    # DELETE, not TRUNCATE: on a handful of rows it is much cheaper.
    with psycopg.connect(url) as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(f'DELETE FROM "{table.name}"')
    return url


@pytest.fixture
def empty_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a database without any table (to test migrations from scratch)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with _fresh_schema() as url:
        yield url


def _factory(url: str) -> Iterator[StoreFactory]:
    opened: list[Store] = []

    def factory() -> Store:
        store = open_store(url)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def open_stores(store_url: str) -> Iterator[StoreFactory]:
    """Open any number of stores (replicas) on the test database; all closed at the end."""
    yield from _factory(store_url)


@pytest.fixture
def open_empty(empty_url: str) -> Iterator[StoreFactory]:
    """Open stores on a database that has no tables yet."""
    yield from _factory(empty_url)


@pytest.fixture
def store(open_stores: StoreFactory) -> Store:
    return open_stores()
