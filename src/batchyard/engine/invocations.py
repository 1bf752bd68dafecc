"""Lambda tasks run beside the engine's workers, not in them.

An invocation may last up to the function's timeout (minutes). Run in an engine worker it would
hold that worker — one of two by default — and every other execution would wait behind it. So
the engine hands Lambda tasks to this pool and the worker goes back to other executions at once.

The execution stays leased to this process while its invocations are in flight (the engine's
renewer keeps the lease alive, as it did when the worker itself waited), so no other replica
takes it over and invokes the function a second time. When an invocation ends, its outcome is
posted to the execution's inbox and the same thread continues the execution
(``Core._continue_after_invocation``); a stale outcome — the execution stopped or timed out
meanwhile — is refused there by ``Run.accepts``, exactly like a late SendTaskSuccess.

Durability is unchanged: after a crash the execution's next owner invokes a function whose
outcome was not yet stored again (as it always did); an outcome already in the inbox is used
instead (``Core._process`` skips those tasks when it re-attaches).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from batchyard.engine.journal import Input

log = logging.getLogger("batchyard.engine")

# Invocations in flight at once per process; more wait for a thread (the function service has
# its own limit of warm workers per function).
MAX_CONCURRENT = 64

Key = tuple[str, int, int]  # (execution ARN, thread id, dispatch seq)


T = TypeVar("T")


class BackgroundInvocations:
    """A thread pool for function invocations, and which executions have some in flight."""

    def __init__(self, finished: Callable[[Key, Input | None], None]) -> None:
        self._finished = finished
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: set[Key] = set()
        self._per_execution: Counter[str] = Counter()
        self._changed = threading.Condition()

    def submit(self, key: Key, invoke: Callable[[], Input]) -> None:
        """Run ``invoke`` in the background, then ``finished(key, message)`` in the same thread
        (``message`` None if ``invoke`` raised); nothing if that task is in flight already.
        The task counts as in flight until its ``finished`` calls :meth:`last_one_out`."""
        with self._changed:
            if key in self._in_flight:
                return
            self._in_flight.add(key)
            self._per_execution[key[0]] += 1
            if self._pool is None:
                self._pool = ThreadPoolExecutor(MAX_CONCURRENT, thread_name_prefix="engine-fn")
            pool = self._pool
        pool.submit(self._run, key, invoke)

    def _run(self, key: Key, invoke: Callable[[], Input]) -> None:
        message: Input | None = None
        try:
            message = invoke()
        except Exception:  # an integration reports failures as outcomes; this is a bug
            log.exception("a Lambda task of %s raised", key[0])
        self._finished(key, message)

    def last_one_out(self, done: Key | None, arn: str, take: Callable[[], T]) -> T | None:
        """Atomically: count ``done`` as finished (if given), then ``take()`` if execution
        ``arn`` has nothing else in flight (its lease is then the caller's to settle)."""
        with self._changed:
            if done is not None and done in self._in_flight:
                self._in_flight.discard(done)
                self._per_execution[arn] -= 1
                if self._per_execution[arn] <= 0:
                    del self._per_execution[arn]
                self._changed.notify_all()
            if self._per_execution[arn] > 0:
                return None
            return take()

    def busy(self) -> bool:
        with self._changed:
            return bool(self._in_flight)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is in flight; ``False`` if ``timeout`` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def shutdown(self) -> None:
        """Take no more work; invocations in flight finish (their executions' leases lapse
        if the engine has stopped, and the next owner goes on)."""
        with self._changed:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
