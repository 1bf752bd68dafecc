"""Independent reference evaluation for the Logs Insights fixtures.

The fixture files under ``tests/fixtures/insights/`` pair a query with the rows it must return.
Those rows are computed here, in plain Python, never by ``batchyard.logs`` (this module must not
import it): ``tests/fixtures/insights/generate.py`` writes every case as the query text beside a
small Python pipeline built from the helpers below, so the expected rows come from a second,
deliberately naive implementation of the same semantics.

Data sets
---------
``loghub``: the five LogHub samples in ``tests/fixtures/insights/loghub/``. Each file becomes
log group ``/loghub/<Name>`` with one stream ``<name>-1``; each line (CRLF stripped, nothing else)
is one event whose ``timestamp`` is the line's own time read as UTC, and whose ingestion time is
the timestamp plus one second. Lines without a year are given a fixed one: Linux 2005 (the LogHub
Linux sample is from 2005), OpenSSH 2017. HDFS writes ``yymmdd HHMMSS`` (2008-11-09 ...); Apache
carries its year; Zookeeper has milliseconds.

``sfn``: generated Step Functions execution logs (log level ALL, execution data included), stored
as JSON lines in ``tests/fixtures/insights/sfn/events.jsonl`` by ``generate.py``.

Semantics where the AWS documentation is silent follow the decisions of GitHub issue #3: a glob
``*`` stops at the first match of the text after it and a trailing ``*`` takes the rest, the
pattern may match anywhere, events that do not match keep flowing without the new fields; ``pct``
is nearest-rank, ``stddev`` the sample deviation, ``min``/``max`` numeric over numeric values;
``/`` is float division; timestamp arithmetic is in milliseconds, bins align to the epoch (UTC);
strings sort in the natural order of the Sort page (digits-only values after all others, the
rest compared chunk by chunk).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, getcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "insights"
LOGHUB_DIR = FIXTURES / "loghub"
SFN_EVENTS = FIXTURES / "sfn" / "events.jsonl"
ACCOUNT_ID = "123456789012"

Rec = dict[str, Any]


@dataclass(frozen=True)
class Event:
    group: str
    stream: str
    timestamp: int
    message: str
    ingestion_time: int

    def as_input(self) -> dict[str, Any]:
        """The event as ``put_log_events`` takes it."""
        return {
            "timestamp": self.timestamp,
            "message": self.message,
            "ingestionTime": self.ingestion_time,
        }


class Ts(int):
    """Epoch milliseconds that present as a timestamp; arithmetic on it yields plain ints."""


# --------------------------------------------------------------------------- loading

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}


def _ms(year: int, month: int, day: int, hh: int, mm: int, ss: int, ms: int = 0) -> int:
    moment = datetime(year, month, day, hh, mm, ss, tzinfo=UTC)
    return int(moment.timestamp()) * 1000 + ms


def _apache(line: str) -> int:
    m = re.match(r"\[\w{3} (\w{3}) (\d\d) (\d\d):(\d\d):(\d\d) (\d{4})\]", line)
    assert m, line
    mon, day, hh, mm, ss, year = m.groups()
    return _ms(int(year), _MONTHS[mon], int(day), int(hh), int(mm), int(ss))


def _hdfs(line: str) -> int:
    m = re.match(r"(\d\d)(\d\d)(\d\d) (\d\d)(\d\d)(\d\d) ", line)
    assert m, line
    yy, mo, dd, hh, mm, ss = (int(g) for g in m.groups())
    return _ms(2000 + yy, mo, dd, hh, mm, ss)


def _syslog(year: int) -> Callable[[str], int]:
    def parse(line: str) -> int:
        m = re.match(r"(\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) ", line)
        assert m, line
        mon, day, hh, mm, ss = m.groups()
        return _ms(year, _MONTHS[mon], int(day), int(hh), int(mm), int(ss))

    return parse


def _zookeeper(line: str) -> int:
    m = re.match(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3}) ", line)
    assert m, line
    return _ms(*(int(g) for g in m.groups()))


# file, log group, stream, timestamp reader
LOGHUB_FILES: tuple[tuple[str, str, str, Callable[[str], int]], ...] = (
    ("Apache_2k.log", "/loghub/Apache", "apache-1", _apache),
    ("HDFS_2k.log", "/loghub/HDFS", "hdfs-1", _hdfs),
    ("Linux_2k.log", "/loghub/Linux", "linux-1", _syslog(2005)),
    ("OpenSSH_2k.log", "/loghub/OpenSSH", "openssh-1", _syslog(2017)),
    ("Zookeeper_2k.log", "/loghub/Zookeeper", "zookeeper-1", _zookeeper),
)


def loghub_events() -> list[Event]:
    events: list[Event] = []
    for name, group, stream, reader in LOGHUB_FILES:
        path = LOGHUB_DIR / name
        if not path.exists():
            raise FileNotFoundError(f"LogHub sample missing: {path} (see its README.md)")
        text = path.read_bytes().decode("utf-8")
        for line in text.split("\r\n"):
            if line:
                ts = reader(line)
                events.append(Event(group, stream, ts, line, ts + 1000))
    return events


def sfn_events() -> list[Event]:
    events = []
    for line in SFN_EVENTS.read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        events.append(
            Event(
                raw["group"], raw["stream"], raw["timestamp"], raw["message"], raw["ingestionTime"]
            )
        )
    return events


DATASETS: dict[str, Callable[[], list[Event]]] = {"loghub": loghub_events, "sfn": sfn_events}


# --------------------------------------------------------------------------- records


def _flatten(prefix: str, value: Any, out: Rec) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, item, out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _flatten(f"{prefix}.{i}", item, out)
    elif value is not None:
        out[prefix] = value


def record(event: Event) -> Rec:
    rec: Rec = {
        "@timestamp": Ts(event.timestamp),
        "@message": event.message,
        "@logStream": event.stream,
        "@log": f"{ACCOUNT_ID}:{event.group}",
        "@ingestionTime": Ts(event.ingestion_time),
    }
    if event.message.startswith("{"):
        try:
            body = json.loads(event.message)
        except ValueError:
            body = None
        if isinstance(body, dict):
            # A top-level key starting with "@" is shown with one more "@" ("@@requestId"), so
            # it cannot shadow a system field (Discovered fields page).
            _flatten("", {(f"@{k}" if k.startswith("@") else k): v for k, v in body.items()}, rec)
    return rec


def scan(events: Iterable[Event], groups: Sequence[str], start: int, end: int) -> list[Rec]:
    """Records of ``groups`` with ``start <= timestamp <= end`` (seconds, both inclusive)."""
    lo, hi = start * 1000, end * 1000
    return [record(e) for e in events if e.group in groups and lo <= e.timestamp <= hi]


# --------------------------------------------------------------------------- values

_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


def num(value: Any) -> int | float | None:
    """The numeric reading of a value (numeric strings count), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return int(value) if re.fullmatch(r"-?\d+", value) else float(value)
    return None


