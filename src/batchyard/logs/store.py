"""The log store: CloudWatch Logs' data plane on DuckDB.

``LogStore`` is the whole public surface (the API server, the CLI and outside test suites call
exactly this). Design:

* **One DuckDB database** (in memory, or a file that a reopen finds intact) holds the metadata
  -- ``log_groups``, ``log_streams``, the field catalog ``fields`` (Insights name -> physical
  column) and lookup tables -- and, through an ``EventBackend`` (see ``backend.py``), the
  events. Event storage is an interface so that Parquet segments on shared storage can be
  added for several replicas without touching ingestion or queries.
* **Ingestion in bulk**: ``put_log_events`` validates a batch and appends it to the journal
  (``journal.py``: Arrow IPC, durable when the call returns); ``flush`` -- when 250,000 events
  have piled up (then only whole DuckDB row groups, the rest staying journaled: a partial row
  group costs a re-compression on the next append), before every read, on close -- moves the
  journal into DuckDB in one transaction, JSON messages shredded there (``ingest.py``) into one VARCHAR column per
  discovered field, so that Insights queries read columns instead of re-parsing messages.
* **One lock** serialises use of the connection: DuckDB connections are not thread-safe, and
  one writer at a time is what DuckDB wants anyway.
* **AWS semantics are the contract**: error names and texts, pagination tokens, the response
  shapes of boto3's ``describe_log_groups``/``describe_log_streams``/``get_log_events``/
  ``filter_log_events``.

Retention: ``put_retention_policy`` records the days; ``expire(now_ms)`` (run periodically by
the server) deletes events older than that.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from batchyard.logs import errors, ingest, reading
from batchyard.logs.backend import BASE_COLUMNS, DuckDBTableBackend, EventBackend
from batchyard.logs.errors import (
    InvalidParameterException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
)
from batchyard.logs.journal import SCHEMA as JOURNAL_SCHEMA
from batchyard.logs.journal import Journal
from batchyard.logs.rules import (
    DAY_MS,
    GROUP_NAME_RE,
    MAX_EVENTS_LIMIT,
    RETENTION_DAYS,
    STREAM_NAME_RE,
    check_limit,
    paginate,
    rejections,
    validate_name,
)

if TYPE_CHECKING:
    from batchyard.logs.insights import LookupTableInfo
    from batchyard.logs.query import QueryResult

ROW_GROUP_ROWS = 122_880  # DuckDB's row group size

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log_groups (group_id INTEGER, name VARCHAR, creation_time BIGINT,
    retention_days INTEGER, stored_bytes BIGINT);
CREATE TABLE IF NOT EXISTS log_streams (stream_id INTEGER, group_id INTEGER, name VARCHAR,
    creation_time BIGINT, first_ts BIGINT, last_ts BIGINT, last_ingestion BIGINT,
    sequence BIGINT);
CREATE TABLE IF NOT EXISTS fields (name VARCHAR, col VARCHAR);
CREATE TABLE IF NOT EXISTS meta (key VARCHAR, value BIGINT);
CREATE TABLE IF NOT EXISTS lookup_tables (name VARCHAR, table_name VARCHAR, columns VARCHAR[]);
"""


@dataclass
class _Group:
    group_id: int
    name: str
    creation_time: int
    retention_days: int | None
    stored_bytes: int


