"""A replica's ECS supervisor in a process of its own, for the kill -9 takeover test.

``python -m tests.ecs.supervisor_process STORE_URL STATE_DIR OWNER LEASE_SECONDS``: runs the
supervisor on the local runner until killed, printing ``ready`` once it has started.
"""

from __future__ import annotations

import sys
import time

from batchyard.ecs import Backends, EcsService
from batchyard.runners import make_runner
from batchyard.store import open_store


def main() -> None:
    url, state_dir, owner, lease = sys.argv[1:5]
    store = open_store(url)
    backends = Backends(lambda kind: make_runner(kind, {"state_dir": state_dir}), lambda: "local")
    service = EcsService(
        store,
        backends,
        region="us-east-1",
        account="123456789012",
        owner=owner,
        lease_seconds=float(lease),
        poll_seconds=0.1,
    )
    service.supervisor.start()
    print("ready", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
