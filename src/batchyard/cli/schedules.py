"""``batchyard schedules``: EventBridge Scheduler schedules, their next fire times and slots.

``list`` reads schedules through the Scheduler API and computes the next fire times on the
client with the scheduler's own function (``batchyard.scheduler.next_fire_times``), so the
times shown are the ones the server will use, time zones and DST included. ``history`` shows
the slot ledger, which no AWS API exposes: it reads the web console's JSON endpoint
(``/ui/api/schedule``), open without sign-in on a loopback server.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from batchyard.cli.client import CliFailure, Endpoint, EndpointOption, api_errors, fail
from batchyard.cli.output import OutputFormat, emit_rows, format_time

app = typer.Typer(
    name="schedules",
    help="EventBridge Scheduler schedules: next fire times and slot history.",
    no_args_is_help=True,
)

SLOT_COLOURS = {"STARTED": "green", "PENDING": "blue", "SKIPPED": "yellow", "FAILED": "red"}


def _next_times(schedule: dict[str, Any], count: int) -> list[datetime]:
    try:
        from batchyard.scheduler import next_fire_times
    except ImportError:  # pragma: no cover - an install without the scheduler
        return []
    if schedule.get("State") == "DISABLED":
        return []
    try:
        return next_fire_times(schedule, count)
    except ValueError:
        return []


@app.command("list")
def list_schedules(
    group: Annotated[str | None, typer.Option(help="Only schedules of this group.")] = None,
    count: Annotated[int, typer.Option("--next", help="How many next fire times.", min=1)] = 3,
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table, json or csv.")
    ] = OutputFormat.TABLE,
    endpoint_url: EndpointOption = "http://127.0.0.1:4600",
) -> None:
    """List schedules with their expression, target and next fire times (UTC)."""
    endpoint = Endpoint.from_option(endpoint_url)
    rows: list[dict[str, Any]] = []
    policies: dict[str, str] = {}  # group -> its batchyard: policy tags, read once
    with api_errors(endpoint):
        scheduler = endpoint.client("scheduler")
        params: dict[str, Any] = {"GroupName": group} if group else {}
        for page in scheduler.get_paginator("list_schedules").paginate(**params):
            for summary in page.get("Schedules", []):
                schedule = scheduler.get_schedule(
                    Name=summary["Name"], GroupName=summary.get("GroupName", "default")
                )
                times = _next_times(schedule, count)
                group_name = schedule.get("GroupName", "default")
                if group_name not in policies:
                    policies[group_name] = _group_policies(scheduler, group_name)
                rows.append(
                    {
                        "name": schedule["Name"],
                        "group": schedule.get("GroupName", "default"),
                        "expression": schedule["ScheduleExpression"],
                        "timezone": schedule.get("ScheduleExpressionTimezone", "UTC"),
                        "state": schedule.get("State", "ENABLED"),
                        "target": _target_name(schedule.get("Target", {}).get("Arn", "")),
                        "policies": policies[group_name],
                        "next fire times": (
                            " ".join(format_time(t) for t in times)
                            if output is not OutputFormat.JSON
                            else [format_time(t) for t in times]
                        ),
                    }
                )
    emit_rows(rows, output, title="Schedules")


@app.command()
def history(
    name: Annotated[str, typer.Argument(help="The schedule's name.", show_default=False)],
    group: Annotated[str, typer.Option(help="The schedule's group.")] = "default",
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table, json or csv.")
    ] = OutputFormat.TABLE,
    endpoint_url: EndpointOption = "http://127.0.0.1:4600",
) -> None:
    """Show a schedule's slots, newest first: when each fired and what it started or why not."""
    endpoint = Endpoint.from_option(endpoint_url)
    query = urllib.parse.urlencode({"name": name, "group": group})
    with api_errors(endpoint):
        answer = _get_json(endpoint, f"/ui/api/schedule?{query}")
    rows = [
        {
            "slot": _iso(slot.get("slot")),
            "status": slot.get("status", ""),
            "attempts": slot.get("attempts", ""),
            "started": slot.get("targetRef") or "",
            "reason": slot.get("reason") or "",
        }
        for slot in answer.get("slots", [])
    ]
    colour = {
        "status": lambda s: (
            f"[{SLOT_COLOURS[s]}]{s}[/{SLOT_COLOURS[s]}]" if s in SLOT_COLOURS else s
        )
    }
    emit_rows(rows, output, title=f"Slots of {group}/{name}", colour=colour)


