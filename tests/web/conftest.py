"""A real batchyard server and a real headless Chromium (Debian's, via Playwright).

Every test page fails the test on a console error, an uncaught exception or a failed request
of the console's own, and leaves a screenshot in ``tests/web/artifacts/`` (gitignored). The
tests skip without Playwright or Chromium unless ``BATCHYARD_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import os
import re
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from batchyard.api import App, ServerConfig, build_app
from tests.api.conftest import free_port, serve_app

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = os.environ.get("BATCHYARD_CHROMIUM", "/usr/bin/chromium")


def _require(reason: str) -> None:
    if os.environ.get("BATCHYARD_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (BATCHYARD_REQUIRE_SERVICES=1 requires it)", pytrace=False)
    pytest.skip(reason)


if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright
else:
    Browser = Page = Playwright = Any  # tests import these names from here
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None


@dataclass
class Console:
    """A running server with its console's URL and boto3 clients."""

    app: App
    url: str
    data_dir: Path

    def client(self, service: str, key: str = "test", secret: str = "test") -> Any:
        import boto3  # type: ignore[import-untyped]

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
        )


def fetch(
    url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str, bytes]:
    """(status, content type, body) of a plain HTTP request, errors included."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.get("content-type", ""), error.read()


@dataclass
class Watched:
    """A page and everything that went wrong on it."""

    page: Page
    base: str
    problems: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if sync_playwright is None:
        _require("playwright is not installed")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        _require(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    yield browser
    browser.close()


def start_console(data_dir: Path, **config: Any) -> Iterator[Console]:
    port = free_port()
    app = build_app(ServerConfig(port=port, data_dir=data_dir, **config))
    for url in serve_app(app, port):
        yield Console(app, url, data_dir)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    yield from start_console(tmp_path_factory.mktemp("console"))


def watch(browser: Browser, base: str, name: str) -> Iterator[Watched]:
    """A fresh page whose console errors, page errors and failed requests are collected."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    watched = Watched(page, base)
    page.on(
        "console",
        lambda msg: (
            watched.problems.append(f"console.{msg.type}: {msg.text}")
            if msg.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda exc: watched.problems.append(f"page error: {exc}"))
    page.on(
        "requestfailed",
        lambda request: watched.problems.append(f"request failed: {request.url}"),
    )
    try:
        yield watched
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]
        try:
            page.screenshot(path=str(ARTIFACTS / f"{safe}.png"), full_page=True)
        finally:
            context.close()


@pytest.fixture
def web(browser: Browser, console: Console, request: pytest.FixtureRequest) -> Iterator[Watched]:
    for watched in watch(browser, console.url, request.node.name):
        yield watched
        # Expected answers (a 4xx the test provoked) are asserted by the tests themselves.
        assert watched.problems == [], watched.problems
