"""The execution pages in Chromium: the list and its filters, the graph coloured by status,
a state's input and output, the history, and the Stop button stopping a running execution."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest

from tests.web.conftest import Console, Watched

DEFINITION = {
    "Comment": "One machine, four paths: succeed, catch an error, fail, wait (to be stopped).",
    "StartAt": "Route",
    "States": {
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.mode", "StringEquals": "ok", "Next": "Done"},
                {"Variable": "$.mode", "StringEquals": "catch", "Next": "Risky"},
                {"Variable": "$.mode", "StringEquals": "wait", "Next": "Hold"},
            ],
            "Default": "Crash",
        },
        "Risky": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Kaboom"}}}
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recovered"}],
            "Next": "Done",
        },
        "Recovered": {"Type": "Pass", "Result": {"recovered": True}, "End": True},
        "Hold": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
        "Crash": {"Type": "Fail", "Error": "Crashed", "Cause": "mode was not understood"},
        "Done": {"Type": "Pass", "Parameters": {"done.$": "$.mode"}, "End": True},
    },
}


@dataclass
class Runs:
    machine: str
    arns: dict[str, str]


def wait_status(sfn: Any, arn: str, wanted: set[str], timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = str(sfn.describe_execution(executionArn=arn)["status"])
        if status in wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


@pytest.fixture(scope="module")
def runs(console: Console) -> Iterator[Runs]:
    sfn = console.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="console-paths",
        definition=json.dumps(DEFINITION),
        roleArn="arn:aws:iam::123456789012:role/console",
    )["stateMachineArn"]
    arns = {}
    for mode in ("ok", "catch", "fail", "wait"):
        arns[mode] = sfn.start_execution(
            stateMachineArn=machine, name=f"run-{mode}", input=json.dumps({"mode": mode})
        )["executionArn"]
    assert wait_status(sfn, arns["ok"], {"SUCCEEDED"}) == "SUCCEEDED"
    assert wait_status(sfn, arns["catch"], {"SUCCEEDED"}) == "SUCCEEDED"
    assert wait_status(sfn, arns["fail"], {"FAILED"}) == "FAILED"
    yield Runs(machine, arns)


def open_execution(web: Watched, arn: str) -> None:
    web.goto("/ui/execution?arn=" + quote(arn, safe=""))
    web.page.wait_for_selector("#graph svg g.state")


def statuses(web: Watched) -> dict[str, str]:
    found: dict[str, str] = web.page.eval_on_selector_all(
        "#graph g.state",
        "nodes => Object.fromEntries(nodes.map(n => [n.dataset.state, n.dataset.status]))",
    )
    return found


def fill_of(web: Watched, state: str) -> str:
    rect = web.page.locator(f'#graph g.state[data-state="{state}"] rect')
    return str(rect.evaluate("r => getComputedStyle(r).fill"))


def test_list_shows_every_run_and_filters_by_status_and_name(web: Watched, runs: Runs) -> None:
    web.goto("/ui/executions")
    rows = web.page.locator("#executions tbody tr")
    rows.first.wait_for()
    names = rows.locator("td:first-child a").all_inner_texts()
    assert set(names) >= {"run-ok", "run-catch", "run-fail", "run-wait"}

    web.page.select_option("#f-status", "FAILED")
    web.page.wait_for_function(
        "() => [...document.querySelectorAll('#executions tbody tr')]"
        ".every(r => r.dataset.status === 'FAILED')"
    )
    assert rows.locator("td:first-child a").all_inner_texts() == ["run-fail"]
    assert "status=FAILED" in web.page.url

    web.page.select_option("#f-status", "")
    web.page.fill("#f-name", "catch")
    web.page.click("#filters button[type=submit]")
    web.page.wait_for_function(
        "() => document.querySelectorAll('#executions tbody tr').length === 1"
    )
    assert rows.locator("td:first-child a").all_inner_texts() == ["run-catch"]


def test_graph_of_a_succeeded_run(web: Watched, runs: Runs) -> None:
    open_execution(web, runs.arns["ok"])
    found = statuses(web)
    assert set(found) == {"Route", "Risky", "Boom", "Recovered", "Hold", "Crash", "Done"}
    assert found["Route"] == found["Done"] == "succeeded"
    assert found["Crash"] == found["Hold"] == found["Risky"] == "notreached"
    # The colours the AWS console uses: green for succeeded, grey for not reached.
    assert fill_of(web, "Done") == "rgb(230, 244, 234)"
    assert fill_of(web, "Crash") == "rgb(242, 244, 246)"
    # Terminal nodes and the edges dagre routed.
    assert web.page.locator("#graph g.terminal").count() == 2
    assert web.page.locator("#graph path.edge").count() >= 8
    assert web.page.locator("#exec-status").inner_text() == "SUCCEEDED"


def test_graph_of_a_caught_error_and_a_state_input_output(web: Watched, runs: Runs) -> None:
    open_execution(web, runs.arns["catch"])
    found = statuses(web)
    assert found["Risky"] == "caught"
    assert found["Boom"] == "failed"
    assert found["Recovered"] == "succeeded"
    assert found["Done"] == "notreached"
    assert fill_of(web, "Risky") == "rgb(255, 241, 224)"  # orange: caught error
    assert fill_of(web, "Boom") == "rgb(253, 231, 232)"  # red: failed

    web.page.click('#graph g.state[data-state="Recovered"]')
    output = web.page.locator('#state-details pre[data-io="output"]')
    assert json.loads(output.inner_text()) == {"recovered": True}
    state_input = json.loads(web.page.locator('#state-details pre[data-io="input"]').inner_text())
    assert state_input["Error"] == "Kaboom"
    # History: every event, in order, ExecutionSucceeded last.
    types = web.page.locator("#events tbody tr td:nth-child(2)").all_inner_texts()
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert "ParallelStateFailed" in types


def test_graph_of_a_failed_run(web: Watched, runs: Runs) -> None:
    open_execution(web, runs.arns["fail"])
    found = statuses(web)
    assert found["Crash"] == "failed"
    assert found["Route"] == "succeeded"
    assert web.page.locator("#exec-status").inner_text() == "FAILED"
    assert "Crashed" in web.page.locator("#facts").inner_text()


def test_stop_button_stops_a_running_execution(web: Watched, runs: Runs, console: Console) -> None:
    sfn = console.client("stepfunctions")
    arn = runs.arns["wait"]
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    open_execution(web, arn)
    web.page.wait_for_function(
        "() => document.querySelector('#graph g.state[data-state=Hold]')?.dataset.status"
        " === 'running'"
    )
    assert fill_of(web, "Hold") == "rgb(227, 240, 251)"  # blue: in progress
    web.page.once("dialog", lambda dialog: dialog.accept())
    web.page.click("#stop")
    web.page.wait_for_function(
        "() => document.querySelector('#exec-status').textContent === 'ABORTED'"
    )
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
    assert statuses(web)["Hold"] == "cancelled"
    assert web.page.locator("#stop").is_hidden()
    # An aborted execution can be redriven: the button is offered.
    assert web.page.locator("#redrive").is_visible()


def test_redrive_button_reruns_a_stopped_execution(
    web: Watched, runs: Runs, console: Console
) -> None:
    sfn = console.client("stepfunctions")
    arn = runs.arns["wait"]
    assert wait_status(sfn, arn, {"ABORTED"}) == "ABORTED"  # stopped by the test above
    open_execution(web, arn)
    web.page.click("#redrive")
    web.page.wait_for_function(
        "() => document.querySelector('#exec-status').textContent === 'RUNNING'"
    )
    described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "RUNNING" and described["redriveCount"] == 1
    web.page.wait_for_function(
        "() => document.querySelector('#graph g.state[data-state=Hold]')?.dataset.status"
        " === 'running'"
    )
    types = web.page.locator("#events tbody tr td:nth-child(2)").all_inner_texts()
    assert "ExecutionRedriven" in types
    sfn.stop_execution(executionArn=arn)


def test_states_open_from_the_keyboard(web: Watched, runs: Runs) -> None:
    open_execution(web, runs.arns["ok"])
    node = web.page.locator('#graph g.state[data-state="Done"]')
    assert node.get_attribute("role") == "button"
    assert "Succeeded" in (node.get_attribute("aria-label") or "")
    node.focus()
    web.page.keyboard.press("Enter")
    assert web.page.locator("#state-title").inner_text() == "Done"
    output = web.page.locator('#state-details pre[data-io="output"]').inner_text()
    assert json.loads(output) == {"done": "ok"}


def test_durations_chart_plots_each_closed_run(web: Watched, runs: Runs, console: Console) -> None:
    listed = console.client("stepfunctions").list_executions(stateMachineArn=runs.machine)
    closed = [e for e in listed["executions"] if e["status"] != "RUNNING"]
    web.goto("/ui/durations?stateMachineArn=" + quote(runs.machine, safe=""))
    web.page.wait_for_selector("#chart svg circle.point")
    points = web.page.locator("#chart svg circle.point")
    assert points.count() == len(closed) >= 3
    classes = points.evaluate_all("ps => ps.map(p => p.getAttribute('class').split(' ')[1])")
    assert sorted(classes) == sorted(e["status"] for e in closed)
    from playwright.sync_api import expect  # imported here: the suite runs without it too

    # The summary is written after the chart; let Playwright wait for it (a loaded machine
    # may paint the points first).
    expect(web.page.locator("#summary")).to_contain_text(f"{len(closed)} executions")
    # Time per state, from the histories: every run passed through Route once.
    route = web.page.locator('#state-times tr[data-state="Route"] td').all_inner_texts()
    assert route[1] == str(len(closed))


def test_execution_log_link_opens_its_events_in_insights(web: Watched, console: Console) -> None:
    logs = console.client("logs")
    logs.create_log_group(logGroupName="/sfn/logged")
    group_arn = "arn:aws:logs:us-east-1:123456789012:log-group:/sfn/logged:*"
    sfn = console.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="logged",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/console",
        loggingConfiguration={
            "level": "ALL",
            "includeExecutionData": True,
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group_arn}}],
        },
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name="logged-run")["executionArn"]
    assert wait_status(sfn, arn, {"SUCCEEDED"}) == "SUCCEEDED"

    open_execution(web, arn)
    web.page.click("#exec-logs")
    web.page.wait_for_url("**/ui/insights?**")
    web.page.wait_for_function(
        "() => document.querySelectorAll('#results tbody tr:not(.empty)').length >= 4",
        timeout=20_000,
    )
    header = web.page.locator("#results thead th").all_inner_texts()
    type_column = header.index("type") + 1
    types = web.page.locator(f"#results tbody tr td:nth-child({type_column})").all_inner_texts()
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"


def test_a_distributed_map_links_its_child_executions(web: Watched, console: Console) -> None:
    sfn = console.client("stepfunctions")
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Each",
                    "States": {"Each": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }
    machine = sfn.create_state_machine(
        name="fan-out",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/console",
    )["stateMachineArn"]
    arn = sfn.start_execution(
        stateMachineArn=machine, name="fan", input=json.dumps({"items": [1, 2, 3]})
    )["executionArn"]
    assert wait_status(sfn, arn, {"SUCCEEDED", "FAILED"}) == "SUCCEEDED"

    web.goto("/ui/executions?stateMachineArn=" + quote(machine, safe=""))
    web.page.wait_for_selector("#executions tbody tr a")
    # The children belong to the Map Run, not to the list of executions.
    assert web.page.locator("#executions tbody tr a").all_inner_texts() == ["fan"]

    open_execution(web, arn)
    assert statuses(web)["Fan"] == "succeeded"
    web.page.click("#facts a[href*='mapRunArn']")
    web.page.wait_for_selector("#executions tbody tr a")
    web.page.wait_for_load_state("networkidle")
    assert web.page.locator("#executions tbody tr a").count() == 3
    assert "Map Run" in web.page.locator("#scope").inner_text()


def test_overview_counts_runs_and_lists_failures(
    web: Watched, runs: Runs, console: Console
) -> None:
    sfn = console.client("stepfunctions")
    listed = sfn.list_executions(stateMachineArn=runs.machine)["executions"]
    expected: dict[str, int] = {}
    for e in listed:
        expected[e["status"]] = expected.get(e["status"], 0) + 1
    web.goto("/ui/overview")
    row = web.page.locator('#machines tr[data-machine="console-paths"]')
    row.wait_for()
    for status in ("RUNNING", "SUCCEEDED", "FAILED", "ABORTED"):
        cell = row.locator(f'td[data-count="{status}"]').inner_text()
        assert cell == str(expected.get(status, 0)), status
    failures = web.page.locator("#failures tbody").inner_text()
    assert "run-fail" in failures and "Crashed" in failures