@dataclass
class _Stream:
    stream_id: int
    group_id: int
    name: str
    creation_time: int
    first_ts: int | None
    last_ts: int | None
    last_ingestion: int | None
    sequence: int


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class LogStore:
    """CloudWatch Logs on DuckDB. ``path=None`` keeps everything in memory."""

    def __init__(
        self,
        path: str | None = None,
        *,
        account_id: str = "123456789012",
        region: str = "us-east-1",
        clock: Callable[[], int] = _now_ms,
        flush_rows: int = 250_000,
        fsync: bool = False,
    ) -> None:
        self.account_id = account_id
        self.region = region
        self._clock = clock
        self._lock = threading.RLock()
        self._con = duckdb.connect(":memory:" if path is None else str(path))
        self._con.execute(_SCHEMA)
        self._backend: EventBackend = DuckDBTableBackend(self._con)
        self._groups: dict[str, _Group] = {}
        self._streams: dict[tuple[int, str], _Stream] = {}
        self._columns: dict[str, str] = dict(
            self._con.execute("SELECT name, col FROM fields").fetchall()
        )
        self._flush_rows = flush_rows
        self._lookups: dict[str, tuple[str, list[str]]] | None = None
        self._table_rows = 0  # rows in the event table, for flushes in whole row groups
        self._recount()
        self._closed = False
        self._dirty_groups: set[str] = set()
        self._dirty_streams: set[tuple[int, str]] = set()
        self._load()
        in_memory = path is None or str(path) == ":memory:"
        journal_path = None if in_memory else Path(f"{path}.journal")
        self._journal = Journal(None)
        if journal_path is not None:
            self._replay(journal_path)
        self._journal = Journal(journal_path, fsync=fsync)

    # ------------------------------------------------------------------ lifecycle

    def _load(self) -> None:
        for row in self._con.execute("SELECT * FROM log_groups").fetchall():
            group = _Group(*row)
            self._groups[group.name] = group
        for row in self._con.execute("SELECT * FROM log_streams").fetchall():
            stream = _Stream(*row)
            self._streams[(stream.group_id, stream.name)] = stream
        if not self._con.execute("SELECT 1 FROM meta WHERE key = 'flushed_seq'").fetchall():
            self._con.execute("INSERT INTO meta VALUES ('flushed_seq', 0)")
        (flushed,) = _one(self._con, "SELECT value FROM meta WHERE key = 'flushed_seq'")
        self._flushed_seq = int(flushed)
        self._next_seq = self._flushed_seq + 1
        ids = _one(
            self._con,
            "SELECT coalesce(max(group_id), 0), (SELECT coalesce(max(stream_id), 0) FROM log_streams)"
            " FROM log_groups",
        )
        self._next_group_id, self._next_stream_id = int(ids[0]) + 1, int(ids[1]) + 1

    def _replay(self, path: Path) -> None:
        """Events acknowledged but not flushed before a crash: shred them now."""
        for batch in Journal.replay(path, self._flushed_seq):
            self._journal.append(batch)
        if not self._journal.rows:
            return
        table = self._journal.table()
        self._next_seq = int(pc.max(table.column("seq")).as_py()) + 1
        streams = {s.stream_id: s for s in self._streams.values()}
        groups = {g.group_id: g for g in self._groups.values()}
        for batch in self._journal.batches:
            for i in range(batch.num_rows):
                stream = streams.get(batch.column(2)[i].as_py())
                group = groups.get(batch.column(1)[i].as_py())
                if stream is None or group is None:
                    continue
                ts, top = batch.column(3)[i].as_py(), batch.column(4)[i].as_py()
                self._touch(group, stream, ts, ts, top)
        for group_id, size in _bytes_by_group(table).items():
            if group_id in groups:
                groups[group_id].stored_bytes += size
        self.flush()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self.flush()
            self._journal.close()
            self._con.close()
            self._closed = True

    def __enter__(self) -> LogStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock:
            self._con.execute("BEGIN TRANSACTION")
            try:
                yield self._con
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")

    # ------------------------------------------------------------------ groups

    def _group(self, name: str) -> _Group:
        group = self._groups.get(name)
        if group is None:
            raise ResourceNotFoundException(errors.GROUP_NOT_FOUND)
        return group

    def _stream(self, group_name: str, stream_name: str) -> tuple[_Group, _Stream]:
        group = self._group(group_name)
        stream = self._streams.get((group.group_id, stream_name))
        if stream is None:
            raise ResourceNotFoundException(errors.STREAM_NOT_FOUND)
        return group, stream

    def create_log_group(self, name: str) -> None:
        validate_name(name, "logGroupName", GROUP_NAME_RE)
        with self._transaction() as con:
            if name in self._groups:
                raise ResourceAlreadyExistsException(errors.GROUP_EXISTS)
            group = _Group(self._next_group_id, name, self._clock(), None, 0)
            con.execute(
                "INSERT INTO log_groups VALUES (?, ?, ?, ?, ?)",
                [group.group_id, name, group.creation_time, None, 0],
            )
            self._next_group_id += 1
            self._groups[name] = group

    def delete_log_group(self, name: str) -> None:
        self.flush()
        with self._transaction() as con:
            group = self._group(name)
            self._backend.delete("group_id = ?", [group.group_id])
            con.execute("DELETE FROM log_streams WHERE group_id = ?", [group.group_id])
            con.execute("DELETE FROM log_groups WHERE group_id = ?", [group.group_id])
            del self._groups[name]
            for key in [k for k in self._streams if k[0] == group.group_id]:
                del self._streams[key]
            self._recount()

    def describe_log_groups(
        self,
        log_group_name_prefix: str | None = None,
        *,
        log_group_name_pattern: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """DescribeLogGroups: by name prefix, or by a case-sensitive substring (pattern)."""
        size = check_limit(limit, 50, 50)
        if log_group_name_prefix is not None and log_group_name_pattern is not None:
            raise InvalidParameterException(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
            )
        with self._lock:
            names = sorted(
                n
                for n in self._groups
                if n.startswith(log_group_name_prefix or "") and (log_group_name_pattern or "") in n
            )
            page, token = paginate(names, size, next_token)
            result: dict[str, Any] = {
                "logGroups": [self._describe_group(self._groups[n]) for n in page]
            }
        if token:
            result["nextToken"] = token
        return result

    def _describe_group(self, group: _Group) -> dict[str, Any]:
        arn = f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{group.name}"
        item: dict[str, Any] = {"logGroupName": group.name, "creationTime": group.creation_time}
        if group.retention_days is not None:
            item["retentionInDays"] = group.retention_days
        item.update(
            metricFilterCount=0,
            arn=arn + ":*",
            storedBytes=group.stored_bytes,
            logGroupClass="STANDARD",
            logGroupArn=arn,
            deletionProtectionEnabled=False,
        )
        return item

    def put_retention_policy(self, name: str, retention_in_days: int) -> None:
        if retention_in_days not in RETENTION_DAYS:
            allowed = ", ".join(str(d) for d in RETENTION_DAYS)
            raise errors.validation_error(
                retention_in_days,
                "retentionInDays",
                f"Member must satisfy enum value set: [{allowed}]",
            )
        self._set_retention(name, retention_in_days)

    def delete_retention_policy(self, name: str) -> None:
        self._set_retention(name, None)

    def _set_retention(self, name: str, days: int | None) -> None:
        with self._transaction() as con:
            group = self._group(name)
            con.execute(
                "UPDATE log_groups SET retention_days = ? WHERE group_id = ?",
                [days, group.group_id],
            )
            group.retention_days = days

    def expire(self, now_ms: int | None = None) -> int:
        """Delete events older than their group's retention; return how many were deleted."""
        now = self._clock() if now_ms is None else now_ms
        deleted = 0
        self.flush()
        with self._transaction():
            for group in self._groups.values():
                if group.retention_days is not None:
                    cutoff = now - group.retention_days * DAY_MS
                    deleted += self._backend.delete(
                        "group_id = ? AND ts < ?", [group.group_id, cutoff]
                    )
            self._recount()
        return deleted

    def _recount(self) -> None:
        (rows,) = _one(self._con, f"SELECT count(*) FROM {self._backend.relation()}")
        self._table_rows = int(rows)

    # ------------------------------------------------------------------ streams

    def create_log_stream(self, group_name: str, stream_name: str) -> None:
        validate_name(stream_name, "logStreamName", STREAM_NAME_RE)
        with self._transaction() as con:
            group = self._group(group_name)
            if (group.group_id, stream_name) in self._streams:
                raise ResourceAlreadyExistsException(errors.STREAM_EXISTS)
            stream = _Stream(
                self._next_stream_id,
                group.group_id,
                stream_name,
                self._clock(),
                None,
                None,
                None,
                0,
            )
            con.execute(
                "INSERT INTO log_streams VALUES (?, ?, ?, ?, NULL, NULL, NULL, 0)",
                [stream.stream_id, group.group_id, stream_name, stream.creation_time],
            )
            self._next_stream_id += 1
            self._streams[(group.group_id, stream_name)] = stream

    def delete_log_stream(self, group_name: str, stream_name: str) -> None:
        self.flush()
        with self._transaction() as con:
            _, stream = self._stream(group_name, stream_name)
            self._backend.delete("stream_id = ?", [stream.stream_id])
            con.execute("DELETE FROM log_streams WHERE stream_id = ?", [stream.stream_id])
            del self._streams[(stream.group_id, stream_name)]
            self._recount()

    def describe_log_streams(
        self,
        group_name: str,
        *,
        log_stream_name_prefix: str | None = None,
        order_by: str = "LogStreamName",
        descending: bool = False,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        size = check_limit(limit, 50, 50)
        if order_by not in ("LogStreamName", "LastEventTime"):
            raise errors.validation_error(
                order_by,
                "orderBy",
                "Member must satisfy enum value set: [LogStreamName, LastEventTime]",
            )
        if order_by == "LastEventTime" and log_stream_name_prefix:
            raise InvalidParameterException(
                "Cannot order by LastEventTime with a logStreamNamePrefix."
            )
        with self._lock:
            group = self._group(group_name)
            streams = [
                s
                for (gid, name), s in self._streams.items()
                if gid == group.group_id and name.startswith(log_stream_name_prefix or "")
            ]
            if order_by == "LogStreamName":
                streams.sort(key=lambda s: s.name, reverse=descending)
            else:
                streams.sort(key=lambda s: (s.last_ts or 0, s.name), reverse=descending)
            page, token = paginate(streams, size, next_token)
            result: dict[str, Any] = {"logStreams": [self._describe_stream(group, s) for s in page]}
        if token:
            result["nextToken"] = token
        return result

    def _describe_stream(self, group: _Group, stream: _Stream) -> dict[str, Any]:
        item: dict[str, Any] = {"logStreamName": stream.name, "creationTime": stream.creation_time}
        if stream.first_ts is not None:
            item.update(
                firstEventTimestamp=stream.first_ts,
                lastEventTimestamp=stream.last_ts,
                lastIngestionTime=stream.last_ingestion,
                uploadSequenceToken=_sequence_token(stream),
            )
        item["arn"] = (
            f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{group.name}"
            f":log-stream:{stream.name}"
        )
        # AWS stopped reporting stream sizes in 2019: always 0.
        item["storedBytes"] = 0
        return item

    # ------------------------------------------------------------------ ingestion

    def put_log_events(
        self,
        group_name: str,
        stream_name: str,
        events: Sequence[dict[str, Any]],
        *,
        aws_rules: bool = False,
    ) -> dict[str, Any]:
        """Store a batch of events ``{"timestamp": ms, "message": str[, "ingestionTime": ms]}``.

        The library call (the default) stores every event it is given -- nothing is lost: a
        batch out of order is sorted by timestamp (stably), any age and any span are accepted
        (logs from 2005 too), and an event's ``ingestionTime`` is its own where given, else now.
        Only an empty batch or an unknown group or stream is an error.

        ``aws_rules=True`` is PutLogEvents as AWS applies it on the wire (the API server passes
        it): the batch must be in chronological order and span at most 24 hours, and events too
        old (14 days), too new (2 hours) or past the group's retention are left out and reported
        in ``rejectedLogEventsInfo``. A batch whose events all carry ``ingestionTime`` is an
        import of logs recorded elsewhere: it is sorted instead of refused, has no span limit,
        and is checked against each event's own ingestion time.
        """
        if not events:
            raise errors.validation_error(
                "[]", "logEvents", "Member must have length greater than or equal to 1"
            )
        now = self._clock()
        timestamps = [e["timestamp"] for e in events]
        ingestions = [e.get("ingestionTime", now) for e in events]
        shipping = aws_rules and not all("ingestionTime" in e for e in events)
        if timestamps != sorted(timestamps):  # C-speed check; sorted() is O(n) on sorted data
            if shipping:
                raise InvalidParameterException(errors.NOT_CHRONOLOGICAL)
            order = sorted(range(len(events)), key=timestamps.__getitem__)
            events = [events[i] for i in order]
            timestamps = [timestamps[i] for i in order]
            ingestions = [ingestions[i] for i in order]
        if shipping and timestamps[-1] - timestamps[0] > DAY_MS:
            raise InvalidParameterException(errors.SPAN_TOO_LONG)
        with self._lock:
            group, stream = self._stream(group_name, stream_name)
            rejected: dict[str, int] = {}
            first, last = 0, len(events)
            if aws_rules:
                rejected, first, last = rejections(timestamps, ingestions, group.retention_days)
            if first < last:
                if first or last < len(events):
                    events, timestamps = events[first:last], timestamps[first:last]
                    ingestions = ingestions[first:last]
                self._accept(group, stream, events, timestamps, ingestions)
            stream.sequence += 1
            result: dict[str, Any] = {"nextSequenceToken": _sequence_token(stream)}
            if self._journal.rows >= self._flush_rows:
                self._flush(whole_row_groups=True)
        if rejected:
            result["rejectedLogEventsInfo"] = rejected
        return result

    def _accept(
        self,
        group: _Group,
        stream: _Stream,
        events: Sequence[dict[str, Any]],
        timestamps: list[int],
        ingestions: list[int],
    ) -> None:
        """Journal accepted events (durable on return) and update the stream's statistics."""
        count = len(events)
        seq = self._next_seq
        messages = pa.array([e["message"] for e in events], pa.string())
        self._journal.append(
            pa.record_batch(
                [
                    pa.array(np.arange(seq, seq + count, dtype=np.int64)),
                    pa.repeat(pa.scalar(group.group_id, pa.int32()), count),
                    pa.repeat(pa.scalar(stream.stream_id, pa.int32()), count),
                    pa.array(timestamps, pa.int64()),
                    pa.array(ingestions, pa.int64()),
                    messages,
                ],
                schema=JOURNAL_SCHEMA,
            )
        )
        self._next_seq += count
        # UTF-8 bytes, as the ``bytes`` column (and AWS's event size) counts them.
        group.stored_bytes += int(pc.sum(pc.binary_length(messages)).as_py() or 0) + 26 * count
        self._touch(group, stream, timestamps[0], timestamps[-1], max(ingestions))

    def _touch(self, group: _Group, stream: _Stream, low: int, high: int, top: int) -> None:
        stream.first_ts = low if stream.first_ts is None else min(stream.first_ts, low)
        stream.last_ts = high if stream.last_ts is None else max(stream.last_ts, high)
        stream.last_ingestion = (
            top if stream.last_ingestion is None else max(stream.last_ingestion, top)
        )
        self._dirty_groups.add(group.name)
        self._dirty_streams.add((stream.group_id, stream.name))

    def flush(self) -> None:
        """Move every journaled event into DuckDB, JSON-shredded, in one transaction."""
        self._flush(whole_row_groups=False)

    def _flush(self, *, whole_row_groups: bool) -> None:
        """Move journaled events into DuckDB; with ``whole_row_groups`` only as many as fill
        DuckDB row groups exactly, the rest staying journaled for the next flush.

        Why: an append that ends in a partial row group makes the next append reopen it, and
        the checkpoint then re-compresses the whole group -- about as costly as the insert.
        """
        with self._lock:
            table = self._journal.table()
            keep = table.num_rows
            if whole_row_groups:
                keep = (self._table_rows + keep) // ROW_GROUP_ROWS * ROW_GROUP_ROWS
                keep -= self._table_rows
            if keep <= 0:
                return
            moved, rest = table.slice(0, keep), table.slice(keep)
            pending = _bytes_by_group(rest)
            with self._transaction() as con:
                con.register("_batch", moved)
                try:
                    self._shred_into_backend(con)
                finally:
                    con.unregister("_batch")
                top = int(pc.max(moved.column("seq")).as_py())
                con.execute("UPDATE meta SET value = ? WHERE key = 'flushed_seq'", [top])
                for name in self._dirty_groups & set(self._groups):
                    g = self._groups[name]
                    # Bytes of events still journaled are counted again when a reopen replays.
                    con.execute(
                        "UPDATE log_groups SET stored_bytes = ? WHERE group_id = ?",
                        [g.stored_bytes - pending.get(g.group_id, 0), g.group_id],
                    )
                for key in self._dirty_streams & set(self._streams):
                    st = self._streams[key]
                    con.execute(
                        "UPDATE log_streams SET first_ts = ?, last_ts = ?, last_ingestion = ?,"
                        " sequence = ? WHERE stream_id = ?",
                        [st.first_ts, st.last_ts, st.last_ingestion, st.sequence, st.stream_id],
                    )
            self._table_rows += keep
            if not pending:
                self._dirty_groups.clear()
            self._dirty_streams.clear()
            self._journal.clear()
            for batch in rest.to_batches():
                self._journal.append(batch)

    def _shred_into_backend(self, con: Any) -> None:
        # Discovery and extraction read the Arrow batch in place (no staging copy). A message
        # that is not JSON must give NULLs, not an error: discovery wraps it in ``try``, and
        # extraction reads '{}' instead (cheaper than ``try`` on the widest statement) -- only
        # when discovery met such a message, as the guard parses every message once more.
        leaves, all_objects = ingest.discover_batch(con, "_batch")
        new = [leaf.name for leaf in leaves if leaf.name not in self._columns]
        ordered = list(leaves)
        if new:
            added = {
                name: f"f_{len(self._columns) + i}" for i, name in enumerate(dict.fromkeys(new))
            }
            self._backend.add_columns(list(added.values()))
            con.executemany("INSERT INTO fields VALUES (?, ?)", [list(kv) for kv in added.items()])
            self._columns.update(added)
        extracted = list(ingest.extraction_columns(ordered, self._columns))
        columns = [*BASE_COLUMNS, *(c for c, _ in extracted)]
        selects = [
            "seq, group_id, stream_id, ts, ingestion, strlen(message), message",
            *(expr for _, expr in extracted),
        ]
        inner = "_batch"
        if leaves:
            source = (
                "message"
                if all_objects
                else "CASE WHEN json_valid(message) AND ltrim(message, ' \t\n\r') LIKE '{%'"
                " THEN message ELSE '{}' END"
            )
            inner = (
                f"(SELECT *, json_extract_string({source}, {ingest.pointer_list(ordered)}) AS _l"
                " FROM _batch)"
            )
        self._backend.append(columns, f"SELECT {', '.join(selects)} FROM {inner}")

    # ------------------------------------------------------------------ reading

    def get_log_events(
        self,
        group_name: str,
        stream_name: str,
        start_time: int | None = None,
        end_time: int | None = None,
        start_from_head: bool = False,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        size = check_limit(limit, MAX_EVENTS_LIMIT, MAX_EVENTS_LIMIT)
        with self._lock:
            self.flush()
            _, stream = self._stream(group_name, stream_name)
            return reading.get_log_events(
                self._con,
                self._backend.relation(),
                stream.stream_id,
                start_time=start_time,
                end_time=end_time,
                start_from_head=start_from_head,
                limit=size,
                next_token=next_token,
            )

    def filter_log_events(
        self,
        groups: str | Sequence[str],
        filter_pattern: str | None = None,
        start: int | None = None,
        end: int | None = None,
        stream_names: Sequence[str] | None = None,
        stream_name_prefix: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        size = check_limit(limit, MAX_EVENTS_LIMIT, MAX_EVENTS_LIMIT)
        if stream_names is not None and stream_name_prefix is not None:
            raise InvalidParameterException(
                "logStreamNames and logStreamNamePrefix are mutually exclusive"
            )
        names = [groups] if isinstance(groups, str) else list(groups)
        with self._lock:
            self.flush()
            ids = [self._group(n).group_id for n in names]
            stream_ids: list[int] | None = None
            if stream_names is not None or stream_name_prefix is not None:
                wanted = set(stream_names or ())
                stream_ids = [
                    s.stream_id
                    for (gid, name), s in self._streams.items()
                    if gid in ids
                    and (name in wanted if stream_names is not None
                         else name.startswith(stream_name_prefix or ""))
                ]  # fmt: skip
            return reading.filter_log_events(
                self._con,
                self._backend.relation(),
                ids,
                {s.stream_id: s.name for s in self._streams.values()},
                filter_pattern=filter_pattern,
                start=start,
                end=end,
                stream_ids=stream_ids,
                limit=size,
                next_token=next_token,
            )

    def query(
        self,
        query: str,
        log_groups: Sequence[str] = (),
        start_time: int = 0,
        end_time: int = 0,
        limit: int | None = None,
    ) -> QueryResult:
        """Run a Logs Insights query; times in epoch seconds, both ends inclusive.

        ``SOURCE logGroups(namePrefix: [...])`` in the query selects the groups instead of
        ``log_groups``. A malformed query raises ``MalformedQueryException``.
        """
        from batchyard.logs.query import run_query

        return run_query(self, query, log_groups, start_time, end_time, limit)

    def get_log_record(self, ptr: str) -> dict[str, str]:
        """GetLogRecord: the event behind an ``@ptr`` of a query result, fields as strings."""
        try:
            seq = int(ptr, 16)
        except ValueError as exc:
            raise InvalidParameterException("The specified log record pointer is invalid.") from exc
        with self._lock:
            self.flush()
            columns = self._columns
            names = ", ".join(f'"{c}"' for c in columns.values())
            row = self._con.execute(
                f"SELECT ts, ingestion, message, group_id, stream_id{', ' + names if names else ''}"
                f" FROM {self._backend.relation()} WHERE seq = ?",
                [seq],
            ).fetchone()
            if row is None:
                raise ResourceNotFoundException("The specified log record does not exist.")
            group = next(g for g in self._groups.values() if g.group_id == row[3])
            stream = next(s for s in self._streams.values() if s.stream_id == row[4])
        record = {
            "@timestamp": str(row[0]),
            "@ingestionTime": str(row[1]),
            "@message": row[2],
            "@log": f"{self.account_id}:{group.name}",
            "@logStream": stream.name,
        }
        record.update({n: v for n, v in zip(columns, row[5:], strict=True) if v is not None})
        return record

    def now_ms(self) -> int:
        return self._clock()

    @property
    def connection(self) -> Any:
        """The DuckDB connection, every accepted event flushed into it (hold ``lock``)."""
        self.flush()
        return self._con

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @property
    def events_relation(self) -> str:
        return self._backend.relation()

    def field_columns(self) -> dict[str, str]:
        """Discovered field name -> physical column, a copy (after flushing the journal)."""
        with self._lock:
            self.flush()
            return dict(self._columns)

    def group_ids(self, names: Sequence[str]) -> dict[str, int]:
        with self._lock:
            return {n: self._group(n).group_id for n in names}

    def group_names(self) -> list[str]:
        with self._lock:
            return sorted(self._groups)

    def stream_names(self) -> dict[int, str]:
        with self._lock:
            return {s.stream_id: s.name for s in self._streams.values()}

    def create_lookup_table(self, name: str, csv_text: str) -> None:
        """A lookup table for Insights' ``lookup`` command: CSV with a header row, all VARCHAR."""
        rows = list(csv.reader(io.StringIO(csv_text)))
        if not rows or not rows[0]:
            raise InvalidParameterException("The lookup table must have a header row.")
        header, body = rows[0], rows[1:]
        with self._transaction() as con:
            existing = con.execute(
                "SELECT table_name FROM lookup_tables WHERE name = ?", [name]
            ).fetchone()
            if existing:
                con.execute(f'DROP TABLE "{existing[0]}"')
                con.execute("DELETE FROM lookup_tables WHERE name = ?", [name])
            (count,) = _one(con, "SELECT count(*) FROM lookup_tables")
            table = f"lookup_{count}_{abs(hash(name)) % 10**9}"
            columns = ", ".join(_quote(h) + " VARCHAR" for h in header)
            con.execute(f'CREATE TABLE "{table}" ({columns})')
            width = len(header)
            if body:
                con.executemany(
                    f'INSERT INTO "{table}" VALUES ({", ".join("?" * width)})',
                    [(row + [""] * width)[:width] for row in body],
                )
            con.execute("INSERT INTO lookup_tables VALUES (?, ?, ?)", [name, table, header])
            self._lookups = None

    def lookup_tables(self) -> dict[str, tuple[str, list[str]]]:
        """Lookup table name -> (physical table, its columns: the CSV header)."""
        with self._lock:
            if self._lookups is None:  # read once: every query asks
                rows = self._con.execute(
                    "SELECT name, table_name, columns FROM lookup_tables"
                ).fetchall()
                self._lookups = {name: (table, list(cols)) for name, table, cols in rows}
            return {name: (table, list(cols)) for name, (table, cols) in self._lookups.items()}

    def lookup_table_infos(self) -> dict[str, LookupTableInfo]:
        """The lookup tables as the Insights compiler takes them."""
        from batchyard.logs.insights import LookupTableInfo

        return {
            name: LookupTableInfo(_quote(table), tuple(columns))
            for name, (table, columns) in self.lookup_tables().items()
        }


def _bytes_by_group(table: pa.Table) -> dict[int, int]:
    """UTF-8 bytes (plus AWS's 26 per event) of ``table``'s events, by group."""
    if not table.num_rows:
        return {}
    sizes = (
        pa.table(
            {
                "group_id": table.column("group_id"),
                "size": pc.add(pc.binary_length(table.column("message")), 26),
            }
        )
        .group_by("group_id")
        .aggregate([("size", "sum")])
    )
    return dict(zip(sizes["group_id"].to_pylist(), sizes["size_sum"].to_pylist(), strict=True))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _one(con: Any, sql: str) -> tuple[Any, ...]:
    row = con.execute(sql).fetchone()
    assert row is not None, sql
    return tuple(row)


def _sequence_token(stream: _Stream) -> str:
    return f"{stream.stream_id:028d}{stream.sequence:028d}"
