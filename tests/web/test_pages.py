"""Every console page loads in Chromium without a console error, on an empty server too."""

from __future__ import annotations

import pytest

from batchyard.web.pages import PAGES
from tests.web.conftest import Console, Watched, fetch

PATHS = [path for path, _, _, shown in PAGES if shown]


@pytest.mark.parametrize("path", PATHS)
def test_page_loads_without_errors(web: Watched, path: str) -> None:
    web.goto(path)
    title = web.page.title()
    assert title.endswith("· batchyard"), title
    current = web.page.locator("header nav a[aria-current=page]")
    assert current.get_attribute("href") == path
    assert web.page.locator("main h1").first.is_visible()


def test_root_redirects_to_executions(web: Watched) -> None:
    web.goto("/")
    assert web.page.url.endswith("/ui/executions")


def test_console_does_not_take_aws_routes(console: Console) -> None:
    """AWS requests still reach the AWS dispatcher: JSON protocol on POST /, rest-json paths."""
    logs = console.client("logs")
    logs.create_log_group(logGroupName="routes-check")
    assert "routes-check" in [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
    # Unsigned GETs of rest-json paths (Scheduler, Lambda) get AWS's authentication error,
    # not a console page.
    for path in ("/schedules", "/2015-03-31/functions/"):
        status, content_type, _ = fetch(console.url + path)
        assert status == 403, path
        assert "html" not in content_type
