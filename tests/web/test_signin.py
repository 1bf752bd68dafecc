"""Sign-in when the server is bound beyond loopback: pages redirect to the sign-in form, the
JSON answers 401, and only one of the server's access key pairs opens a session."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from batchyard.web.auth import COOKIE, Sessions
from tests.web.conftest import Browser, Console, Watched, fetch, start_console, watch

KEY, SECRET = "AKIACONSOLE", "console-secret-0123456789"


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    # Configured as bound to every interface (sign-in required); the test server itself
    # listens on 127.0.0.1 only.
    yield from start_console(
        tmp_path_factory.mktemp("exposed"), host="0.0.0.0", credentials={KEY: SECRET}
    )


@pytest.fixture
def page(browser: Browser, exposed: Console, request: pytest.FixtureRequest) -> Iterator[Watched]:
    yield from watch(browser, exposed.url, request.node.name)


def test_json_needs_a_session(exposed: Console) -> None:
    status, _, body = fetch(exposed.url + "/ui/api/executions")
    assert status == 401
    assert json.loads(body)["error"] == "NotSignedIn"


def test_forged_cookie_is_refused(exposed: Console) -> None:
    forged = "eyJrIjoiQUtJQUNPTlNPTEUiLCJlIjo5OTk5OTk5OTk5fQ.AAAA"  # right key id, no signature
    status, _, _ = fetch(
        exposed.url + "/ui/api/executions", headers={"cookie": f"{COOKIE}={forged}"}
    )
    assert status == 401


def test_sign_in_with_the_server_credentials(page: Watched) -> None:
    page.goto("/ui/insights")
    assert "/ui/signin?next=" in page.page.url
    page.page.fill("#access_key_id", KEY)
    page.page.fill("#secret_access_key", "wrong")
    page.page.click("button[type=submit]")
    assert "Unknown access key id or wrong secret" in page.page.locator("p.error").inner_text()
    page.problems[:] = [p for p in page.problems if "status of 401" not in p]

    page.page.fill("#access_key_id", KEY)
    page.page.fill("#secret_access_key", SECRET)
    page.page.click("button[type=submit]")
    page.page.wait_for_url("**/ui/insights")
    page.page.wait_for_load_state("networkidle")
    assert page.page.locator("header .account").inner_text().startswith(KEY)
    cookie = next(c for c in page.page.context.cookies() if c["name"] == "batchyard_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.problems == []

    page.page.click("header .account button")
    page.page.wait_for_url("**/ui/signin")
    page.goto("/ui/executions")
    assert "/ui/signin" in page.page.url


def test_posts_need_the_console_header(exposed: Console) -> None:
    """A signed-in browser's cookie alone cannot stop an execution (CSRF): the header is needed."""
    cookie = f"{COOKIE}={Sessions({KEY: SECRET}, required=True).issue(KEY)}"
    url = exposed.url + "/ui/api/execution/stop"
    body = b'{"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:x"}'
    status, _, _ = fetch(url, data=body, headers={"cookie": cookie})
    assert status == 403
    status, _, answer = fetch(
        url, data=body, headers={"cookie": cookie, "x-batchyard-console": "1"}
    )
    assert status == 400  # past the guard: Step Functions itself answers
    assert json.loads(answer)["error"] == "ExecutionDoesNotExist"
