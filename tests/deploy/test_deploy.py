"""``batchyard deploy`` against a real server: plan, apply, re-apply, update, delete."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from batchyard.deploy.resources.functions import zip_directory
from tests.api.conftest import RunningServer
from tests.cli.conftest import Cli, write

DEFINITION = {
    "StartAt": "Import",
    "States": {
        "Import": {
            "Type": "Task",
            "Resource": "arn:aws:states:::ecs:runTask.sync",
            "Parameters": {"Cluster": "deploy-cluster", "TaskDefinition": "deploy-import"},
            "Retry": [{"ErrorEquals": ["ECS.TaskFailedToStart"], "MaxAttempts": 3}],
            "End": True,
        }
    },
}

PROJECT = """\
project: deploy-test
log_groups:
  /ecs/deploy-test:
    retention_days: 14
clusters:
  - deploy-cluster
egress_profiles:
  partner:
    proxy: http://127.0.0.1:3128
task_definitions:
  deploy-import:
    networkMode: none
    requiresCompatibilities: [EC2]
    cpu: "256"
    memory: "{memory}"
    containerDefinitions:
      - name: app
        image: busybox
        essential: true
        command: ["sh", "-c", "echo importing"]
        logConfiguration:
          logDriver: awslogs
          options:
            awslogs-group: /ecs/deploy-test
            awslogs-region: us-east-1
            awslogs-stream-prefix: import
    tags:
      batchyard:inject-start-failures: "1"
      batchyard:egress: partner
functions:
  notify:
    directory: functions/notify
    handler: app.handler
    runtime: python3.12
    timeout: 10
    memory: 256
    environment:
      CHANNEL: "{channel}"
state_machines:
  nightly:
    definition: nightly.asl.json
    logging:
      level: ALL
      include_execution_data: true
      log_group: /aws/vendedlogs/states/deploy-test
schedule_groups:
  deploy-test:
    policies:
      overlap: forbid
      catch-up: "{catch_up}"
schedules:
  nightly:
    expression: "{expression}"
    timezone: Europe/Berlin
    target: nightly
    input:
      mode: full
