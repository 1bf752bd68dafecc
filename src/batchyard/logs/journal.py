"""The ingestion journal: accepted events wait here, durably, until they are shredded in bulk.

DuckDB is fastest when it ingests and JSON-shreds hundreds of thousands of events at once, and a
commit per PutLogEvents call (10,000 events at most) costs a WAL write and an fsync each. So
``put_log_events`` only validates a batch and appends it to this journal -- an append-only file of
Arrow IPC record batches, each framed by its byte length -- and returns; the store moves the
journal into DuckDB (``LogStore.flush``) when enough has piled up, before any read, and on
close. The flush commits the events together with the highest ``seq`` it moved, then empties
the journal; a store that reopens after a crash replays whatever the journal still holds above
that ``seq``, so an acknowledged event is never lost and never stored twice.

A torn last frame (a crash in the middle of an append) is ignored on replay: that call never
returned, so its events were never acknowledged.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("group_id", pa.int32()),
        ("stream_id", pa.int32()),
        ("ts", pa.int64()),
        ("ingestion", pa.int64()),
        ("message", pa.string()),
    ]
)
_FRAME = struct.Struct("<Q")


class Journal:
    """Pending batches in memory, mirrored to ``path`` when the store is a file."""

    def __init__(self, path: Path | None, *, fsync: bool = False) -> None:
        self.path = path
        self.fsync = fsync
        self.batches: list[pa.RecordBatch] = []
        self.rows = 0
        self._file = open(path, "ab") if path is not None else None  # noqa: SIM115

    def append(self, batch: pa.RecordBatch) -> None:
        if self._file is not None:
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, SCHEMA) as writer:
                writer.write_batch(batch)
            data = sink.getvalue()
            self._file.write(_FRAME.pack(data.size))
            self._file.write(memoryview(data))
            self._file.flush()
            if self.fsync:
                os.fsync(self._file.fileno())
        self.batches.append(batch)
        self.rows += batch.num_rows

    def table(self) -> pa.Table:
        return pa.Table.from_batches(self.batches, SCHEMA)

    def clear(self) -> None:
        self.batches.clear()
        self.rows = 0
        if self._file is not None:
            self._file.truncate(0)
            self._file.seek(0)
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    @staticmethod
    def replay(path: Path, above_seq: int) -> list[pa.RecordBatch]:
        """The complete batches in the file at ``path`` with events above ``above_seq``."""
        if not path.exists():
            return []
        data = path.read_bytes()
        out: list[pa.RecordBatch] = []
        at = 0
        while at + _FRAME.size <= len(data):
            (size,) = _FRAME.unpack_from(data, at)
            frame = data[at + _FRAME.size : at + _FRAME.size + size]
            if len(frame) < size:
                break  # torn tail: that append never returned
            at += _FRAME.size + size
            for batch in pa.ipc.open_stream(frame):
                keep = pc.greater(batch.column(0), above_seq)
                kept = batch.filter(keep)
                if kept.num_rows:
                    out.append(kept)
        return out
