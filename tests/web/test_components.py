"""Schedules (next fire times, slot history), ECS task runs (live logs) and functions (their
invocations) in Chromium, against the real components of ``batchyard server``; and the same
pages on a server without those components, which say so instead of failing."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from batchyard.api import App, ServerConfig
from batchyard.api.stepfunctions.wiring import install as install_stepfunctions
from batchyard.web.wiring import install as install_console
from tests.api.conftest import free_port, serve_app
from tests.web.conftest import Browser, Console, Watched, watch

ROLE = "arn:aws:iam::123456789012:role/console"
HANDLER = """
def handler(event, context):
    print("handling", event)
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"doubled": event["n"] * 2}
"""


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


# --------------------------------------------------------------------------- schedules


def test_schedules_with_next_fire_times_and_slot_history(web: Watched, console: Console) -> None:
    sfn = console.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="scheduled",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=ROLE,
    )["stateMachineArn"]
    scheduler = console.client("scheduler")
    target = {"Arn": machine, "RoleArn": ROLE, "Input": "{}"}
    scheduler.create_schedule(
        Name="every-five",
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target,
    )
    soon = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S")
    scheduler.create_schedule(
        Name="once-soon",
        ScheduleExpression=f"at({soon})",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target,
    )
    listed = wait_for(
        lambda: [
            e
            for e in sfn.list_executions(stateMachineArn=machine)["executions"]
            if e["name"].startswith("once-soon")
        ],
        30,
    )
    assert listed, "the at() schedule did not start an execution"

    web.goto("/ui/schedules")
    rows = web.page.locator("#schedules tbody tr")
    rows.first.wait_for()
    by_name = {r.locator("td").first.inner_text(): r for r in rows.all()}
    assert {"every-five", "once-soon"} <= set(by_name)
    next_times = by_name["every-five"].locator("td:last-child div").all_inner_texts()
    assert len(next_times) == 3
    first = datetime.fromisoformat(next_times[0].replace(" ", "T").replace("Z", "+00:00"))
    assert timedelta(0) < first - datetime.now(UTC) <= timedelta(minutes=5, seconds=5)

    by_name["once-soon"].locator("a").click()
    web.page.wait_for_selector("#slots tbody tr")
    slot = web.page.locator("#slots tbody tr").first
    assert slot.get_attribute("data-status") == "STARTED"
    link = slot.locator("a")
    assert link.inner_text() == listed[0]["name"]
    link.click()
    web.page.wait_for_selector("#graph svg g.state")
    assert web.page.locator("#exec-name").inner_text() == listed[0]["name"]


# --------------------------------------------------------------------------- ECS task runs


def test_task_runs_with_live_logs(web: Watched, console: Console) -> None:
    ecs = console.client("ecs")
    ecs.create_cluster(clusterName="console", tags=[{"key": "batchyard:runner", "value": "local"}])
    definition = ecs.register_task_definition(
        family="console-echo",
        containerDefinitions=[
            {
                "name": "app",
                "image": "busybox",
                "command": ["sh", "-c", "echo first-line; sleep 3; echo second-line"],
                "essential": True,
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": "/ecs/console-echo",
                        "awslogs-stream-prefix": "ecs",
                        "awslogs-create-group": "true",
                    },
                },
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    task = ecs.run_task(cluster="console", taskDefinition=definition)["tasks"][0]
    task_id = task["taskArn"].rsplit("/", 1)[-1]

    web.goto("/ui/tasks")
    row = web.page.locator("#tasks tbody tr", has_text=task_id)
    row.wait_for()
    row.locator("a").click()
    logs = web.page.locator("#logs")
    web.page.wait_for_function(
        "() => document.querySelector('#logs').textContent.includes('first-line')", timeout=20_000
    )
    # The page keeps polling: the line written three seconds later arrives by itself.
    web.page.wait_for_function(
        "() => document.querySelector('#logs').textContent.includes('second-line')",
        timeout=30_000,
    )
    assert logs.inner_text().index("first-line") < logs.inner_text().index("second-line")
    assert f"ecs/app/{task_id}" in web.page.locator("#logs-where").inner_text()


# --------------------------------------------------------------------------- functions


def test_functions_with_their_invocations(web: Watched, console: Console) -> None:
    lam = console.client("lambda")
    lam.create_function(
        FunctionName="doubler",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": HANDLER})},
    )
    ok = lam.invoke(FunctionName="doubler", Payload=b'{"n": 21}')
    assert json.loads(ok["Payload"].read()) == {"doubled": 42}
    failed = lam.invoke(FunctionName="doubler", Payload=b'{"n": 1, "fail": true}')
    assert failed["FunctionError"] == "Unhandled"
    failed["Payload"].read()

    web.goto("/ui/functions")
    row = web.page.locator("#functions tbody tr", has_text="doubler")
    row.wait_for()
    assert "python3.12" in row.inner_text()
    row.locator("a").click()
    invocations = web.page.locator("#invocations tbody tr[data-request-id]")
    invocations.nth(1).wait_for()
    assert invocations.count() == 2
    newest, oldest = invocations.nth(0).inner_text(), invocations.nth(1).inner_text()
    assert "Failed" in newest and "ValueError" in newest
    assert "Succeeded" in oldest


# --------------------------------------------------------------------------- absent components


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with Step Functions only: no Scheduler, ECS, Lambda or log store."""
    port = free_port()
    config = ServerConfig(port=port, data_dir=tmp_path_factory.mktemp("bare"))
    app = App(config)
    backend = install_stepfunctions(app, config)
    install_console(app, stepfunctions=backend)
    yield from serve_app(app, port)


