"""The console's HTML pages, sign-in, and the guard every console route passes.

Each page is one small HTML shell (header, navigation, a ``<main>`` from ``templates/``) and
one script from ``static/js/`` that fetches JSON from ``/ui/api/...`` and fills the page: no
build step, no framework. The Content-Security-Policy allows scripts and styles from this
server only.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from batchyard.web.auth import COOKIE
from batchyard.web.context import CSRF_HEADER, Console, problem

log = logging.getLogger("batchyard.web")

TEMPLATES = Path(__file__).parent / "templates"
FAILED_SIGNIN_DELAY_S = 0.5
Endpoint = Callable[[Request], Awaitable[Response]]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


# (path, template and script name, title, in the navigation)
PAGES: tuple[tuple[str, str, str, bool], ...] = (
    ("/ui/overview", "overview", "Overview", True),
    ("/ui/executions", "executions", "Executions", True),
    ("/ui/execution", "execution", "Execution", False),
    ("/ui/durations", "durations", "Run durations", True),
    ("/ui/insights", "insights", "Logs Insights", True),
    ("/ui/schedules", "schedules", "Schedules", True),
    ("/ui/tasks", "tasks", "Task runs", True),
    ("/ui/functions", "functions", "Functions", True),
)


# Scripts a page needs besides common.js and its own.
LIBRARIES = {
    "execution": ("vendor/dagre/dagre.min.js", "js/graph.js"),
    "durations": ("js/chart.js",),
    "insights": ("js/chart.js",),
}


@cache
def _template(name: str) -> str:
    return (TEMPLATES / f"{name}.html").read_text(encoding="utf-8")


def render(page: str, title: str, user: str | None, signed_in_required: bool) -> str:
    nav = "".join(
        f'<a href="{path}"{" aria-current=page" if name == page else ""}>{html.escape(label)}</a>'
        for path, name, label, shown in PAGES
        if shown
    )
    account = ""
    if signed_in_required and user is not None:
        account = (
            f'<form class="account" method="post" action="/ui/signout">'
            f"<span>{html.escape(user)}</span><button type=submit>Sign out</button></form>"
        )
    sources = ("js/common.js", *LIBRARIES.get(page, ()), f"js/{page}.js")
    scripts = "\n".join(f'<script src="/static/{source}"></script>' for source in sources)
    return _template("layout").format(
        title=html.escape(title),
        page=page,
        nav=nav,
        account=account,
        main=_template(page),
        scripts=scripts,
    )


class Guard:
    """Signs users in (beyond loopback) and protects the console's routes."""

    def __init__(self, console: Console) -> None:
        self.sessions = console.sessions

    def user(self, request: Request) -> str | None:
        if not self.sessions.required:
            return "local"
        return self.sessions.user(request.cookies.get(COOKIE))

    def page(self, endpoint: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            if self.user(request) is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/ui/signin?next={quote(target, safe='')}", 303)
            return await endpoint(request)

        return guarded

    def api(self, endpoint: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            if self.user(request) is None:
                return problem(401, "NotSignedIn", "Sign in to the console first.")
            if request.method != "GET" and request.headers.get(CSRF_HEADER) != "1":
                return problem(403, "Forbidden", f"Console requests must carry {CSRF_HEADER}.")
            try:
                return await endpoint(request)
            except Exception:  # the page gets JSON it can show; the log gets the traceback
                log.exception("console request %s %s failed", request.method, request.url.path)
                return problem(500, "InternalFailure", "The server failed to answer; see its log.")

        return guarded


def page_routes(console: Console, guard: Guard) -> list[BaseRoute]:
    sessions = console.sessions

    def make(page: str, title: str) -> Endpoint:
        async def show(request: Request) -> Response:
            body = render(page, title, guard.user(request), sessions.required)
            return HTMLResponse(body, headers=SECURITY_HEADERS)

        return guard.page(show)

    async def home(request: Request) -> Response:
        return RedirectResponse("/ui/overview", 303)

    async def signin_form(
        request: Request, error: str = "", status: int = 200, target: str | None = None
    ) -> Response:
        if not sessions.required:
            return RedirectResponse("/ui/overview", 303)
        target = _safe_next(target or request.query_params.get("next"))
        body = _template("signin").format(
            next=html.escape(target),
            error=f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "",
        )
        return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)

    async def signin(request: Request) -> Response:
        if not sessions.required:
            return RedirectResponse("/ui/overview", 303)
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        key_id = (form.get("access_key_id") or [""])[0].strip()
        secret = (form.get("secret_access_key") or [""])[0]
        target = _safe_next((form.get("next") or [""])[0])
        if not sessions.check_credentials(key_id, secret):
            await asyncio.sleep(FAILED_SIGNIN_DELAY_S)  # slows guessing down
            return await signin_form(request, "Unknown access key id or wrong secret.", 401, target)
        response = RedirectResponse(target, 303)
        response.set_cookie(
            COOKIE,
            sessions.issue(key_id),
            max_age=sessions.lifetime_s,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    async def signout(request: Request) -> Response:
        response = RedirectResponse("/ui/signin" if sessions.required else "/", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    routes: list[BaseRoute] = [
        Route("/", guard.page(home), methods=["GET"]),
        Route("/ui", guard.page(home), methods=["GET"]),
        Route("/ui/signin", signin_form, methods=["GET"]),
        Route("/ui/signin", signin, methods=["POST"]),
        Route("/ui/signout", signout, methods=["POST"]),
    ]
    routes += [Route(path, make(name, title), methods=["GET"]) for path, name, title, _ in PAGES]
    return routes


def _safe_next(target: str | None) -> str:
    """Only a path of this server (``/ui/...``) may follow sign-in: no open redirect."""
    if target and target.startswith("/ui/") and not target.startswith("//"):
        return target
    return "/ui/overview"
