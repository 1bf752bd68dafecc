"""``cron()``, ``rate()`` and ``at()`` as EventBridge Scheduler evaluates them.

``parse(expression, timezone, ...)`` returns a :class:`Schedule`-independent
:class:`Expression` whose :meth:`~Expression.next_after` gives the next fire instant (aware
UTC) strictly after a given instant, within ``StartDate``/``EndDate``.

DST, as AWS documents it for Scheduler: a local time that does not exist (spring forward) is
skipped; a local time that happens twice (fall back) fires once, at its first occurrence.
``rate()`` is a fixed duration after the previous fire (``rate(1 day)`` = 24 h), so time zones
do not change it. ``at()`` is a local wall-clock time in the schedule's time zone.

``rate(N seconds)`` is a batchyard extension for tests (AWS's finest rate is one minute); it
is accepted only when the caller passes ``allow_seconds=True`` (the server sets it when
``BATCHYARD_SCHEDULER_SECOND_RATES=1``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from batchyard.scheduler.cron import Cron, CronError, parse_cron

SECOND_RATES_ENV = "BATCHYARD_SCHEDULER_SECOND_RATES"
_RATE = re.compile(r"^rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days|second|seconds)\)$")
_AT = re.compile(r"^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class ExpressionError(ValueError):
    """An expression or time zone AWS would refuse; ``str()`` is AWS's message."""


def second_rates_enabled() -> bool:
    return os.environ.get(SECOND_RATES_ENV) == "1"


def invalid_expression(text: str) -> ExpressionError:
    return ExpressionError(f"Invalid Schedule Expression {text}.")


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone ``name`` (default UTC)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ExpressionError(f"Invalid Schedule Expression Timezone {name}.") from None


@dataclass(frozen=True)
class Expression:
    """A parsed schedule expression in its time zone, bounded by start and end dates."""

    text: str
    kind: str  # "cron" | "rate" | "at"
    tz: ZoneInfo
    cron: Cron | None = None
    period: timedelta | None = None
    at: datetime | None = None  # aware UTC instant of an at() expression
    start: datetime | None = None
    end: datetime | None = None

    @property
    def one_time(self) -> bool:
        return self.kind == "at"

    def next_after(self, after: datetime, *, anchor: datetime | None = None) -> datetime | None:
        """The first fire instant strictly after ``after``; ``None`` when there is none.

        ``anchor`` is when a ``rate()`` schedule began (its StartDate or creation time):
        rate fires are ``anchor + k * period``.
        """
        if self.kind == "at":
            assert self.at is not None
            return self.at if self.at > after else None
        floor = after
        if self.start is not None and self.start > after:
            floor = self.start - timedelta(microseconds=1)
        found = self._rate_after(floor, anchor) if self.kind == "rate" else self._cron_after(floor)
        if found is None or (self.end is not None and found > self.end):
            return None
        return found

    def fire_times(self, after: datetime, *, anchor: datetime | None = None) -> Iterator[datetime]:
        """Every fire instant after ``after``, in order (stops after the last one)."""
        current = self.next_after(after, anchor=anchor)
        while current is not None:
            yield current
            current = self.next_after(current, anchor=anchor)

    def _rate_after(self, after: datetime, anchor: datetime | None) -> datetime | None:
        assert self.period is not None
        base = self.start or anchor or after
        if after < base:
            return base
        steps = (after - base) // self.period + 1
        try:
            return base + steps * self.period
        except OverflowError:  # past year 9999: there is no next time
            return None

    def _cron_after(self, after: datetime) -> datetime | None:
        assert self.cron is not None
        local = after.astimezone(self.tz).replace(tzinfo=None)
        start = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for naive in self.cron.local_times(start):
            instant = to_instant(naive, self.tz)
            if instant is not None and instant > after:
                return instant
        return None


def to_instant(naive: datetime, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of local wall-clock ``naive`` with AWS's DST rules: ``None`` if the
    time does not exist (spring forward); the first occurrence if it happens twice."""
    first = naive.replace(tzinfo=tz, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != naive:
        return None
    return instant


def parse(
    text: str,
    timezone: str | None = None,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    allow_seconds: bool | None = None,
) -> Expression:
    """Parse a ScheduleExpression; :class:`ExpressionError` with AWS's message if invalid."""
    tz = zone(timezone)
    seconds_ok = second_rates_enabled() if allow_seconds is None else allow_seconds
    if (match := _RATE.match(text)) is not None:
        value, unit = int(match.group(1)), match.group(2)
        singular = unit.rstrip("s")
        if (value == 1) != (unit == singular) or (singular == "second" and not seconds_ok):
            raise invalid_expression(text)
        period = timedelta(seconds=value * _UNIT_SECONDS[singular])
        return Expression(text, "rate", tz, period=period, start=start, end=end)
    if (match := _AT.match(text)) is not None:
        try:
            y, mo, d, h, mi, se = (int(g) for g in match.groups())
            naive = datetime(y, mo, d, h, mi, se)
        except ValueError:
            raise invalid_expression(text) from None
        instant = to_instant(naive, tz)
        if instant is None:  # a local time skipped by DST never comes
            instant = naive.replace(tzinfo=tz).astimezone(UTC)
        return Expression(text, "at", tz, at=instant)
    if (match := _CRON.match(text)) is not None:
        try:
            cron = parse_cron(match.group(1))
        except CronError:
            raise invalid_expression(text) from None
        return Expression(text, "cron", tz, cron=cron, start=start, end=end)
    raise invalid_expression(text)
