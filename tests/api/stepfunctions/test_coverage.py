"""Every operation of botocore's stepfunctions model has a handler, and errors have AWS's shape."""

from __future__ import annotations

import json

from batchyard.api.shapes import load_service_model
from batchyard.api.stepfunctions import StepFunctionsApi
from batchyard.api.stepfunctions.common import Backend
from tests.api.conftest import send
from tests.api.stepfunctions.conftest import SfnServer


def test_every_model_operation_is_served(sfn_server: SfnServer) -> None:
    model = load_service_model("stepfunctions")
    handlers = StepFunctionsApi(Backend(sfn_server.backend.store)).handlers()
    assert set(handlers) == set(model.operation_names)
    assert set(sfn_server.app.services["stepfunctions"].handlers) == set(model.operation_names)


def test_error_body_on_the_wire(sfn_server: SfnServer) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:absent"
    status, headers, body = send(
        sfn_server.url,
        json.dumps({"stateMachineArn": arn}),
        {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AWSStepFunctions.DescribeStateMachine",
        },
        service="states",
    )
    assert status == 400
    # Measured on AWS: service errors are qualified by Step Functions' model namespace,
    # broken model constraints by the request validator's; SDKs keep what follows '#'.
    assert body == {
        "__type": "com.amazonaws.swf.service.v2.model#StateMachineDoesNotExist",
        "message": f"State Machine Does Not Exist: '{arn}'",
    }
    assert headers["x-amzn-requestid"]
    status, _, invalid = send(
        sfn_server.url,
        json.dumps({"maxResults": 1001}),
        {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
        },
        service="states",
    )
    assert (status, invalid["__type"]) == (400, "com.amazon.coral.validate#ValidationException")
    assert invalid["message"].startswith("1 validation error detected: Value '1001'")
