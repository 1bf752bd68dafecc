"""``batchyard logs``: run Logs Insights queries and tail log groups.

``query`` is ``StartQuery`` then ``GetQueryResults`` until the query is done (a spinner on
stderr while it runs, on a terminal only); ``tail`` is ``FilterLogEvents`` from a start time,
and with ``--follow`` keeps asking for newer events until interrupted.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from batchyard.cli.client import CliFailure, Endpoint, EndpointOption, api_errors, stderr
from batchyard.cli.output import OutputFormat, emit_rows, format_time

app = typer.Typer(
    name="logs",
    help="CloudWatch Logs: Logs Insights queries and tailing log groups.",
    no_args_is_help=True,
)

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DONE = {"Complete", "Failed", "Cancelled", "Timeout", "Unknown"}
POLL_INTERVAL_S = 0.25


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``1h``, ``2d``, ``1w`` as a timedelta (BadParameter otherwise)."""
    match = _DURATION.match(text)
    if not match:
        raise typer.BadParameter(f"{text!r} is not a duration like 30s, 15m, 1h, 2d or 1w")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (UTC unless it says otherwise) or epoch seconds."""
    stripped = text.strip()
    if stripped.isdigit():
        return datetime.fromtimestamp(int(stripped), UTC)
    try:
        value = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a time (ISO 8601 such as 2026-05-01T12:00:00Z, or epoch seconds)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def time_range(
    since: str | None, start: str | None, end: str | None, *, default: timedelta
) -> tuple[datetime, datetime]:
    """The query window from ``--since`` or ``--start``/``--end``."""
    if since is not None and start is not None:
        raise typer.BadParameter("give either --since or --start, not both")
    now = datetime.now(UTC)
    stop = parse_time(end) if end is not None else now
    if start is not None:
        begin = parse_time(start)
    else:
        begin = stop - (parse_duration(since) if since is not None else default)
    if begin > stop:
        raise typer.BadParameter("the start of the time range is after its end")
    return begin, stop


@app.command()
def query(
    query_string: Annotated[
        str, typer.Argument(metavar="QUERY", help="A Logs Insights query.", show_default=False)
    ],
    group: Annotated[
        list[str],
        typer.Option("--group", "-g", help="A log group to query (repeat for several)."),
    ],
    since: Annotated[
        str | None, typer.Option(help="Query the last 30s, 15m, 1h, 2d, 1w ... (default 1h).")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="Start of the range: ISO 8601 or epoch seconds.")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="End of the range: ISO 8601 or epoch seconds (default now).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="At most this many rows (1-10000).", min=1, max=10000)
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table, json or csv.")
    ] = OutputFormat.TABLE,
    endpoint_url: EndpointOption = "http://127.0.0.1:4600",
) -> None:
    """Run a Logs Insights query and print its result rows.

    Exit code 0 when the query completed, 1 when it failed or the server refused it.
    """
    begin, stop = time_range(since, start, end, default=timedelta(hours=1))
    endpoint = Endpoint.from_option(endpoint_url)
    with api_errors(endpoint):
        logs = endpoint.client("logs")
        params: dict[str, Any] = {
            "logGroupNames": group,
            "startTime": int(begin.timestamp()),
            "endTime": int(stop.timestamp()),
            "queryString": query_string,
        }
        if limit is not None:
            params["limit"] = limit
        query_id = logs.start_query(**params)["queryId"]
        with stderr.status("running query…", spinner="dots"):
            while True:
                answer = logs.get_query_results(queryId=query_id)
                if answer["status"] in _DONE:
                    break
                time.sleep(POLL_INTERVAL_S)
        if answer["status"] != "Complete":
            raise CliFailure(f"query {query_id} ended with status {answer['status']}")
    rows = [
        {cell["field"]: cell.get("value") for cell in row if cell["field"] != "@ptr"}
        for row in answer["results"]
    ]
    emit_rows(rows, output, title="Query results")
    if output is OutputFormat.TABLE:
        statistics = answer.get("statistics", {})
        stderr.print(
            f"{len(rows)} row(s); {statistics.get('recordsMatched', 0):.0f} records matched, "
            f"{statistics.get('recordsScanned', 0):.0f} scanned",
            style="dim",
        )


@app.command()
def tail(
    group: Annotated[str, typer.Option("--group", "-g", help="The log group to read.")],
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events until Ctrl-C.")
    ] = False,
    filter_pattern: Annotated[
        str | None, typer.Option(help="Only events matching this CloudWatch filter pattern.")
    ] = None,
    since: Annotated[str, typer.Option(help="Start this far back: 30s, 15m, 1h, 2d ...")] = "10m",
    stream_prefix: Annotated[
        str | None, typer.Option(help="Only streams whose name starts with this.")
    ] = None,
    endpoint_url: EndpointOption = "http://127.0.0.1:4600",
) -> None:
    """Print a log group's recent events; with --follow, keep printing new ones."""
    begin = datetime.now(UTC) - parse_duration(since)
    endpoint = Endpoint.from_option(endpoint_url)
    console = Console(highlight=False, soft_wrap=True)
    params: dict[str, Any] = {"logGroupName": group}
    if filter_pattern is not None:
        params["filterPattern"] = filter_pattern
    if stream_prefix is not None:
        params["logStreamNamePrefix"] = stream_prefix
    start_ms = int(begin.timestamp() * 1000)
    seen: dict[str, int] = {}  # event id -> timestamp, pruned as the window moves
    try:
        with api_errors(endpoint):
            logs = endpoint.client("logs")
            while True:
                newest = start_ms
                for page in logs.get_paginator("filter_log_events").paginate(
                    **params, startTime=start_ms
                ):
                    for event in page["events"]:
                        newest = max(newest, int(event["timestamp"]))
                        if event["eventId"] in seen:
                            continue
                        seen[event["eventId"]] = int(event["timestamp"])
                        _print_event(console, event)
                if not follow:
                    return
                # Ask again from the newest timestamp seen: events sharing it are deduplicated.
                start_ms = newest
                seen = {key: stamp for key, stamp in seen.items() if stamp >= newest}
                time.sleep(1.0)
    except KeyboardInterrupt:
        return


def _print_event(console: Console, event: dict[str, Any]) -> None:
    stamp = format_time(datetime.fromtimestamp(int(event["timestamp"]) / 1000, UTC))
    console.print(
        f"[dim]{stamp}[/dim] [cyan]{escape(event.get('logStreamName', ''))}[/cyan] "
        f"{escape(str(event['message']).rstrip())}"
    )
