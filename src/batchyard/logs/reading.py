"""GetLogEvents and FilterLogEvents over the event relation, with AWS's token semantics.

GetLogEvents tokens are ``f/<56 digits>`` and ``b/<56 digits>`` like AWS's: the digits encode the
position ``(timestamp, seq)`` of the last (forward) or first (backward) event returned, so a
reader that keeps following ``nextForwardToken`` tails the stream, and gets the same token back
when nothing new has arrived. ``startTime`` is inclusive and ``endTime`` exclusive for
GetLogEvents; both are inclusive for FilterLogEvents (as AWS documents them).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from batchyard.logs import errors
from batchyard.logs.errors import InvalidParameterException
from batchyard.logs.filter_pattern import compile_pattern

_DIGITS = 28


def _position_token(direction: str, ts: int, seq: int) -> str:
    return f"{direction}/{ts:0{_DIGITS}d}{seq:0{_DIGITS}d}"


def _parse_position(token: str) -> tuple[str, int, int]:
    direction, _, digits = token.partition("/")
    if direction not in ("f", "b") or len(digits) != 2 * _DIGITS or not digits.isdigit():
        raise InvalidParameterException(errors.INVALID_TOKEN)
    return direction, int(digits[:_DIGITS]), int(digits[_DIGITS:])


def get_log_events(
    con: Any,
    relation: str,
    stream_id: int,
    *,
    start_time: int | None,
    end_time: int | None,
    start_from_head: bool,
    limit: int,
    next_token: str | None,
) -> dict[str, Any]:
    where = ["stream_id = ?"]
    params: list[Any] = [stream_id]
    if start_time is not None:
        where.append("ts >= ?")
        params.append(start_time)
    if end_time is not None:
        where.append("ts < ?")
        params.append(end_time)
    forward = start_from_head
    cursor: tuple[int, int] | None = None
    if next_token is not None:
        direction, ts, seq = _parse_position(next_token)
        forward, cursor = direction == "f", (ts, seq)
        where.append("(ts, seq) > (?, ?)" if forward else "(ts, seq) < (?, ?)")
        params += [ts, seq]
    order = "ts, seq" if forward else "ts DESC, seq DESC"
    rows = con.execute(
        f"SELECT ts, message, ingestion, seq FROM {relation} WHERE {' AND '.join(where)}"
        f" ORDER BY {order} LIMIT {limit}",
        params,
    ).fetchall()
    if not forward:
        rows.reverse()
    events = [{"timestamp": r[0], "message": r[1], "ingestionTime": r[2]} for r in rows]
    if rows:
        first, last = rows[0], rows[-1]
        return {
            "events": events,
            "nextForwardToken": _position_token("f", last[0], last[3]),
            "nextBackwardToken": _position_token("b", first[0], first[3]),
        }
    ts, seq = cursor or (0, 0)
    return {
        "events": [],
        "nextForwardToken": _position_token("f", ts, seq),
        "nextBackwardToken": _position_token("b", ts, seq),
    }


def _encode_cursor(ts: int, seq: int) -> str:
    return base64.urlsafe_b64encode(f"{ts}:{seq}".encode()).decode()


def _decode_cursor(token: str) -> tuple[int, int]:
    try:
        ts, seq = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        return int(ts), int(seq)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidParameterException(errors.INVALID_TOKEN) from exc


def filter_log_events(
    con: Any,
    relation: str,
    group_ids: Sequence[int],
    stream_names: dict[int, str],
    *,
    filter_pattern: str | None,
    start: int | None,
    end: int | None,
    stream_ids: Sequence[int] | None,
    limit: int,
    next_token: str | None,
) -> dict[str, Any]:
    where = [f"group_id IN ({', '.join(str(int(g)) for g in group_ids)})"]
    params: list[Any] = []
    if start is not None:
        where.append("ts >= ?")
        params.append(start)
    if end is not None:
        where.append("ts <= ?")
        params.append(end)
    if stream_ids is not None:
        if not stream_ids:
            return {"events": [], "searchedLogStreams": []}
        where.append(f"stream_id IN ({', '.join(str(int(s)) for s in stream_ids)})")
    if next_token is not None:
        where.append("(ts, seq) > (?, ?)")
        params += list(_decode_cursor(next_token))
    where.append(compile_pattern(filter_pattern, "message"))
    rows = con.execute(
        f"SELECT ts, message, ingestion, seq, stream_id FROM {relation}"
        f" WHERE {' AND '.join(where)} ORDER BY ts, seq LIMIT {limit + 1}",
        params,
    ).fetchall()
    result: dict[str, Any] = {
        "events": [
            {
                "logStreamName": stream_names.get(r[4], ""),
                "timestamp": r[0],
                "message": r[1],
                "ingestionTime": r[2],
                "eventId": f"{r[3]:056d}",
            }
            for r in rows[:limit]
        ],
        "searchedLogStreams": [],
    }
    if len(rows) > limit:
        last = rows[limit - 1]
        result["nextToken"] = _encode_cursor(last[0], last[3])
    return result
