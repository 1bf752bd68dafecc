"""Time, injected: the interpreter never reads the wall clock itself.

:class:`VirtualClock` makes Wait states, retry intervals and timeouts advance instantly, so a
whole execution runs in microseconds and tests are deterministic. :class:`SystemClock` is real
time for callers that want it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the interpreter needs from time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass (a virtual clock just advances)."""
        ...


class VirtualClock:
    """A clock that only moves when asked to; sleeping is instant."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._now += timedelta(seconds=seconds)

    def advance_to(self, moment: datetime) -> None:
        """Jump forward to ``moment`` (never backwards)."""
        if moment > self._now:
            self._now = moment


class SystemClock:
    """Real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
