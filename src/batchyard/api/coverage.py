"""The API coverage table (``docs/api-coverage.md``), generated from botocore's models.

For every service the server speaks -- and every service the platform is built to speak
(``SERVICES``), served yet or not -- every operation of its botocore model, and whether
batchyard serves it. ``python -m batchyard.api.coverage > docs/api-coverage.md`` rewrites the
file; a test fails when it and the server disagree.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from batchyard.api.app import App, ServerConfig
from batchyard.api.server import build_app
from batchyard.api.shapes import load_service_model

# The AWS services of the platform (botocore's names): Step Functions, CloudWatch Logs, ECS,
# Lambda and EventBridge Scheduler. Each has a table even before its handlers land.
SERVICES = ("stepfunctions", "logs", "ecs", "lambda", "scheduler")

_HEADER = """# API coverage

Generated from botocore's service models and the handlers `batchyard server` registers, by
`python -m batchyard.api.coverage > docs/api-coverage.md`; do not edit by hand. An operation
that is not served answers a clear error naming it.
"""


def served_app(data_dir: Path) -> App:
    """The server as `batchyard server` builds it, with its data in ``data_dir``."""
    return build_app(ServerConfig(data_dir=data_dir))


@dataclass(frozen=True)
class ServiceCoverage:
    """One service's operations (from its botocore model) and those the server handles."""

    name: str
    full_name: str
    operations: list[str]
    served: frozenset[str]


def coverage(app: App) -> list[ServiceCoverage]:
    """Every service the app serves or the platform plans, in name order."""
    found = []
    for name in sorted({*SERVICES, *app.services}):
        service = app.services.get(name)
        if service is not None:
            model, served = service.model, frozenset(service.handlers)
        else:
            model, served = load_service_model(name), frozenset()
        full_name = str(model.metadata.get("serviceFullName", name))
        found.append(ServiceCoverage(name, full_name, sorted(model.operation_names), served))
    return found


def render() -> str:
    """A summary, then one table per service: operation, served or not."""
    with tempfile.TemporaryDirectory() as tmp:
        app = served_app(Path(tmp))
        try:
            services = coverage(app)
        finally:
            app.stop()
    summary = ["| service | operations served |", "|---|---|"]
    summary += [
        f"| [{svc.full_name}](#{_anchor(svc)}) (`{svc.name}`) | "
        f"{len(svc.served)} of {len(svc.operations)} |"
        for svc in services
    ]
    sections = [_HEADER, "\n".join(summary) + "\n"]
    for svc in services:
        # No totals in the heading: the model's operation count grows with botocore.
        sections.append(f"## {svc.full_name} (`{svc.name}`)\n")
        rows = ["| operation | served |", "|---|---|"]
        rows += [f"| `{op}` | {'yes' if op in svc.served else 'no'} |" for op in svc.operations]
        sections.append("\n".join(rows) + "\n")
    return "\n".join(sections)


def _anchor(svc: ServiceCoverage) -> str:
    """GitHub's anchor of the service's heading."""
    text = f"{svc.full_name} ({svc.name})".lower()
    return "".join(c for c in text if c.isalnum() or c in " -_").replace(" ", "-")


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
