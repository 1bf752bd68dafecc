"""cron()/rate()/at() against AWS's documented examples, DST rules, leap days, L, W and #.

Each case: expression, time zone, the instant to search after, and the next fire times
expected — written as local wall-clock times with their UTC offset, as a reader checks them.
"""

from __future__ import annotations

import contextlib
import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batchyard.scheduler.expressions import ExpressionError, parse

CASES = [
    # AWS docs (EventBridge cron examples)
    ("cron(0 10 * * ? *)", "UTC", "2026-03-01T10:00:00Z",
     ["2026-03-02T10:00:00+00:00", "2026-03-03T10:00:00+00:00"]),
    ("cron(15 12 * * ? *)", "UTC", "2026-03-01T00:00:00Z",
     ["2026-03-01T12:15:00+00:00", "2026-03-02T12:15:00+00:00"]),
    ("cron(0 18 ? * MON-FRI *)", "UTC", "2026-11-27T18:00:00Z",  # a Friday
     ["2026-11-30T18:00:00+00:00", "2026-12-01T18:00:00+00:00"]),
    ("cron(0 8 1 * ? *)", "UTC", "2026-01-15T00:00:00Z",
     ["2026-02-01T08:00:00+00:00", "2026-03-01T08:00:00+00:00"]),
    ("cron(0/15 * * * ? *)", "UTC", "2026-01-01T00:07:00Z",
     ["2026-01-01T00:15:00+00:00", "2026-01-01T00:30:00+00:00", "2026-01-01T00:45:00+00:00"]),
    ("cron(0/5 8-17 ? * MON-FRI *)", "UTC", "2026-11-27T17:54:00Z",
     ["2026-11-27T17:55:00+00:00", "2026-11-30T08:00:00+00:00"]),
    ("cron(1/10 * * * ? *)", "UTC", "2026-01-01T00:00:00Z",
     ["2026-01-01T00:01:00+00:00", "2026-01-01T00:11:00+00:00"]),
    # ranges wrap past midnight (doc: 0/30 20-2 ? * MON-FRI *)
    ("cron(0/30 20-2 ? * MON-FRI *)", "UTC", "2026-11-26T23:45:00Z",
     ["2026-11-27T00:00:00+00:00", "2026-11-27T00:30:00+00:00", "2026-11-27T01:00:00+00:00"]),
    # L: last day of the month, last Friday (doc: 15 10 ? * 6L 2019-2022), last weekday
    ("cron(0 12 L * ? *)", "UTC", "2026-01-31T12:00:00Z",
     ["2026-02-28T12:00:00+00:00", "2026-03-31T12:00:00+00:00"]),
    ("cron(15 10 ? * 6L 2019-2022)", "UTC", "2022-10-01T00:00:00Z",
     ["2022-10-28T10:15:00+00:00", "2022-11-25T10:15:00+00:00", "2022-12-30T10:15:00+00:00"]),
    ("cron(0 12 LW * ? *)", "UTC", "2026-01-01T00:00:00Z",  # Jan 31 2026 is a Saturday
     ["2026-01-30T12:00:00+00:00", "2026-02-27T12:00:00+00:00"]),
    # W: nearest weekday, never leaving the month (Nov 1 2026 is a Sunday -> Monday 2nd)
    ("cron(0 9 1W * ? *)", "UTC", "2026-10-15T00:00:00Z",
     ["2026-11-02T09:00:00+00:00", "2026-12-01T09:00:00+00:00"]),
    ("cron(0 9 15W * ? *)", "UTC", "2026-08-01T00:00:00Z",  # Aug 15 2026 is a Saturday
     ["2026-08-14T09:00:00+00:00", "2026-09-15T09:00:00+00:00"]),
    # #: second Tuesday (doc example 3#2), first Monday
    ("cron(0 9 ? * 3#2 *)", "UTC", "2026-01-01T00:00:00Z",
     ["2026-01-13T09:00:00+00:00", "2026-02-10T09:00:00+00:00"]),
    ("cron(0 9 ? * MON#1 *)", "UTC", "2026-01-01T00:00:00Z",
     ["2026-01-05T09:00:00+00:00", "2026-02-02T09:00:00+00:00"]),
    # leap day: every fourth year
    ("cron(0 0 29 2 ? *)", "UTC", "2025-01-01T00:00:00Z",
     ["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"]),
    # years and names
    ("cron(0 0 1 JAN ? 2027,2029)", "UTC", "2026-06-01T00:00:00Z",
     ["2027-01-01T00:00:00+00:00", "2029-01-01T00:00:00+00:00"]),
    ("cron(0 0 1 1 ? 2027)", "UTC", "2027-01-01T00:00:00Z", []),
    # DST, America/New_York: 2026-03-08 02:00 -> 03:00; 2026-11-01 02:00 -> 01:00
    ("cron(30 2 * * ? *)", "America/New_York", "2026-03-07T12:00:00Z",  # 02:30 on the 8th does not exist
     ["2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"]),
    ("cron(30 1 * * ? *)", "America/New_York", "2026-10-31T12:00:00Z",  # 01:30 on the 1st happens twice
     ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]),
    ("cron(0/30 * * * ? *)", "America/New_York", "2026-11-01T04:15:00Z",
     ["2026-11-01T00:30:00-04:00", "2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00",
      "2026-11-01T02:00:00-05:00"]),
    ("cron(0 * * * ? *)", "America/New_York", "2026-03-08T05:30:00Z",
     ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"]),
    ("cron(0 9 * * ? *)", "Europe/Berlin", "2026-03-28T12:00:00Z",
     ["2026-03-29T09:00:00+02:00", "2026-03-30T09:00:00+02:00"]),
    # at(): local time in the zone, once
    ("at(2026-12-01T10:00:00)", "Asia/Kolkata", "2026-11-01T00:00:00Z",
     ["2026-12-01T10:00:00+05:30"]),
    ("at(2026-12-01T10:00:00)", "Asia/Kolkata", "2026-12-01T04:30:00Z", []),
]  # fmt: skip


