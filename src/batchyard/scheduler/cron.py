"""AWS's six-field ``cron()``: parse once, then find fire times in local wall-clock time.

Why a small evaluator of our own rather than ``croniter``: AWS's grammar is Quartz's, not
Vixie cron's — day-of-week is 1-7 with 1 = Sunday, exactly one of day-of-month and day-of-week
must be ``?``, ``W`` (nearest weekday), ``nL`` (last Friday …) and a year field exist, and hour
ranges may wrap past midnight (``20-2``). ``croniter`` numbers weekdays 0-6, has no ``W``, and
has no year field, so every expression would need translating and its DST handling is not
AWS's. The evaluator below walks calendar days, so each call costs at most a few thousand
cheap set look-ups even for ``cron(0 0 29 2 ? *)``.

A :class:`Cron` knows nothing about time zones: :meth:`Cron.local_times` yields naive local
wall-clock datetimes in order; ``expressions.py`` maps them to instants with AWS's DST rules.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

MONTHS = {name: i for i, name in enumerate(calendar.month_abbr) if name}
MONTHS = {k.upper(): v for k, v in MONTHS.items()}
DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
YEARS = (1970, 2199)


class CronError(ValueError):
    """The expression is not valid AWS cron (the message names the field)."""


@dataclass(frozen=True)
class DaySpec:
    """How a day is chosen: a set of days, or one of the Quartz specials."""

    values: frozenset[int] = frozenset()
    last: bool = False  # dom ``L``: last day of the month
    last_weekday: bool = False  # dom ``LW``
    nearest_weekday: int | None = None  # dom ``15W``
    last_of_week: int | None = None  # dow ``6L``: last Friday
    nth: tuple[int, int] | None = None  # dow ``3#2``: (weekday, n)
    any: bool = False  # ``?``


@dataclass(frozen=True)
class Cron:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    dom: DaySpec
    months: frozenset[int]
    dow: DaySpec
    years: frozenset[int]

    def matches_day(self, day: date) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        if self.dom.any:
            return _dow_matches(self.dow, day)
        return _dom_matches(self.dom, day)

    def local_times(self, start: datetime) -> Iterator[datetime]:
        """Naive local times matching the expression, from ``start`` (inclusive) on."""
        day = start.date()
        first = True
        last_year = max(self.years)
        while day.year <= last_year:
            if day.year not in self.years:
                day = date(day.year + 1, 1, 1)
                first = False
                continue
            if day.month not in self.months:
                day = _next_month(day)
                first = False
                continue
            if self.matches_day(day):
                for hour in self.hours:
                    if first and hour < start.hour:
                        continue
                    for minute in self.minutes:
                        moment = datetime(day.year, day.month, day.day, hour, minute)
                        if first and moment < start:
                            continue
                        yield moment
            day += timedelta(days=1)
            first = False


def _next_month(day: date) -> date:
    if day.month == 12:
        return date(day.year + 1, 1, 1)
    return date(day.year, day.month + 1, 1)


def _aws_weekday(day: date) -> int:
    """1 = Sunday … 7 = Saturday, as AWS numbers them."""
    return (day.weekday() + 1) % 7 + 1


def _dow_matches(spec: DaySpec, day: date) -> bool:
    weekday = _aws_weekday(day)
    days_in_month = calendar.monthrange(day.year, day.month)[1]
    if spec.last_of_week is not None:
        return weekday == spec.last_of_week and day.day + 7 > days_in_month
    if spec.nth is not None:
        wanted, n = spec.nth
        return weekday == wanted and (day.day - 1) // 7 + 1 == n
    return weekday in spec.values


def _dom_matches(spec: DaySpec, day: date) -> bool:
    days_in_month = calendar.monthrange(day.year, day.month)[1]
    if spec.last:
        return day.day == days_in_month
    if spec.last_weekday:
        return day.day == _nearest_weekday(day.year, day.month, days_in_month)
    if spec.nearest_weekday is not None:
        target = min(spec.nearest_weekday, days_in_month)
        return day.day == _nearest_weekday(day.year, day.month, target)
    return day.day in spec.values


def _nearest_weekday(year: int, month: int, target: int) -> int:
    """Quartz's ``W``: the weekday nearest to ``target`` without leaving the month."""
    days_in_month = calendar.monthrange(year, month)[1]
    weekday = date(year, month, target).weekday()  # Monday = 0
    if weekday == 5:  # Saturday: the Friday before, or Monday after when the 1st
        return target - 1 if target > 1 else target + 2
    if weekday == 6:  # Sunday: the Monday after, or Friday before at the month's end
        return target + 1 if target < days_in_month else target - 2
    return target


# --------------------------------------------------------------------------- parsing


def parse_cron(body: str) -> Cron:
    """Parse the inside of ``cron(...)``; :class:`CronError` if it is not valid AWS cron."""
    fields = body.split(" ")
    if len(fields) != 6 or any(not f for f in fields):
        raise CronError("cron() needs six fields separated by single spaces")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise CronError("exactly one of day-of-month and day-of-week must be '?'")
    return Cron(
        minutes=tuple(sorted(_values(minute, 0, 59, {}, "minutes"))),
        hours=tuple(sorted(_values(hour, 0, 23, {}, "hours"))),
        dom=_parse_dom(dom),
        months=frozenset(_values(month, 1, 12, MONTHS, "month")),
        dow=_parse_dow(dow),
        years=frozenset(_values(year, *YEARS, {}, "year")),
    )


def _parse_dom(text: str) -> DaySpec:
    if text == "?":
        return DaySpec(any=True)
    if text == "L":
        return DaySpec(last=True)
    if text == "LW":
        return DaySpec(last_weekday=True)
    if text.endswith("W"):
        day = _number(text[:-1], 1, 31, {}, "day-of-month")
        return DaySpec(nearest_weekday=day)
    return DaySpec(values=frozenset(_values(text, 1, 31, {}, "day-of-month")))


def _parse_dow(text: str) -> DaySpec:
    if text == "?":
        return DaySpec(any=True)
    if text == "L":
        return DaySpec(values=frozenset({7}))
    if text.endswith("L"):
        return DaySpec(last_of_week=_number(text[:-1], 1, 7, DAYS, "day-of-week"))
    if "#" in text:
        if "," in text:
            raise CronError("only one '#' expression is allowed in day-of-week")
        weekday, _, n = text.partition("#")
        return DaySpec(
            nth=(_number(weekday, 1, 7, DAYS, "day-of-week"), _number(n, 1, 5, {}, "day-of-week"))
        )
    return DaySpec(values=frozenset(_values(text, 1, 7, DAYS, "day-of-week")))


def _number(text: str, low: int, high: int, names: dict[str, int], field: str) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise CronError(f"{field}: {text!r} is not a number or name")
    value = int(text)
    if not low <= value <= high:
        raise CronError(f"{field}: {value} is outside {low}-{high}")
    return value


def _values(text: str, low: int, high: int, names: dict[str, int], field: str) -> set[int]:
    """``,`` lists of ``*``, ``a``, ``a-b`` (wrapping when a > b) with optional ``/step``."""
    result: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = _number(step_text, 1, high - low + 1, {}, field) if slash else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = (
                _number(first, low, high, names, field),
                _number(last, low, high, names, field),
            )
        else:
            start = _number(base, low, high, names, field)
            end = high if slash else start
        span = (end - start) % (high - low + 1)
        result.update(low + (start - low + k) % (high - low + 1) for k in range(0, span + 1, step))
    return result