"""


def make_project(
    root: Path,
    *,
    memory: str = "512",
    channel: str = "ops",
    catch_up: str = "latest",
    expression: str = "cron(0 2 * * ? *)",
    handler_body: str = "return {'ok': True}",
) -> Path:
    write(root / "nightly.asl.json", json.dumps(DEFINITION, indent=2))
    write(
        root / "functions" / "notify" / "app.py",
        f"def handler(event, context):\n    {handler_body}\n",
    )
    text = PROJECT
    for key, value in {
        "memory": memory,
        "channel": channel,
        "catch_up": catch_up,
        "expression": expression,
    }.items():
        text = text.replace("{" + key + "}", value)
    return write(root / "batchyard.yaml", text)


def plan_lines(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.startswith("  ")]


def _tags(items: list[dict[str, str]]) -> dict[str, str]:
    return {t.get("key", t.get("Key", "")): t.get("value", t.get("Value", "")) for t in items}


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("project")


def test_dry_run_plans_everything_and_changes_nothing(
    cli: Cli, server: RunningServer, project_dir: Path
) -> None:
    path = make_project(project_dir)
    result = cli(
        "deploy", "--file", str(path), "--dry-run", "--server-data-dir", str(server.data_dir)
    )
    assert result.exit_code == 0, result.output
    assert plan_lines(result.stdout) == [
        "= egress profile partner",
        "+ log group /ecs/deploy-test",
        "+ log group /aws/vendedlogs/states/deploy-test",
        "+ cluster deploy-cluster",
        "+ task definition deploy-import",
        "+ function notify",
        "+ state machine nightly",
        "+ schedule group deploy-test (policies: overlap=forbid, catch-up=latest)",
        "+ schedule nightly (cron(0 2 * * ? *) Europe/Berlin)",
    ]
    assert "Plan: 8 to create, 0 to update, 0 to delete, 1 unchanged." in result.stdout
    sfn = server.client("stepfunctions")
    assert not [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == "nightly"]


def test_apply_creates_resources_through_the_apis(
    cli: Cli, server: RunningServer, project_dir: Path
) -> None:
    path = make_project(project_dir)
    result = cli("deploy", "-f", str(path), "--server-data-dir", str(server.data_dir))
    assert result.exit_code == 0, result.output
    assert "Deployed 8 change(s)." in result.stdout

    egress = json.loads((server.data_dir / "egress.json").read_text())
    assert egress["partner"] == {"proxy": "http://127.0.0.1:3128"}

    logs = server.client("logs")
    group = logs.describe_log_groups(logGroupNamePrefix="/ecs/deploy-test")["logGroups"][0]
    assert group["retentionInDays"] == 14
    assert logs.list_tags_log_group(logGroupName="/ecs/deploy-test")["tags"] == {
        "batchyard:project": "deploy-test"
    }

    ecs = server.client("ecs")
    described = ecs.describe_task_definition(taskDefinition="deploy-import", include=["TAGS"])
    assert described["taskDefinition"]["revision"] == 1
    assert described["taskDefinition"]["containerDefinitions"][0]["command"] == [
        "sh", "-c", "echo importing",
    ]  # fmt: skip
    assert _tags(described["tags"]) == {
        "batchyard:inject-start-failures": "1",
        "batchyard:egress": "partner",
        "batchyard:project": "deploy-test",
    }
    clusters = ecs.describe_clusters(clusters=["deploy-cluster"])["clusters"]
    assert clusters[0]["status"] == "ACTIVE"

    lam = server.client("lambda")
    function = lam.get_function(FunctionName="notify")
    archive = zip_directory(project_dir / "functions" / "notify")
    assert (
        function["Configuration"]["CodeSha256"]
        == base64.b64encode(hashlib.sha256(archive).digest()).decode()
    )
    assert function["Configuration"]["Environment"]["Variables"] == {"CHANNEL": "ops"}
    assert function["Configuration"]["MemorySize"] == 256
    invoked = lam.invoke(FunctionName="notify", Payload=b"{}")
    assert json.loads(invoked["Payload"].read()) == {"ok": True}  # the zipped code runs

    sfn = server.client("stepfunctions")
    machine_arn = next(
        m["stateMachineArn"]
        for m in sfn.list_state_machines()["stateMachines"]
        if m["name"] == "nightly"
    )
    machine = sfn.describe_state_machine(stateMachineArn=machine_arn)
    assert json.loads(machine["definition"]) == DEFINITION
    assert machine["loggingConfiguration"]["level"] == "ALL"
    assert machine["loggingConfiguration"]["includeExecutionData"] is True
    destination = machine["loggingConfiguration"]["destinations"][0]
    assert destination["cloudWatchLogsLogGroup"]["logGroupArn"].endswith(
        ":log-group:/aws/vendedlogs/states/deploy-test:*"
    )

    scheduler = server.client("scheduler")
    schedule = scheduler.get_schedule(Name="nightly", GroupName="deploy-test")
    assert schedule["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert schedule["Target"]["Arn"] == machine_arn
    assert json.loads(schedule["Target"]["Input"]) == {"mode": "full"}
    group_arn = scheduler.get_schedule_group(Name="deploy-test")["Arn"]
    assert _tags(scheduler.list_tags_for_resource(ResourceArn=group_arn)["Tags"]) == {
        "batchyard:overlap": "forbid",
        "batchyard:catch-up": "latest",
        "batchyard:project": "deploy-test",
    }
    listed = json.loads(cli("schedules", "list", "--group", "deploy-test", "-o", "json").stdout)
    assert [(row["name"], row["policies"]) for row in listed] == [
        ("nightly", "catch-up=latest overlap=forbid")
    ]


def test_second_deploy_changes_nothing(cli: Cli, server: RunningServer, project_dir: Path) -> None:
    path = make_project(project_dir)
    result = cli("deploy", "-f", str(path), "--server-data-dir", str(server.data_dir))
    assert result.exit_code == 0, result.output
    lines = plan_lines(result.stdout)
    assert len(lines) == 9 and all(line.startswith("= ") for line in lines), lines
    assert "Nothing to do." in result.stdout
    described = server.client("ecs").describe_task_definition(taskDefinition="deploy-import")
    assert described["taskDefinition"]["revision"] == 1  # no new revision


def test_changes_are_updates_that_say_what_changed(
    cli: Cli, server: RunningServer, project_dir: Path
) -> None:
    path = make_project(
        project_dir,
        memory="1024",
        channel="night-ops",
        catch_up="none",
        expression="cron(30 3 * * ? *)",
        handler_body="return {'ok': False}",
    )
    DEFINITION["States"]["Import"]["Retry"][0]["MaxAttempts"] = 5
    try:
        write(project_dir / "nightly.asl.json", json.dumps(DEFINITION))
        result = cli("deploy", "-f", str(path), "--server-data-dir", str(server.data_dir))
    finally:
        DEFINITION["States"]["Import"]["Retry"][0]["MaxAttempts"] = 3
    assert result.exit_code == 0, result.output
    lines = plan_lines(result.stdout)
    assert "~ task definition deploy-import (new revision; changed: memory)" in lines
    assert "~ function notify (changed: Environment.Variables.CHANNEL, code)" in lines
    assert "~ state machine nightly (definition (nightly.asl.json))" in lines
    assert "~ schedule group deploy-test (policies: overlap=forbid, catch-up=none)" in lines
    assert "~ schedule nightly (expression cron(0 2 * * ? *) -> cron(30 3 * * ? *))" in lines
    assert "= log group /ecs/deploy-test" in lines

    ecs = server.client("ecs")
    described = ecs.describe_task_definition(taskDefinition="deploy-import")["taskDefinition"]
    assert (described["revision"], described["memory"]) == (2, "1024")
    schedule = server.client("scheduler").get_schedule(Name="nightly", GroupName="deploy-test")
    assert schedule["ScheduleExpression"] == "cron(30 3 * * ? *)"
    invoked = server.client("lambda").invoke(FunctionName="notify", Payload=b"{}")
    assert json.loads(invoked["Payload"].read()) == {"ok": False}  # the new code runs

    again = cli("deploy", "-f", str(path), "--server-data-dir", str(server.data_dir))
    assert "Nothing to do." in again.stdout, again.output


def test_removed_resources_are_deleted_only_when_deploy_created_them(
    cli: Cli, server: RunningServer, project_dir: Path
) -> None:
    sfn = server.client("stepfunctions")
    sfn.create_state_machine(
        name="hand-made",
        definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/x",
    )
    text = (project_dir / "batchyard.yaml").read_text()
    trimmed = text.split("functions:")[0] + "state_machines:" + text.split("state_machines:")[1]
    trimmed = trimmed.split("schedule_groups:")[0]
    path = write(project_dir / "smaller.yaml", trimmed)
    result = cli("deploy", "-f", str(path))
    assert result.exit_code == 0, result.output
    lines = plan_lines(result.stdout)
    deletes = [line for line in lines if line.startswith("- ")]
    assert deletes == [
        "- schedule nightly",
        "- schedule group deploy-test",
        "- function notify",
    ]
    assert "hand-made" not in result.stdout
    names = {m["name"] for m in sfn.list_state_machines()["stateMachines"]}
    assert {"hand-made", "nightly"} <= names
    functions = server.client("lambda").list_functions().get("Functions", [])
    assert "notify" not in {f["FunctionName"] for f in functions}
    groups = server.client("scheduler").list_schedule_groups().get("ScheduleGroups", [])
    assert "deploy-test" not in {g["Name"] for g in groups}


def test_server_error_during_apply_is_one_line(
    cli: Cli, server: RunningServer, tmp_path: Path
) -> None:
    path = write(tmp_path / "batchyard.yaml", "project: broken\nlog_groups:\n  'bad name!': {}\n")
    result = cli("deploy", "-f", str(path))
    assert result.exit_code == 1
    assert "applying + log group bad name!" in result.stdout
    assert result.stderr.startswith("error: InvalidParameterException: "), result.stderr
    assert "Traceback" not in result.output


EGRESS_PROJECT = """\
project: egress-test
egress_profiles:
  late:
    proxy: http://127.0.0.1:3129