def _next(expression: str, tz: str, after: str, n: int) -> list[str]:
    expr = parse(expression, tz, allow_seconds=False)
    moment = datetime.fromisoformat(after.replace("Z", "+00:00"))
    out = []
    for instant in expr.fire_times(moment):
        out.append(instant.astimezone(expr.tz).isoformat())
        if len(out) >= n:
            break
    return out


@pytest.mark.parametrize(("expression", "tz", "after", "expected"), CASES)
def test_next_fire_times(expression: str, tz: str, after: str, expected: list[str]) -> None:
    assert _next(expression, tz, after, max(len(expected), 1) if expected else 3) == expected


def test_rate_days_are_24_hours_across_dst() -> None:
    expr = parse("rate(1 day)", "America/New_York")
    anchor = datetime(2026, 3, 7, 17, tzinfo=UTC)  # noon EST
    fires = list(itertools.islice(expr.fire_times(anchor, anchor=anchor), 2))
    local = [f.astimezone(expr.tz).isoformat() for f in fires]
    assert local == ["2026-03-08T13:00:00-04:00", "2026-03-09T13:00:00-04:00"]


def test_start_and_end_dates_bound_recurring_schedules() -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    end = datetime(2026, 5, 3, tzinfo=UTC)
    expr = parse("cron(0 0 * * ? *)", None, start=start, end=end)
    fires = list(expr.fire_times(datetime(2026, 1, 1, tzinfo=UTC)))
    assert fires == [datetime(2026, 5, d, tzinfo=UTC) for d in (1, 2, 3)]


@pytest.mark.parametrize(
    "text",
    [
        "cron(0 1 * * * *)", "cron(7 20 * * NOT *)", "cron(INVALID)", "cron(0 dummy ? * MON-FRI *)",
        "cron(71 8 1 * ? *)", "cron()", "rate(10 seconds)", "rate(10 years)", "rate()", "rate(10)",
        "rate(10 minutess)", "rate(foo minutes)", "rate(-10 minutes)", "rate( 10 minutes )",
        " rate(10 minutes)", "at(2021-12-31T23:59:59Z)", "at(2021-12-31)", "rate(1 minutes)",
        "rate(5 minute)", "rate(0 minutes)", "rate(1 hours)", "cron(0 9 ? * 3#1,6#3 *)",
        "cron(0 9 ? * ? *)", "cron(0 9 * * MON *)", "cron(0 9 32 * ? *)", "cron(0 9 ? * 8 *)",
        "cron(0 9 * * ? 2200)", "at(2026-02-30T10:00:00)",
    ],
)  # fmt: skip
def test_invalid_expressions(text: str) -> None:
    with pytest.raises(ExpressionError) as excinfo:
        parse(text, allow_seconds=False)
    assert str(excinfo.value) == f"Invalid Schedule Expression {text}."


def test_second_rates_only_when_enabled() -> None:
    expr = parse("rate(2 seconds)", allow_seconds=True)
    assert expr.period is not None and expr.period.total_seconds() == 2
    with pytest.raises(ExpressionError):
        parse("rate(1 seconds)", allow_seconds=True)


def test_unknown_time_zone() -> None:
    with pytest.raises(ExpressionError, match="Timezone"):
        parse("rate(5 minutes)", "Mars/Olympus")


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_expression_error(text: str) -> None:
    with contextlib.suppress(ExpressionError):
        parse(text, allow_seconds=True)


@given(
    st.from_regex(
        r"cron\([0-9*/,\-]{1,6} [0-9*/,\-]{1,6} [0-9?LW*/,\-]{1,5} [0-9A-Z*/,\-]{1,5} [0-9?L#*/,\-]{1,5} [0-9*/,\-]{1,9}\)",
        fullmatch=True,
    )
)
def test_cron_like_text_parses_or_raises_expression_error(text: str) -> None:
    try:
        expr = parse(text)
    except ExpressionError:
        return
    after = datetime(2026, 1, 1, tzinfo=UTC)
    found = expr.next_after(after)
    assert found is None or found > after
