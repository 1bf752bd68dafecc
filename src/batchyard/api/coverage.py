"""The API coverage table (``docs/api-coverage.md``), generated from botocore's models.

For every service the server speaks, every operation of its botocore model, and whether
batchyard serves it. ``python -m batchyard.api.coverage > docs/api-coverage.md`` rewrites the
file; a test fails when it and the server disagree.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from batchyard.api.app import App, ServerConfig
from batchyard.api.server import build_app

_HEADER = """# API coverage

Generated from botocore's service models and the handlers `batchyard server` registers, by
`python -m batchyard.api.coverage > docs/api-coverage.md`; do not edit by hand. An operation
that is not served answers a clear error naming it.
"""


def served_app(data_dir: Path) -> App:
    """The server as `batchyard server` builds it, with its data in ``data_dir``."""
    return build_app(ServerConfig(data_dir=data_dir))


def render() -> str:
    """One table per service: operation, served or not."""
    with tempfile.TemporaryDirectory() as tmp:
        app = served_app(Path(tmp))
        try:
            sections = [_HEADER]
            for name in sorted(app.services):
                service = app.services[name]
                operations = sorted(service.model.operation_names)
                # No totals in the heading: the model's operation count grows with botocore.
                sections.append(f"## {service.full_name} (`{name}`)\n")
                rows = ["| operation | served |", "|---|---|"]
                rows += [
                    f"| `{op}` | {'yes' if op in service.handlers else 'no'} |" for op in operations
                ]
                sections.append("\n".join(rows) + "\n")
            return "\n".join(sections)
        finally:
            app.stop()


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