@pytest.mark.parametrize(
    ("path", "what"),
    [
        ("/ui/schedules", "EventBridge Scheduler"),
        ("/ui/tasks", "ECS"),
        ("/ui/functions", "Lambda"),
        ("/ui/insights", "CloudWatch Logs"),
    ],
)
def test_absent_components_say_so(
    browser: Browser, bare: str, path: str, what: str, request: pytest.FixtureRequest
) -> None:
    for page in watch(browser, bare, request.node.name):
        page.goto(path)
        notice = page.page.locator("#notice")
        notice.wait_for()
        assert f"{what} is not available on this server" in notice.inner_text()
        assert page.problems == []


def test_retried_and_caught_task_states(web: Watched, console: Console, tmp_path: Any) -> None:
    """A Task that failed once and succeeded on its Retry is green with one retry; a Task whose
    error went to its Catch is orange, with the error in its panel."""
    lam = console.client("lambda")
    flaky = """
import os
def handler(event, context):
    if event.get("always"):
        raise RuntimeError("always broken")
    if not os.path.exists(event["marker"]):
        open(event["marker"], "w").close()
        raise RuntimeError("first attempt fails")
    return {"ok": True}
"""
    lam.create_function(
        FunctionName="flaky",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": flaky})},
    )
    definition = {
        "StartAt": "Flaky",
        "States": {
            "Flaky": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "flaky", "Payload": {"marker.$": "$.marker"}},
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2}],
                "Next": "Broken",
            },
            "Broken": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "flaky", "Payload": {"always": True}},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    sfn = console.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="retry-catch", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    marker = str(tmp_path / "marker")
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"marker": marker}))[
        "executionArn"
    ]
    status = wait_for(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", 60)
    assert status
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"

    web.goto("/ui/execution?arn=" + quote(arn, safe=""))
    web.page.wait_for_selector("#graph svg g.state")
    found = web.page.eval_on_selector_all(
        "#graph g.state",
        "nodes => Object.fromEntries(nodes.map(n => [n.dataset.state, n.dataset.status]))",
    )
    assert found == {"Flaky": "succeeded", "Broken": "caught", "Handled": "succeeded"}
    web.page.click('#graph g.state[data-state="Flaky"]')
    assert "Retries\n1" in web.page.locator("#state-details dl").inner_text()
    web.page.click('#graph g.state[data-state="Broken"]')
    assert "always broken" in web.page.locator("#state-details").inner_text()
