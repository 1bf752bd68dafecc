"""Opening a store: URLs, defaults and failures (the contract itself is in test_contract.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchyard.store import ServiceUnavailable, default_url, open_store
from batchyard.store.connection import normalize_url


def test_postgresql_urls_use_psycopg_3() -> None:
    for url in ("postgresql://u@h:5432/db", "postgres://u@h:5432/db"):
        assert normalize_url(url).drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"


def test_unsupported_and_in_memory_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported store URL"):
        normalize_url("mysql://u@h/db")
    with pytest.raises(ValueError, match="not durable"):
        open_store("sqlite://")


def test_default_url_creates_the_data_directory(tmp_path: Path) -> None:
    url = default_url(tmp_path / "data" / ".batchyard")
    store = open_store(url)
    try:
        assert (tmp_path / "data" / ".batchyard" / "state.db").is_file()
        assert store.dialect == "sqlite"
    finally:
        store.close()


def test_sqlite_is_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = open_store(default_url(tmp_path))
    try:
        with store.transaction() as tx:
            pragmas = {
                name: tx.connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
            }
    finally:
        store.close()
    # synchronous 1 = NORMAL
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 1,
        "busy_timeout": 30000,
    }


def test_unreachable_postgresql_is_service_unavailable() -> None:
    # Port 1 on loopback refuses at once; the password must not leak into the message.
    with pytest.raises(ServiceUnavailable) as info:
        open_store("postgresql://postgres:secret@127.0.0.1:1/test?connect_timeout=2")
    assert "secret" not in str(info.value)
    assert "127.0.0.1:1" in str(info.value)
