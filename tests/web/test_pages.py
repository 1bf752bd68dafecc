"""Every console page loads in Chromium without a console error, on an empty server too."""

from __future__ import annotations

import json

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


def test_root_redirects_to_the_overview(web: Watched) -> None:
    web.goto("/")
    assert web.page.url.endswith("/ui/overview")


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


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/ui/api/execution?arn=not-an-arn", None, 400, "InvalidArn"),
        ("/ui/api/executions?limit=many", None, 400, "ValidationException"),
        ("/ui/api/executions?status=DONE", None, 400, "ValidationException"),
        ("/ui/api/durations", None, 400, "ValidationException"),
        ("/ui/api/logs/query", b"[1]", 400, "InvalidParameterException"),
        ("/ui/api/logs/query", b'{"query": "fields @message | filter ("}', 400,
         "MalformedQueryException"),
        ("/ui/api/logs/saved", b'{"name": "", "query": "fields x"}', 400,
         "InvalidParameterException"),
        ("/ui/api/execution/stop", b"not json", 400, "ValidationException"),
    ],
)  # fmt: skip
def test_bad_input_gets_a_clear_json_error(
    console: Console, path: str, body: bytes | None, status: int, code: str
) -> None:
    headers = {"x-batchyard-console": "1", "content-type": "application/json"}
    answer_status, content_type, answer = fetch(console.url + path, data=body, headers=headers)
    assert (answer_status, content_type) == (status, "application/json")
    assert json.loads(answer)["error"] == code
    assert json.loads(answer)["message"]