def _group_policies(scheduler: Any, group: str) -> str:
    """The group's ``batchyard:`` policy tags as ``overlap=forbid catch-up=latest``."""
    arn = scheduler.get_schedule_group(Name=group)["Arn"]
    tags = scheduler.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
    return " ".join(
        sorted(
            f"{tag['Key'].removeprefix('batchyard:')}={tag['Value']}"
            for tag in tags
            if tag["Key"].startswith("batchyard:") and tag["Key"] != "batchyard:project"
        )
    )


def _target_name(arn: str) -> str:
    """``stateMachine:nightly`` of a target ARN (the ARN itself when it is another kind)."""
    parts = arn.split(":")
    return ":".join(parts[5:]) if len(parts) > 5 else arn


def _iso(value: Any) -> str:
    if isinstance(value, int | float):
        return format_time(datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC))
    return str(value or "")


def _get_json(endpoint: Endpoint, path: str) -> dict[str, Any]:
    """GET a console JSON endpoint; its ``{"error": ...}`` answers become CLI failures."""
    request = urllib.request.Request(endpoint.url + path, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            document = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            document = json.loads(exc.read() or b"{}")
        except ValueError:
            document = {}
        if exc.code == 401:
            raise CliFailure(
                f"the server at {endpoint.url} requires a console sign-in for slot history "
                "(it is open only on a loopback address)"
            ) from None
        if exc.code == 404 and not document:
            raise CliFailure(f"the server at {endpoint.url} has no slot history endpoint") from None
    except urllib.error.URLError:
        fail(f"cannot connect to the batchyard server at {endpoint.url}")
    except ValueError:
        raise CliFailure(
            f"the server at {endpoint.url} answered with something other than JSON"
        ) from None
    if not isinstance(document, dict):
        return {}
    if document.get("error"):  # the console's shape of an AWS error
        raise CliFailure(f"{document['error']}: {document.get('message', '')}")
    if document.get("unavailable"):
        raise CliFailure(str(document.get("message", "not available on this server")))
    return document


# Dead letters have no AWS API (on AWS they are messages in an SQS queue): these two commands
# open the server's state store directly, so they run where the store is reachable.
StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="The server's state store URL (as given to `batchyard server --store`); "
        "default: the SQLite store of --data-dir.",
    ),
]
DataDirOption = Annotated[
    Path, typer.Option(help="The server's data directory (its state.db is used).")
]


def _open_store(store_url: str | None, data_dir: Path) -> Any:
    from batchyard.store import ServiceUnavailable, default_url, open_store

    url = store_url or default_url(data_dir)
    if store_url is None and not (data_dir / "state.db").exists():
        fail(f"no state store at {data_dir / 'state.db'}: give --data-dir or --store")
    try:
        return open_store(url)
    except ServiceUnavailable as exc:
        fail(str(exc))


@app.command("dead-letters")
def dead_letters(
    queue: Annotated[
        str | None, typer.Option(help="Only this DeadLetterConfig Arn (a dead-letter queue).")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table, json or csv.")
    ] = OutputFormat.TABLE,
    store: StoreOption = None,
    data_dir: DataDirOption = Path(".batchyard"),
) -> None:
    """List deliveries that failed for good (kept per schedule's DeadLetterConfig Arn)."""
    from batchyard.scheduler import dead_letters as stored_letters

    opened = _open_store(store, data_dir)
    try:
        letters = stored_letters(opened, queue, limit)
    finally:
        opened.close()
    rows = [
        {
            "id": letter.id,
            "schedule": letter.schedule_arn.split(":schedule/", 1)[-1],
            "slot": format_time(letter.slot),
            "attempts": letter.attempts,
            "error": letter.error,
            "queue": letter.queue_arn,
            "replayed": letter.replay_ref or "",
        }
        for letter in letters
    ]
    emit_rows(rows, output, title="Dead letters")


@app.command()
def replay(
    letter_id: Annotated[str, typer.Argument(help="The dead letter's id.", show_default=False)],
    store: StoreOption = None,
    data_dir: DataDirOption = Path(".batchyard"),
) -> None:
    """Deliver a dead letter again, for its own slot (so a state machine target gets the same
    execution name: replaying twice never starts two runs). State-machine targets only here;
    the server's workers then run the execution."""
    from batchyard.scheduler import replay_dead_letter

    opened = _open_store(store, data_dir)
    try:
        started = replay_dead_letter(opened, letter_id)
    except KeyError:
        fail(f"no dead letter {letter_id!r}")
    except Exception as exc:  # the target refused again: say why, keep the letter
        fail(f"the replay failed: {exc}")
    finally:
        opened.close()
    typer.echo(started)
