"""awslogs shipping rules, on a real log store."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchyard.logs import LogStore
from batchyard.runners import AwsLogs, StartFailure
from batchyard.runners.logship import (
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    MAX_EVENT_BYTES,
    Shipper,
    open_stream,
    stream_name,
)


class RecordingSink:
    """A sink that keeps each batch, to check how events are batched."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []

    def put_log_events(self, group: str, stream: str, events: list[dict[str, object]]) -> object:
        self.batches.append(list(events))
        return {}

    def create_log_group(self, name: str) -> None:
        pass

    def create_log_stream(self, group: str, stream: str) -> None:
        pass


def test_stream_name_is_prefix_container_task_id() -> None:
    assert stream_name(AwsLogs("/ecs/app", "web"), "nginx", "abc123") == "web/nginx/abc123"
    assert stream_name(AwsLogs("/ecs/app"), "nginx", "abc123") == "nginx/abc123"


def test_open_stream_reuses_an_existing_stream_and_creates_groups_only_when_allowed() -> None:
    store = LogStore(None)
    with pytest.raises(StartFailure, match=r"^ResourceInitializationError: "):
        open_stream(store, AwsLogs("/g", "p"), "c", "t")
    assert open_stream(store, AwsLogs("/g", "p", create_group=True), "c", "t") == "p/c/t"
    assert open_stream(store, AwsLogs("/g", "p"), "c", "t") == "p/c/t"  # a re-attach
    assert store.group_names() == ["/g"]


def test_batches_respect_the_put_log_events_limits() -> None:
    sink = RecordingSink()
    shipper = Shipper(sink, "g", "s", flush_interval=3600)
    shipper.feed(b"".join(b"%d\n" % i for i in range(25_000)))
    shipper.feed(("y" * 200_000 + "\n").encode() * 12)
    shipper.close()
    for batch in sink.batches:
        assert len(batch) <= MAX_BATCH_EVENTS
        size = sum(len(str(e["message"]).encode()) + 26 for e in batch)
        assert size <= MAX_BATCH_BYTES
    messages = [e["message"] for batch in sink.batches for e in batch]
    assert messages == [str(i) for i in range(25_000)] + ["y" * 200_000] * 12
    assert shipper.shipped_lines == 25_012


def test_lines_cut_across_chunks_and_streams_keep_their_own_partial_line() -> None:
    sink = RecordingSink()
    shipper = Shipper(sink, "g", "s")
    shipper.feed(b"hel", source=1)
    shipper.feed(b"oops\n", source=2)
    shipper.feed(b"lo\nwor", source=1)
    shipper.feed(b"", source=1)
    shipper.close()  # the unfinished "wor" still becomes an event
    assert [e["message"] for b in sink.batches for e in b] == ["oops", "hello", "wor"]


def test_empty_lines_are_dropped_and_utf8_is_split_on_character_boundaries() -> None:
    sink = RecordingSink()
    shipper = Shipper(sink, "g", "s")
    line = "é" * 200_000  # 400,000 bytes
    shipper.feed(b"\n\nfirst\n\n" + line.encode() + b"\n")
    shipper.close()
    messages = [str(e["message"]) for b in sink.batches for e in b]
    assert messages[0] == "first"
    assert "".join(messages[1:]) == line
    assert all(len(m.encode()) <= MAX_EVENT_BYTES for m in messages)


def test_timestamps_never_go_back() -> None:
    sink = RecordingSink()
    clock = iter([1000, 900, 1100])
    shipper = Shipper(sink, "g", "s", clock_ms=lambda: next(clock))
    for chunk in (b"a\n", b"b\n", b"c\n"):
        shipper.feed(chunk)
    shipper.close()
    assert [e["timestamp"] for b in sink.batches for e in b] == [1000, 1000, 1100]


def test_time_based_flush() -> None:
    sink = RecordingSink()
    shipper = Shipper(sink, "g", "s", flush_interval=0.0)
    shipper.feed(b"now\n")
    assert [e["message"] for b in sink.batches for e in b] == ["now"]


def test_a_refusing_sink_is_retried_then_reported() -> None:
    class Flaky(RecordingSink):
        calls = 0

        def put_log_events(
            self, group: str, stream: str, events: list[dict[str, object]]
        ) -> object:
            self.calls += 1
            if self.calls < 3:
                raise OSError("busy")
            return super().put_log_events(group, stream, events)

    sink = Flaky()
    shipper = Shipper(sink, "g", "s", retries=3)
    shipper.feed(b"kept\n")
    shipper.close()
    assert [e["message"] for b in sink.batches for e in b] == ["kept"]
    assert shipper.dropped_lines == 0


def test_shipped_bytes_mark_where_to_resume() -> None:
    sink = RecordingSink()
    shipper = Shipper(sink, "g", "s", flush_interval=3600)
    shipper.feed(b"one\ntwo\nthr")
    shipper.flush()
    assert shipper.shipped_bytes == len(b"one\ntwo\n")
    shipper.close()
    assert shipper.shipped_bytes == len(b"one\ntwo\nthr")


def test_one_million_lines_into_the_log_store_in_order() -> None:
    store = LogStore(None)
    store.create_log_group("/g")
    stream = open_stream(store, AwsLogs("/g", "p"), "c", "t")
    shipper = Shipper(store, "/g", stream)
    data = b"".join(b"line %d\n" % i for i in range(1_000_000))
    for start in range(0, len(data), 65_536):
        shipper.feed(data[start : start + 65_536])
    shipper.close()
    with store.lock:
        rows = store.connection.execute(
            f"SELECT message FROM {store.events_relation} ORDER BY seq"
        ).fetchall()
    assert [r[0] for r in rows] == [f"line {i}" for i in range(1_000_000)]


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(
        st.text(
            alphabet=st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)),
            max_size=40,
        )
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=20),
    max_events=st.integers(min_value=1, max_value=7),
)
def test_any_chunking_ships_exactly_the_non_empty_lines_in_order(
    lines: list[str], cuts: list[int], max_events: int
) -> None:
    data = "".join(line + "\n" for line in lines).encode()
    sink = RecordingSink()
    shipper = Shipper(sink, "g", "s", flush_interval=3600, max_events=max_events)
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    for start, end in itertools.pairwise(points):
        shipper.feed(data[start:end])
    shipper.close()
    shipped = [e["message"] for batch in sink.batches for e in batch]
    expected = [line.encode().decode() for line in lines if line]
    assert shipped == expected
    assert all(0 < len(batch) <= max_events for batch in sink.batches)
    assert shipper.shipped_bytes == len(data)
