"""A server-like engine process for the crash test: workers run until SIGKILL."""

from __future__ import annotations

import sys
import time
from typing import Any

from batchyard.engine import Engine
from batchyard.store import open_store


def inc(event: Any, context: Any) -> Any:
    time.sleep(0.002)  # a little real work, so kills land mid-task too
    return {"n": event["n"] + 1}


FUNCTIONS = {"inc": inc}


def main(url: str) -> None:
    store = open_store(url)
    engine = Engine(store, functions=FUNCTIONS, lease_seconds=1.0)
    engine.start()
    print("ready", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main(sys.argv[1])