def present(value: Any) -> str:
    """GetQueryResults' string for a value."""
    if isinstance(value, Ts):
        moment = datetime.fromtimestamp(int(value) // 1000, tz=UTC)
        return f"{moment:%Y-%m-%d %H:%M:%S}.{int(value) % 1000:03d}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Integral results print without a fraction ("3"), others in shortest round-trip form.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Fraction):
        return present(float(value) if value.denominator != 1 else int(value))
    return str(value)


def natural_key(value: Any) -> tuple[Any, ...]:
    """Sort key of the Sort page's "updated natural sorting".

    Values of digits only come after all others and compare numerically. Other values are cut
    into chunks of consecutive digits and of consecutive non-digits, compared chunk by chunk:
    two digit chunks by length, then value; otherwise the chunks' texts by Unicode order, so a
    non-digit chunk that is a prefix of the other comes first ("Jul 10" before "Jul  1": the
    chunk "Jul " sorts before "Jul  "), and a digit chunk meets a non-digit one by its first
    character ("2345 is compared with @ in the unicode order").
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (1, value, "")
    if isinstance(value, str) and value.isdigit():
        # Equal values keep the page's example order "0, 01, 1": the text breaks the tie.
        return (1, int(value), value)
    chunks: list[tuple[int, int, int, str]] = []
    for chunk in re.findall(r"\d+|\D+", str(value)):
        if chunk.isdigit():
            chunks.append((ord("0"), len(chunk), int(chunk), ""))
        else:
            # No non-digit character lies between "0" and "9", so the first element alone
            # decides between a digit chunk and a non-digit chunk.
            chunks.append((ord(chunk[0]), 0, 0, chunk))
    return (0, tuple(chunks))


def rows(recs: Iterable[Rec], columns: Sequence[str]) -> list[dict[str, str]]:
    """Present records as result rows: only the columns that have a value, in column order."""
    return [{c: present(r[c]) for c in columns if r.get(c) is not None} for r in recs]


# --------------------------------------------------------------------------- commands


def where(recs: Iterable[Rec], pred: Callable[[Rec], Any]) -> list[Rec]:
    return [r for r in recs if pred(r)]


def with_fields(recs: Iterable[Rec], **exprs: Callable[[Rec], Any]) -> list[Rec]:
    out = []
    for r in recs:
        r = dict(r)
        for name, fn in exprs.items():
            r[name] = fn(r)
        out.append(r)
    return out


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Glob of ``parse``: each ``*`` is lazy up to the next literal, a trailing ``*`` greedy."""
    pieces = pattern.split("*")
    out = re.escape(pieces[0])
    for i, literal in enumerate(pieces[1:], 1):
        last = i == len(pieces) - 1 and literal == ""
        out += "(.*)" if last else f"(.*?){re.escape(literal)}"
    return re.compile(out, re.DOTALL)


def parse_glob(recs: Iterable[Rec], field: str, pattern: str, names: Sequence[str]) -> list[Rec]:
    regex = glob_regex(pattern)
    out = []
    for r in recs:
        value = r.get(field)
        m = regex.search(value) if isinstance(value, str) else None
        r = dict(r)
        for name in names:
            r.pop(name, None)
        if m:
            r.update(zip(names, m.groups(), strict=True))
        out.append(r)
    return out


def parse_regex(recs: Iterable[Rec], field: str, pattern: str) -> list[Rec]:
    regex = re.compile(pattern.replace("(?<", "(?P<"))
    out = []
    for r in recs:
        value = r.get(field)
        m = regex.search(value) if isinstance(value, str) else None
        r = dict(r)
        for name in regex.groupindex:
            r.pop(name, None)
        if m:
            r.update({k: v for k, v in m.groupdict().items() if v is not None})
        out.append(r)
    return out


Agg = Callable[[list[Rec]], Any]


def stats(
    recs: Iterable[Rec],
    aggs: Sequence[tuple[str, Agg]],
    by: Sequence[tuple[str, Callable[[Rec], Any]]] = (),
) -> list[Rec]:
    groups: dict[tuple[Any, ...], list[Rec]] = {}
    for r in recs:
        groups.setdefault(tuple(fn(r) for _, fn in by), []).append(r)
    out = []
    for key, members in groups.items():
        row: Rec = {name: k for (name, _), k in zip(by, key, strict=True)}
        for name, agg in aggs:
            row[name] = agg(members)
        out.append(row)
    return out


def sort(recs: Iterable[Rec], field: str, desc: bool = False) -> list[Rec]:
    return sorted(recs, key=lambda r: natural_key(r[field]), reverse=desc)


def dedup(recs: Sequence[Rec], fields: Sequence[str], already_sorted: bool = False) -> list[Rec]:
    ordered = list(recs) if already_sorted else sorted(recs, key=lambda r: -r["@timestamp"])
    seen: set[tuple[Any, ...]] = set()
    out = []
    for r in ordered:
        key = tuple(r.get(f) for f in fields)
        if any(k is None for k in key):
            out.append(r)  # nulls are never duplicates
        elif key not in seen:
            seen.add(key)
            out.append(r)
    return out


def unnest(recs: Iterable[Rec], field: str, into: str) -> list[Rec]:
    out = []
    for r in recs:
        value = r.get(field)
        items = value if isinstance(value, list) else [] if value is None else [value]
        for item in items:
            out.append({**r, into: item})
    return out


def bin_ms(period_ms: int) -> Callable[[Rec], Ts]:
    return lambda r: Ts(r["@timestamp"] // period_ms * period_ms)


# --------------------------------------------------------------------------- aggregations


def _nums(recs: Iterable[Rec], field: str) -> list[int | float]:
    values = [num(r.get(field)) for r in recs]
    return [v for v in values if v is not None]


def count() -> Agg:
    return len


def count_of(field: str) -> Agg:
    return lambda rs: sum(1 for r in rs if r.get(field) is not None)


def count_distinct(field: str) -> Agg:
    return lambda rs: len({r[field] for r in rs if r.get(field) is not None})


def total(field: str) -> Agg:
    def agg(rs: list[Rec]) -> Any:
        exact = sum((Fraction(v) for v in _nums(rs, field)), Fraction(0))
        return int(exact) if exact.denominator == 1 else float(exact)

    return agg


def avg(field: str) -> Agg:
    def agg(rs: list[Rec]) -> Any:
        values = _nums(rs, field)
        exact = sum((Fraction(v) for v in values), Fraction(0)) / len(values)
        return float(exact)

    return agg


def minimum(field: str) -> Agg:
    return lambda rs: min(_nums(rs, field))


def maximum(field: str) -> Agg:
    return lambda rs: max(_nums(rs, field))


def pct(field: str, p: float) -> Agg:
    def agg(rs: list[Rec]) -> Any:
        values = sorted(_nums(rs, field))
        rank = max(1, math.ceil(p / 100 * len(values)))
        return values[rank - 1]

    return agg


def stddev(field: str) -> Agg:
    def agg(rs: list[Rec]) -> Any:
        values = [Fraction(v) for v in _nums(rs, field)]
        mean = sum(values, Fraction(0)) / len(values)
        var = sum(((v - mean) ** 2 for v in values), Fraction(0)) / (len(values) - 1)
        getcontext().prec = 60
        return float((Decimal(var.numerator) / Decimal(var.denominator)).sqrt())

    return agg


def earliest(field: str) -> Agg:
    return lambda rs: _at_extreme(rs, field, latest=False)


def latest(field: str) -> Agg:
    return lambda rs: _at_extreme(rs, field, latest=True)


def _at_extreme(rs: list[Rec], field: str, latest: bool) -> Any:
    present_ = [r for r in rs if r.get(field) is not None]
    edge = (max if latest else min)(r["@timestamp"] for r in present_)
    values = {repr(r[field]) for r in present_ if r["@timestamp"] == edge}
    # The generator only asks where the answer is unambiguous.
    assert len(values) == 1, f"earliest/latest tie on {field}: {values}"
    return next(r[field] for r in present_ if r["@timestamp"] == edge)


def sorts_first(field: str) -> Agg:
    return lambda rs: min((r[field] for r in rs if r.get(field) is not None), key=natural_key)


def sorts_last(field: str) -> Agg:
    return lambda rs: max((r[field] for r in rs if r.get(field) is not None), key=natural_key)


def assert_no_ties(recs: Sequence[Rec], field: str, upto: int | None = None) -> None:
    """Guard for ordered cases: ties on the sort key among rows that differ make order undefined."""
    keys = [natural_key(r[field]) for r in recs]
    n = len(recs) if upto is None else min(upto + 1, len(recs))
    for i in range(1, n):
        if keys[i] == keys[i - 1] and recs[i] != recs[i - 1]:
            raise AssertionError(f"tie on {field} at row {i}: {recs[i - 1]} / {recs[i]}")
