"""Run every Logs Insights fixture (``tests/fixtures/insights/*.json``) through ``LogStore.query``.

Each fixture file names a data set; it is loaded once per module into a fresh in-memory
``LogStore`` (loader: ``tests/logs/insights_oracle.py``), the file's lookup tables are created,
and every case's query must return exactly its ``expected_rows`` (computed independently by the
oracle, see ``tests/fixtures/insights/generate.py``), or raise ``MalformedQueryException``.

How rows are compared
---------------------
* A row is the ordered list of ``(field, value)`` pairs: field order is part of the contract
  ("fields in display order"); for ``stats`` the ``by`` fields come first, then the aggregates,
  in the order written. Confirmed by a real ``aws logs get-query-results`` output quoted in
  grafana/grafana#96916: ``stats count() as request_count by authorizerCallerIdentity.id,
  bin(5m)`` returns ``authorizerCallerIdentity.id``, ``bin(5m)``, ``request_count``, with
  ``"6"`` for the count and ``"2024-11-20 15:45:00.000"`` for the bin.
* ``@ptr`` is dropped from actual rows before comparing (an opaque record pointer that
  GetQueryResults adds to non-aggregated rows); it must be a non-empty string when present.
* A field whose value is null is absent from the row, as GetQueryResults omits it.
* ``limit`` in a case is passed as the ``limit`` argument (StartQuery's); ``records_scanned``
  must equal ``statistics["recordsScanned"]``: every event of the selected groups in the range.
* Order matters only when the query sorts (``"ordered": true``); otherwise rows compare as a
  multiset. The generator refuses ordered cases whose order is ambiguous (ties).

Number presentation (what we found, and what we decided)
--------------------------------------------------------
GetQueryResults returns every value as a string (API reference: ``ResultField.value`` is a
string). Counts appear as plain integers (``"6"``) and ``bin(5m)`` values as
``"2024-11-20 15:45:00.000"`` (UTC, millisecond precision), the timestamp form of ``@timestamp``
(grafana/grafana#96916, above). We found no authoritative recorded example of the text of
a non-integral ``avg``/``stddev``/division result, so the fixtures use Python's shortest
round-trip form of the IEEE double (``"3.5"``, ``"7.785885167464115"``) and print integral
results without a fraction (``"4"`` for ``8 / 2``, ``"2"`` for a stddev of exactly 2)
[**uncertain**: AWS may round to fewer digits]. Because ``avg``/``stddev``/``sqrt``/``log``
may be computed in a different but equally valid order of floating-point operations, two
decimal strings with at least 15 significant digits each are accepted when they differ by no
more than 1e-12 relatively; every other value must match exactly.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from batchyard.logs import LogStore, MalformedQueryException
from tests.logs import insights_oracle as oracle

FIXTURE_DIR = oracle.FIXTURES
FILES = sorted(p for p in FIXTURE_DIR.glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


DOCS = {p.stem: _load(p) for p in FILES}
CASES = [
    pytest.param(topic, case, id=f"{topic}::{case['name']}")
    for topic, doc in DOCS.items()
    for case in doc["cases"]
]


def _build_store(dataset: str) -> LogStore:
    store = LogStore()
    events = oracle.DATASETS[dataset]()
    streams: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for event in events:
        streams.setdefault((event.group, event.stream), []).append(event.as_input())
    for group in sorted({g for g, _ in streams}):
        store.create_log_group(group)
    for (group, stream), batch in streams.items():
        store.create_log_stream(group, stream)
        for chunk in _batches(batch):
            store.put_log_events(group, stream, chunk)
    for doc in DOCS.values():
        if doc["dataset"] == dataset:
            for name, csv_text in doc.get("lookup_tables", {}).items():
                store.create_lookup_table(name, csv_text)
    return store


def _batches(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Chronological PutLogEvents batches that respect AWS's limits (24 h span, 10,000 events)."""
    ordered = sorted(events, key=lambda e: int(e["timestamp"]))
    out: list[list[dict[str, Any]]] = []
    for event in ordered:
        if (
            not out
            or len(out[-1]) == 10_000
            or event["timestamp"] - out[-1][0]["timestamp"] >= DAY_MS
        ):
            out.append([])
        out[-1].append(event)
    return out


DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def stores() -> dict[str, LogStore]:
    """One store per data set, built on first use and shared by the module's cases."""
    return _LazyStores()


class _LazyStores(dict[str, LogStore]):
    def __missing__(self, dataset: str) -> LogStore:
        store = _build_store(dataset)
        self[dataset] = store
        return store


_LONG_DECIMAL = re.compile(r"-?\d+\.\d+(e[-+]?\d+)?")


def _significant_digits(text: str) -> int:
    mantissa = text.lower().split("e")[0].lstrip("-").replace(".", "").lstrip("0")
    return len(mantissa)


