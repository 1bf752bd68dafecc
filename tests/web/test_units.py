"""The console's pure parts, without a browser: session cookies, the histogram query, the
sign-in redirect target, and saved queries on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from batchyard.store import open_store
from batchyard.web.auth import Sessions
from batchyard.web.insights import bin_seconds, histogram_query
from batchyard.web.pages import _safe_next
from batchyard.web.saved_queries import InvalidQuery, SavedQueries
from tests.web.conftest import fetch, start_console

SECRETS = {"ops": "s3cret", "ci": "other"}


def test_a_session_names_its_key_until_it_expires() -> None:
    sessions = Sessions(SECRETS, required=True, lifetime_s=60)
    cookie = sessions.issue("ops", now=1000.0)
    assert sessions.user(cookie, now=1000.0) == "ops"
    assert sessions.user(cookie, now=1059.0) == "ops"
    assert sessions.user(cookie, now=1060.0) is None


def test_a_tampered_or_foreign_cookie_is_refused() -> None:
    sessions = Sessions(SECRETS, required=True)
    cookie = sessions.issue("ops")
    payload, _, signature = cookie.partition(".")
    other = sessions.issue("ci")
    assert sessions.user(f"{other.partition('.')[0]}.{signature}") is None  # swapped payload
    assert sessions.user(payload) is None
    assert sessions.user(cookie[:-2] + "AA") is None
    assert sessions.user("garbage.garbage") is None
    assert sessions.user(None) is None
    # Rotating the secret ends the sessions signed with the old one.
    assert Sessions({"ops": "new"}, required=True).user(cookie) is None


def test_credentials_are_checked_exactly() -> None:
    sessions = Sessions(SECRETS, required=True)
    assert sessions.check_credentials("ops", "s3cret")
    assert not sessions.check_credentials("ops", "s3cret ")
    assert not sessions.check_credentials("ops", "other")
    assert not sessions.check_credentials("nobody", "s3cret")
    assert not sessions.check_credentials("", "")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/ui/insights?x=1", "/ui/insights?x=1"),
        ("https://evil.example/", "/ui/overview"),
        ("//evil.example/ui/", "/ui/overview"),
        ("/metrics", "/ui/overview"),
        (None, "/ui/overview"),
    ],
)
def test_sign_in_only_returns_to_console_pages(target: str | None, expected: str) -> None:
    assert _safe_next(target) == expected


def test_histogram_query_keeps_what_selects_and_drops_what_shapes() -> None:
    query = (
        "fields @timestamp, @message | filter @message like /a|b/ | sort @timestamp desc | limit 20"
    )
    assert histogram_query(query, 300) == (
        "fields @timestamp, @message | filter @message like /a|b/"
        " | stats count(*) as events by bin(5m) as bin"
    )
    source = 'SOURCE logGroups(namePrefix: ["app"]) | display @message'
    assert histogram_query(source, 3600) == (
        'SOURCE logGroups(namePrefix: ["app"]) | stats count(*) as events by bin(1h) as bin'
    )
    assert histogram_query("stats count(*) by bin(5m)", 60) is None


def test_histogram_bins_stay_under_sixty_bars() -> None:
    assert bin_seconds(0, 60) == 1
    assert bin_seconds(0, 3600) == 60
    assert bin_seconds(0, 86400) == 1800
    for span in (1, 59, 61, 3601, 7 * 86400, 400 * 86400):
        width = bin_seconds(0, span)
        assert span / width <= 60 or width == 7 * 86400


# --------------------------------------------------------------------------- saved queries

POSTGRES_URL = os.environ.get(
    "BATCHYARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("BATCHYARD_REQUIRE_SERVICES") == "1":
            pytest.fail(f"PostgreSQL is unreachable: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL is unreachable: {exc}")
    schema = f"by_web_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_saved_queries_save_replace_list_delete(store_url: str) -> None:
    store = open_store(store_url)
    try:
        repo = SavedQueries(store.db)
        first = repo.save("errors", "filter @message like /ERROR/", ["/app"])
        repo.save("by job", "stats count(*) by job", [])
        again = repo.save("errors", "filter level = 'error'", ["/app", "/jobs"])
        assert again.id == first.id  # same name: replaced, not duplicated
        listed = repo.all()
        assert [q.name for q in listed] == ["by job", "errors"]
        assert listed[1].query == "filter level = 'error'"
        assert listed[1].log_groups == ["/app", "/jobs"]
        assert repo.delete(first.id)
        assert not repo.delete(first.id)
        assert [q.name for q in repo.all()] == ["by job"]
        # A second store on the same database sees them (replicas share saved queries).
        other = open_store(store_url)
        try:
            assert [q.name for q in SavedQueries(other.db).all()] == ["by job"]
        finally:
            other.close()
    finally:
        store.close()


@pytest.mark.parametrize(("name", "query"), [("", "fields x"), ("x" * 256, "fields x"), ("n", " ")])
def test_saved_queries_refuse_empty_or_long_names(tmp_path: Path, name: str, query: str) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with pytest.raises(InvalidQuery):
            SavedQueries(store.db).save(name, query, [])
    finally:
        store.close()


def test_a_console_on_either_store_keeps_saved_queries(store_url: str, tmp_path: Path) -> None:
    """Saved through one server, listed by another on the same store (replicas share them)."""
    body = b'{"name": "errors", "query": "filter @message like /ERROR/", "logGroups": ["/a"]}'
    headers = {"x-batchyard-console": "1", "content-type": "application/json"}
    for console in start_console(tmp_path / "one", store_url=store_url):
        status, _, answer = fetch(console.url + "/ui/api/logs/saved", data=body, headers=headers)
        assert status == 200, answer
    for console in start_console(tmp_path / "two", store_url=store_url):
        status, _, answer = fetch(console.url + "/ui/api/logs/saved")
        assert status == 200
        saved = json.loads(answer)["queries"]
        assert [(q["name"], q["logGroups"]) for q in saved] == [("errors", ["/a"])]


def test_state_times_pair_each_entry_with_its_exit() -> None:
    from datetime import UTC, datetime, timedelta

    from batchyard.store import HistoryEvent
    from batchyard.web.state_times import state_runs, summarise

    t0 = datetime(2026, 1, 1, tzinfo=UTC)

    def event(i: int, kind: str, name: str, ms: int) -> HistoryEvent:
        key = "stateEnteredEventDetails" if kind.endswith("Entered") else "stateExitedEventDetails"
        return HistoryEvent(
            "arn", i, i - 1, kind, t0 + timedelta(milliseconds=ms), {key: {"name": name}}
        )

    # A loop: Work runs twice (100 ms, then 300 ms); Check once (10 ms).
    history = [
        event(1, "TaskStateEntered", "Work", 0),
        event(2, "TaskStateExited", "Work", 100),
        event(3, "ChoiceStateEntered", "Check", 100),
        event(4, "ChoiceStateExited", "Check", 110),
        event(5, "TaskStateEntered", "Work", 110),
        event(6, "TaskStateExited", "Work", 410),
        event(7, "TaskStateEntered", "Open", 410),  # never exited: not counted
    ]
    assert state_runs(history) == [("Work", 100.0), ("Check", 10.0), ("Work", 300.0)]
    summary = summarise([history, history[:2]])
    assert [(s.name, s.runs, s.max_ms, s.total_ms) for s in summary] == [
        ("Work", 3, 300.0, 500.0),
        ("Check", 1, 10.0, 10.0),
    ]
    assert summary[0].median_ms == 100.0
