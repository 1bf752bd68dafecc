"""The Lambda API through boto3 against a real server: shapes, texts, invocations, logs."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from tests.api.conftest import RunningServer, send
from tests.functions.conftest import HANDLER, ROLE, create, zip_of

ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}"
LAST_MODIFIED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
STREAM = re.compile(r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
    r"Memory Size: (?P<memory>\d+) MB\tMax Memory Used: \d+ MB\t"
    r"(Init Duration: \d+\.\d\d ms\t)?(Status: timeout|Status: error\tError Type: [\w.]+)?\n$"
)


def invoke(lam: Any, name: str, event: Any, **options: Any) -> tuple[dict[str, Any], Any]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **options)
    body = response["Payload"].read()
    return response, json.loads(body) if body else None


def error_of(call: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response
    return (
        error["Error"]["Code"],
        error["Error"]["Message"],
        error["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_create_answers_lambdas_configuration(lam: Any) -> None:
    package = zip_of({"app.py": HANDLER})
    created = create(
        lam,
        "shape",
        Description="d",
        Timeout=5,
        MemorySize=256,
        Environment={"Variables": {"ALPHA": "1"}},
        Tags={"team": "batch"},
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["FunctionName"] == "shape"
    assert created["FunctionArn"] == ARN.format("shape")
    assert created["Runtime"] == "python3.12"
    assert created["Role"] == ROLE
    assert created["Handler"] == "app.handler"
    assert created["CodeSize"] == len(package)
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(package).digest()).decode()
    assert (created["Description"], created["Timeout"], created["MemorySize"]) == ("d", 5, 256)
    assert LAST_MODIFIED.match(created["LastModified"])
    assert created["Version"] == "$LATEST"
    assert created["State"] == "Pending"
    assert created["StateReasonCode"] == "Creating"
    assert created["PackageType"] == "Zip"
    assert created["Architectures"] == ["x86_64"]
    assert created["EphemeralStorage"] == {"Size": 512}
    assert created["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/shape"}
    assert created["Environment"] == {"Variables": {"ALPHA": "1"}}
    fetched = lam.get_function(FunctionName="shape")
    configuration = fetched["Configuration"]
    assert configuration["State"] == "Active"
    assert configuration["LastUpdateStatus"] == "Successful"
    assert configuration["RevisionId"] == created["RevisionId"]
    assert fetched["Code"]["RepositoryType"] == "S3"
    assert fetched["Code"]["Location"].startswith("file://")
    assert fetched["Tags"] == {"team": "batch"}
    assert lam.get_function_configuration(FunctionName=ARN.format("shape"))["Timeout"] == 5
    lam.get_waiter("function_active_v2").wait(FunctionName="shape")


def test_a_second_create_conflicts(lam: Any) -> None:
    create(lam, "twice")
    code, message, status = error_of(lambda: create(lam, "twice"))
    assert (code, message, status) == (
        "ResourceConflictException",
        "Function already exist: twice",
        409,
    )


def test_unknown_function_is_not_found(lam: Any) -> None:
    for call in (
        lambda: lam.get_function(FunctionName="nope"),
        lambda: lam.invoke(FunctionName="nope"),
        lambda: lam.delete_function(FunctionName="nope"),
        lambda: lam.update_function_configuration(FunctionName="nope", Timeout=4),
    ):
        code, message, status = error_of(call)
        assert (code, message, status) == (
            "ResourceNotFoundException",
            "Function not found: " + ARN.format("nope"),
            404,
        )


def test_errors_have_lambdas_body(server: RunningServer) -> None:
    status, headers, body = send(
        server.url, b"", {}, method="GET", path="/2015-03-31/functions/nope", service="lambda"
    )
    assert status == 404
    assert headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert body["Type"] == "User"
    assert body["Message"] == "Function not found: " + ARN.format("nope")


def test_runtimes_other_than_python_are_refused(lam: Any) -> None:
    for runtime in ("nodejs20.x", "python3.8"):
        code, message, status = error_of(lambda r=runtime: create(lam, "node", Runtime=r))
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert message == (
            f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy "
            "enum value set: [python3.9, python3.10, python3.11, python3.12, python3.13] or be "
            "a valid ARN"
        )


def test_a_broken_zip_is_refused(lam: Any) -> None:
    code, message, _ = error_of(
        lambda: lam.create_function(
            FunctionName="broken",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": b"not a zip"},
        )
    )
    assert code == "InvalidParameterValueException"
    assert message.startswith("Could not unzip uploaded file.")


def test_invoke_returns_the_result_and_the_log_tail(lam: Any) -> None:
    create(lam, "echo")
    response, payload = invoke(lam, "echo", {"n": 1}, LogType="Tail")
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert payload == {"echo": {"n": 1}, "calls": 1}
    tail = base64.b64decode(response["LogResult"]).decode()
    lines = tail.splitlines(keepends=True)
    request_id = response["ResponseMetadata"]["RequestId"]
    assert f"START RequestId: {request_id} Version: $LATEST\n" in lines
    assert 'event {"n": 1}\n' in lines
    assert f"END RequestId: {request_id}\n" in lines
    report = REPORT.match(lines[-1])
    assert report is not None and report["id"] == request_id
    # The worker's own peak, not the server's it was forked from.
    assert int(re.findall(r"Max Memory Used: (\d+) MB", lines[-1])[0]) < 128
    assert "Init Duration" in lines[-1]  # the first invocation was a cold start
    assert any(re.match(rf"^\[INFO\]\t\S+Z\t{request_id}\tprocessing ", x) for x in lines)
    again, payload = invoke(lam, "echo", {"n": 2}, LogType="Tail")
    assert payload["calls"] == 2  # the same warm worker
    assert "Init Duration" not in base64.b64decode(again["LogResult"]).decode()


def test_a_raising_handler_answers_lambdas_error_document(lam: Any) -> None:
    create(lam, "fails")
    response, payload = invoke(lam, "fails", {"action": "fail", "why": "x"})
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert list(payload) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert payload["errorMessage"] == "bad input: x"
    assert payload["errorType"] == "ValueError"
    assert payload["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert payload["stackTrace"][0].startswith('  File "')
    assert 'raise ValueError("bad input: " + str(event.get("why")))' in payload["stackTrace"][0]


def test_an_unserializable_result_is_a_marshal_error(lam: Any) -> None:
    create(lam, "marshal")
    response, payload = invoke(lam, "marshal", {"action": "unserializable"})
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.MarshalError"
    assert payload["errorMessage"] == (
        "Unable to marshal response: Object of type set is not JSON serializable"
    )


def test_a_timeout_kills_the_worker_and_the_next_call_gets_a_new_one(lam: Any) -> None:
    create(lam, "slow", Timeout=1)
    _, first = invoke(lam, "slow", {"action": "context"})
    response, payload = invoke(lam, "slow", {"action": "sleep", "seconds": 5}, LogType="Tail")
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert payload == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after 1.00 seconds",
    }
    tail = base64.b64decode(response["LogResult"]).decode()
    assert re.search(rf"Z {request_id} Task timed out after 1\.00 seconds\n", tail)
    assert tail.endswith("Status: timeout\n")
    _, after = invoke(lam, "slow", {"action": "context"})
    assert after["pid"] != first["pid"]
    assert after["calls"] == 1


def test_a_runtime_that_exits_is_an_exit_error(lam: Any) -> None:
    create(lam, "exits")
    response, payload = invoke(lam, "exits", {"action": "exit", "status": 3}, LogType="Tail")
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert payload == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status 3",
    }
    report = base64.b64decode(response["LogResult"]).decode().splitlines(keepends=True)[-1]
    assert report.endswith("\tStatus: error\tError Type: Runtime.ExitError\n")
    _, again = invoke(lam, "exits", {"n": 1})
    assert again["echo"] == {"n": 1}


def test_memory_is_limited(lam: Any) -> None:
    create(lam, "hungry", MemorySize=128)
    response, payload = invoke(lam, "hungry", {"action": "allocate", "mib": 4096})
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "MemoryError"
    _, small = invoke(lam, "hungry", {"action": "allocate", "mib": 16})
    assert small == 16 * 1024 * 1024
    # Resident memory past MemorySize: the runtime is killed, as Lambda's cgroup does.
    response, payload = invoke(
        lam, "hungry", {"action": "fill", "mib": 300, "hold": 5}, LogType="Tail"
    )
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert payload == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: signal: killed",
    }
    report = base64.b64decode(response["LogResult"]).decode().splitlines(keepends=True)[-1]
    assert REPORT.match(report)
    assert report.endswith(
        "Max Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory\n"
    )
    _, fits = invoke(lam, "hungry", {"action": "fill", "mib": 16})
    assert fits == 16 * 1024 * 1024


def test_an_import_error_is_reported_like_the_runtime(lam: Any) -> None:
    create(lam, "noimport", source="import not_a_module_here\n")
    response, payload = invoke(lam, "noimport", {})
    assert response["FunctionError"] == "Unhandled"
    assert payload == {
        "errorMessage": "Unable to import module 'app': No module named 'not_a_module_here'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }
    create(lam, "nohandler", source="x = 1\n")
    _, missing = invoke(lam, "nohandler", {})
    assert missing["errorType"] == "Runtime.HandlerNotFound"
    assert missing["errorMessage"] == "Handler 'handler' missing on module 'app'"


def test_context_and_environment_are_lambdas(lam: Any) -> None:
    create(lam, "ctx", MemorySize=256, Environment={"Variables": {"GREETING": "hi"}})
    _, context = invoke(lam, "ctx", {"action": "context"})
    assert context["function_name"] == "ctx"
    assert context["memory_limit_in_mb"] == "256"
    assert context["invoked_function_arn"] == ARN.format("ctx")
    assert context["log_group_name"] == "/aws/lambda/ctx"
    assert STREAM.match(context["log_stream_name"])
    assert context["remaining_positive"] is True
    names = [
        "GREETING",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_REGION",
        "_HANDLER",
        "AWS_EXECUTION_ENV",
    ]
    _, env = invoke(lam, "ctx", {"action": "env", "names": names})
    assert env == {
        "GREETING": "hi",
        "AWS_LAMBDA_FUNCTION_NAME": "ctx",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": "us-east-1",
        "_HANDLER": "app.handler",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    }


def test_the_client_context_reaches_the_handler(lam: Any) -> None:
    create(lam, "client")
    sent = {"client": {"app_title": "batch"}, "custom": {"k": "v"}, "env": {}}
    encoded = base64.b64encode(json.dumps(sent).encode()).decode()
    _, received = invoke(lam, "client", {"action": "client"}, ClientContext=encoded)
    assert received == {"custom": {"k": "v"}, "app": "batch"}
    _, nothing = invoke(lam, "client", {"action": "client"})
    assert nothing is None


def test_updates_replace_the_warm_worker(lam: Any) -> None:
    create(lam, "updated", Environment={"Variables": {"GREETING": "hi"}})
    _, before = invoke(lam, "updated", {"action": "context"})
    changed = lam.update_function_configuration(
        FunctionName="updated", Environment={"Variables": {"GREETING": "hello"}}, Timeout=7
    )
    assert changed["LastUpdateStatus"] == "InProgress"
    assert changed["Timeout"] == 7
    _, env = invoke(lam, "updated", {"action": "env", "names": ["GREETING"]})
    assert env == {"GREETING": "hello"}
    _, after = invoke(lam, "updated", {"action": "context"})
    assert after["pid"] != before["pid"]
    new_source = "def handler(event, context):\n    return 'v2'\n"
    code = lam.update_function_code(FunctionName="updated", ZipFile=zip_of({"app.py": new_source}))
    assert code["CodeSha256"] != changed["CodeSha256"]
    assert code["Timeout"] == 7
    _, result = invoke(lam, "updated", {})
    assert result == "v2"
    code, _, status = error_of(
        lambda: lam.update_function_configuration(
            FunctionName="updated", Timeout=8, RevisionId="stale"
        )
    )
    assert (code, status) == ("PreconditionFailedException", 412)


def test_event_and_dry_run_invocations(lam: Any, logs: Any) -> None:
    create(lam, "async")
    dry = lam.invoke(FunctionName="async", InvocationType="DryRun")
    assert dry["StatusCode"] == 204
    event = lam.invoke(
        FunctionName="async", InvocationType="Event", Payload=b'{"marker": "async-42"}'
    )
    assert event["StatusCode"] == 202
    assert event["Payload"].read() == b""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            found = logs.filter_log_events(logGroupName="/aws/lambda/async")["events"]
        except ClientError:
            found = []
        if any("async-42" in e["message"] for e in found):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the Event invocation's output never reached the log group")


def test_invalid_json_payload_is_refused(lam: Any) -> None:
    create(lam, "strict")
    code, message, status = error_of(lambda: lam.invoke(FunctionName="strict", Payload=b"{x"))
    assert (code, status) == ("InvalidRequestContentException", 400)
    assert message.startswith("Could not parse request body into json: ")


def test_logs_go_to_the_functions_group(lam: Any, logs: Any) -> None:
    create(lam, "logged")
    response, _ = invoke(lam, "logged", {"hello": "logs"})
    request_id = response["ResponseMetadata"]["RequestId"]
    # The service ships logs in the background: wait for the REPORT line.
    deadline = time.monotonic() + 20
    messages: list[str] = []
    while time.monotonic() < deadline:
        try:
            streams = logs.describe_log_streams(logGroupName="/aws/lambda/logged")["logStreams"]
        except ClientError:  # the group appears with the first batch
            streams = []
        if streams:
            name = streams[0]["logStreamName"]
            events = logs.get_log_events(
                logGroupName="/aws/lambda/logged", logStreamName=name, startFromHead=True
            )["events"]
            messages = [e["message"] for e in events]
            if any(m.startswith("REPORT") for m in messages):
                break
        time.sleep(0.1)
    assert STREAM.match(name)
    assert messages[0].startswith("INIT_START Runtime Version: python:3.12")
    assert messages[1] == "module loaded\n"  # init output precedes START
    assert messages[2] == f"START RequestId: {request_id} Version: $LATEST\n"
    assert messages[-2] == f"END RequestId: {request_id}\n"
    assert REPORT.match(messages[-1])


def test_tags(lam: Any) -> None:
    arn = create(lam, "tagged", Tags={"team": "batch"})["FunctionArn"]
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "batch"}
    revision = lam.get_function(FunctionName="tagged")["Configuration"]["RevisionId"]
    lam.tag_resource(Resource=arn, Tags={"batchyard:owner": "ops", "team": "data"})
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "data", "batchyard:owner": "ops"}
    lam.untag_resource(Resource=arn, TagKeys=["team"])
    assert lam.get_function(FunctionName="tagged")["Tags"] == {"batchyard:owner": "ops"}
    assert lam.get_function(FunctionName="tagged")["Configuration"]["RevisionId"] == revision
    code, message, _ = error_of(lambda: lam.list_tags(Resource=ARN.format("untagged-nope")))
    assert (code, message) == (
        "ResourceNotFoundException",
        "Function not found: " + ARN.format("untagged-nope"),
    )


def test_list_pages_and_delete(lam: Any) -> None:
    for name in ("list-a", "list-b", "list-c"):
        create(lam, name)
    names: list[str] = []
    marker: str | None = None
    while True:
        page = lam.list_functions(MaxItems=2, **({"Marker": marker} if marker else {}))
        assert len(page["Functions"]) <= 2
        names.extend(f["FunctionName"] for f in page["Functions"])
        marker = page.get("NextMarker")
        if not marker:
            break
    assert {"list-a", "list-b", "list-c"} <= set(names)
    listed = lam.list_functions()["Functions"][0]
    assert not {"State", "LastUpdateStatus", "RuntimeVersionConfig"} & set(listed)
    assert listed["Version"] == "$LATEST" and "CodeSha256" in listed
    assert names == sorted(names)
    deleted = lam.delete_function(FunctionName="list-b")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    code, _, _ = error_of(lambda: lam.get_function(FunctionName="list-b"))
    assert code == "ResourceNotFoundException"


CHATTY = """
import threading

def chatter():
    for i in range(20000):
        print("background line", i, "x" * 200)

def handler(event, context):
    threading.Thread(target=chatter, daemon=True).start()
    return {"big": "y" * 100000, "n": event["n"]}
"""


def test_output_of_background_threads_never_breaks_the_answers(lam: Any) -> None:
    create(lam, "chatty", source=CHATTY)
    for n in range(5):
        response, payload = invoke(lam, "chatty", {"n": n})
        assert "FunctionError" not in response
        assert payload == {"big": "y" * 100000, "n": n}