task_definitions:
  egress-job:
    containerDefinitions:
      - name: app
        image: busybox
        memory: 128
    tags:
      batchyard:egress: late
"""


def test_egress_profile_missing_on_the_server_fails_clearly(
    cli: Cli, server: RunningServer, tmp_path: Path
) -> None:
    path = write(tmp_path / "batchyard.yaml", EGRESS_PROJECT)
    result = cli("deploy", "-f", str(path))
    assert result.exit_code == 1
    assert "= egress profile late (not checked: the server must define it" in result.stdout
    assert result.stderr.startswith(
        "error: InvalidParameterException: Unknown egress profile 'late'"
    ), result.stderr


def test_egress_profiles_are_written_for_a_local_server(
    cli: Cli, server: RunningServer, tmp_path: Path
) -> None:
    path = write(tmp_path / "batchyard.yaml", EGRESS_PROJECT)
    result = cli("deploy", "-f", str(path), "--server-data-dir", str(server.data_dir))
    assert result.exit_code == 0, result.output
    assert (
        f"+ egress profile late (proxy=http://127.0.0.1:3129; into {server.data_dir}/egress.json)"
        in plan_lines(result.stdout)
    )
    profiles = json.loads((server.data_dir / "egress.json").read_text())
    assert profiles["late"] == {"proxy": "http://127.0.0.1:3129"}
    assert "partner" in profiles  # profiles deploy does not declare are kept
    tags = server.client("ecs").describe_task_definition(
        taskDefinition="egress-job", include=["TAGS"]
    )["tags"]
    assert {"key": "batchyard:egress", "value": "late"} in tags
    again = cli("deploy", "-f", str(path), "--server-data-dir", str(server.data_dir))
    assert "Nothing to do." in again.stdout


def test_cluster_tags_are_created_and_updated(
    cli: Cli, server: RunningServer, tmp_path: Path
) -> None:
    text = "project: clusters\nclusters:\n  tagged:\n    tags:\n      batchyard:runner: {runner}\n"
    path = write(tmp_path / "batchyard.yaml", text.format(runner="local"))
    assert cli("deploy", "-f", str(path)).exit_code == 0
    ecs = server.client("ecs")

    def tags() -> dict[str, str]:
        cluster = ecs.describe_clusters(clusters=["tagged"], include=["TAGS"])["clusters"][0]
        return _tags(cluster["tags"])

    assert tags() == {"batchyard:runner": "local", "batchyard:project": "clusters"}
    write(tmp_path / "batchyard.yaml", text.format(runner="docker"))
    result = cli("deploy", "-f", str(path))
    assert "~ cluster tagged (tags)" in plan_lines(result.stdout), result.output
    assert tags() == {"batchyard:runner": "docker", "batchyard:project": "clusters"}


def test_a_changed_type_replaces_the_state_machine(
    cli: Cli, server: RunningServer, tmp_path: Path
) -> None:
    write(
        tmp_path / "m.asl.json", json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    )
    text = "project: retype\nstate_machines:\n  retyped:\n    definition: m.asl.json\n    type: {kind}\n"
    path = write(tmp_path / "batchyard.yaml", text.format(kind="STANDARD"))
    assert cli("deploy", "-f", str(path)).exit_code == 0
    write(tmp_path / "batchyard.yaml", text.format(kind="EXPRESS"))
    result = cli("deploy", "-f", str(path))
    assert result.exit_code == 0, result.output
    assert "~ state machine retyped (type STANDARD -> EXPRESS (replaced))" in plan_lines(
        result.stdout
    )
    sfn = server.client("stepfunctions")
    arn = next(
        m["stateMachineArn"]
        for m in sfn.list_state_machines()["stateMachines"]
        if m["name"] == "retyped"
    )
    assert sfn.describe_state_machine(stateMachineArn=arn)["type"] == "EXPRESS"
    assert "Nothing to do." in cli("deploy", "-f", str(path)).stdout


def test_definition_substitutions(cli: Cli, server: RunningServer, tmp_path: Path) -> None:
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "Parameters": {"Cluster": "${Cluster}", "TaskDefinition": "${Unset}"},
                "End": True,
            }
        },
    }
    write(tmp_path / "s.asl.json", json.dumps(definition))
    path = write(
        tmp_path / "batchyard.yaml",
        "project: subst\nstate_machines:\n  subst:\n    definition: s.asl.json\n"
        "    substitutions:\n      Cluster: night-cluster\n",
    )
    assert cli("deploy", "-f", str(path)).exit_code == 0
    sfn = server.client("stepfunctions")
    arn = next(
        m["stateMachineArn"]
        for m in sfn.list_state_machines()["stateMachines"]
        if m["name"] == "subst"
    )
    deployed = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
    assert deployed["States"]["Run"]["Parameters"] == {
        "Cluster": "night-cluster",
        "TaskDefinition": "${Unset}",
    }
    assert "Nothing to do." in cli("deploy", "-f", str(path)).stdout


def test_a_schedule_may_target_a_state_machine_by_arn(
    cli: Cli, server: RunningServer, tmp_path: Path
) -> None:
    sfn = server.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="elsewhere",
        definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/x",
    )["stateMachineArn"]
    text = (
        f"project: by-arn\nschedules:\n  hourly:\n    expression: rate(1 hour)\n    target: {arn}\n"
    )
    path = write(tmp_path / "batchyard.yaml", text)
    result = cli("deploy", "-f", str(path))
    assert result.exit_code == 0, result.output
    schedule = server.client("scheduler").get_schedule(Name="hourly", GroupName="by-arn")
    assert schedule["Target"]["Arn"] == arn
    assert "Nothing to do." in cli("deploy", "-f", str(path)).stdout
    bad = write(tmp_path / "bad.yaml", text.replace(arn, "arn:aws:lambda:us-east-1:1:function:f"))
    refused = cli("deploy", "-f", str(bad))
    assert refused.exit_code == 1
    assert "schedules.hourly.target: a target ARN must be a state machine's ARN" in refused.stderr