def _same_value(expected: str, actual: str) -> bool:
    if expected == actual:
        return True
    if not (_LONG_DECIMAL.fullmatch(expected) and _LONG_DECIMAL.fullmatch(actual)):
        return False
    if min(_significant_digits(expected), _significant_digits(actual)) < 15:
        return False
    e, a = float(expected), float(actual)
    return math.isclose(e, a, rel_tol=1e-12, abs_tol=0.0)


def _same_row(expected: dict[str, str], actual: dict[str, str]) -> bool:
    if list(expected) != list(actual):
        return False
    return all(_same_value(expected[k], actual[k]) for k in expected)


def _sort_key(row: dict[str, str]) -> str:
    # Long decimals are rounded for ordering only, so that 1-ulp differences still pair up.
    def norm(v: str) -> str:
        return f"{float(v):.10g}" if _LONG_DECIMAL.fullmatch(v) else v

    return json.dumps([(k, norm(v)) for k, v in row.items()])


def _first_mismatch(expected: list[dict[str, str]], actual: list[dict[str, str]]) -> str | None:
    if len(expected) != len(actual):
        missing = [r for r in expected if not any(_same_row(r, a) for a in actual)]
        extra = [r for r in actual if not any(_same_row(e, r) for e in expected)]
        return (
            f"{len(actual)} rows, expected {len(expected)}; "
            f"first missing: {missing[:1]}; first unexpected: {extra[:1]}"
        )
    for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
        if not _same_row(e, a):
            return f"row {i}: expected {e}, got {a}"
    return None


def _rows_without_ptr(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    out = []
    for row in rows:
        assert all(isinstance(v, str) for v in row.values()), f"non-string value in {row}"
        ptr = row.get("@ptr")
        assert ptr is None or ptr != "", "@ptr must not be empty"
        out.append({k: v for k, v in row.items() if k != "@ptr"})
    return out


@pytest.mark.parametrize(("topic", "case"), CASES)
def test_insights_fixture(stores: dict[str, LogStore], topic: str, case: dict[str, Any]) -> None:
    store = stores[DOCS[topic]["dataset"]]

    def run() -> Any:
        return store.query(
            case["query"],
            log_groups=case["log_groups"],
            start_time=case["start"],
            end_time=case["end"],
            limit=case.get("limit"),
        )

    if "expected_error" in case:
        assert case["expected_error"] == "MalformedQueryException"
        with pytest.raises(MalformedQueryException):
            run()
        return
    result = run()
    actual = _rows_without_ptr(result.rows)
    expected: list[dict[str, str]] = case["expected_rows"]
    if not case["ordered"]:
        actual = sorted(actual, key=_sort_key)
        expected = sorted(expected, key=_sort_key)
    mismatch = _first_mismatch(expected, actual)
    assert mismatch is None, f"{case['query']!r}: {mismatch}"
    stats = result.statistics
    assert {"recordsMatched", "recordsScanned", "bytesScanned"} <= set(stats)
    # Every event of the selected groups inside the time range is scanned (no index here).
    assert stats["recordsScanned"] == case["records_scanned"], stats


def test_fixture_files_cover_enough_cases() -> None:
    assert len(CASES) >= 80
    for topic, doc in DOCS.items():
        assert doc["dataset"] in oracle.DATASETS, topic
        for case in doc["cases"]:
            assert ("expected_rows" in case) != ("expected_error" in case), case["name"]


def test_oracle_sees_every_loghub_line() -> None:
    events = oracle.loghub_events()
    assert len(events) == 10_000
    groups = {e.group for e in events}
    assert groups == {f"/loghub/{n}" for n in ("Apache", "HDFS", "Linux", "OpenSSH", "Zookeeper")}
    # Hand-read first lines: the timestamp comes from the line itself, read as UTC.
    first = {e.group: e for e in reversed(events)}
    assert oracle.present(oracle.Ts(first["/loghub/HDFS"].timestamp)) == "2008-11-09 20:36:15.000"
    assert oracle.present(oracle.Ts(first["/loghub/Linux"].timestamp)) == "2005-06-14 15:16:01.000"
    assert (
        oracle.present(oracle.Ts(first["/loghub/Zookeeper"].timestamp)) == "2015-07-29 17:41:44.747"
    )
    assert first["/loghub/Apache"].ingestion_time == first["/loghub/Apache"].timestamp + 1000


def test_oracle_natural_order_matches_the_documented_example() -> None:
    documented = [
        "!:",
        "#",
        "*%04",
        "0#",
        "5A",
        "111A",
        "2345_",
        "@",
        "@_",
        "A",
        "A9876fghj",
        "a12345hfh",
        "0",
        "01",
        "1",
        "2",
        "3",
    ]
    shuffled = sorted(documented, key=lambda s: (len(s) * 7919 + sum(map(ord, s))) % 13)
    assert sorted(shuffled, key=oracle.natural_key) == documented
    # Chunks compare whole: "Jul " (a prefix of "Jul  ") sorts first, whatever follows it.
    syslog = ["Jul 2 b", "Jul 10 c", "Jul  1 a"]
    assert sorted(reversed(syslog), key=oracle.natural_key) == syslog
