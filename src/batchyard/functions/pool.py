"""Warm workers per function: take an idle one or start one, give it back, retire stale ones.

A worker belongs to exactly one :class:`~batchyard.functions.worker.WorkerSpec`; the spec's
``revision`` changes with every code or configuration update, so after an update the idle
workers of the old revision are killed and the next invocation starts a fresh one (a worker busy
with the old revision finishes its invocation and is then retired, as on Lambda).

Concurrency is one invocation per worker; a function may have up to ``max_per_function``
workers at once (further callers wait for one to come back). Workers idle longer than
``idle_seconds`` are stopped by :meth:`reap`, which the service calls periodically.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from batchyard.functions.worker import Worker, WorkerSpec


class WorkerPool:
    def __init__(
        self,
        *,
        max_per_function: int = 16,
        idle_seconds: float = 600.0,
        spawn: Callable[[WorkerSpec], Worker] = Worker,
    ) -> None:
        self.max_per_function = max_per_function
        self.idle_seconds = idle_seconds
        self._spawn = spawn
        self._idle: dict[str, list[Worker]] = {}
        self._busy: dict[str, int] = {}
        self._revision: dict[str, str] = {}
        self._changed = threading.Condition()
        self._closed = False

    def acquire(self, spec: WorkerSpec) -> tuple[Worker, bool]:
        """A worker for ``spec`` and whether it was started for this call (a cold start)."""
        name = spec.function_name
        stale: list[Worker] = []
        with self._changed:
            if self._revision.get(name) != spec.revision:
                self._revision[name] = spec.revision
                stale = self._idle.pop(name, [])
            while True:
                if self._closed:
                    raise RuntimeError("the function service is stopped")
                idle = self._idle.get(name, [])
                while idle:
                    worker = idle.pop()
                    if worker.alive and worker.spec == spec:
                        self._busy[name] = self._busy.get(name, 0) + 1
                        self._kill_all(stale)
                        return worker, False
                    stale.append(worker)
                if self._busy.get(name, 0) < self.max_per_function:
                    self._busy[name] = self._busy.get(name, 0) + 1
                    break
                self._changed.wait(timeout=1.0)
        self._kill_all(stale)
        try:
            return self._spawn(spec), True
        except BaseException:
            self._release_slot(name)
            raise

    def release(self, worker: Worker) -> None:
        """Give a worker back: idle if alive and current, killed otherwise."""
        name = worker.spec.function_name
        keep = False
        with self._changed:
            self._busy[name] = max(0, self._busy.get(name, 0) - 1)
            if (
                not self._closed
                and worker.alive
                and self._revision.get(name) == worker.spec.revision
            ):
                self._idle.setdefault(name, []).append(worker)
                keep = True
            self._changed.notify_all()
        if not keep:
            worker.kill()

    def _release_slot(self, name: str) -> None:
        with self._changed:
            self._busy[name] = max(0, self._busy.get(name, 0) - 1)
            self._changed.notify_all()

    def retire(self, name: str) -> None:
        """Kill the idle workers of a function (deleted, or updated)."""
        with self._changed:
            workers = self._idle.pop(name, [])
            self._revision.pop(name, None)
        self._kill_all(workers)

    def reap(self, now: float | None = None) -> int:
        """Stop workers idle longer than ``idle_seconds``; how many were stopped."""
        moment = time.monotonic() if now is None else now
        expired: list[Worker] = []
        with self._changed:
            for name, workers in self._idle.items():
                keep = [w for w in workers if moment - w.last_used < self.idle_seconds]
                expired.extend(w for w in workers if w not in keep)
                self._idle[name] = keep
        self._kill_all(expired)
        return len(expired)

    def idle_count(self, name: str) -> int:
        with self._changed:
            return len(self._idle.get(name, []))

    def close(self) -> None:
        with self._changed:
            self._closed = True
            workers = [w for ws in self._idle.values() for w in ws]
            self._idle.clear()
            self._changed.notify_all()
        self._kill_all(workers)

    @staticmethod
    def _kill_all(workers: list[Worker]) -> None:
        for worker in workers:
            worker.kill()
