"""Property: whatever JSON a client sends, the protocol layer answers with an ``AwsError``
(or accepts it) -- no other exception escapes validation and parsing."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from batchyard.api import shapes
from batchyard.api.errors import AwsError
from batchyard.api.protocol import Incoming, Route, read_input
from batchyard.api.service import Service

LOGS = Service("logs", validation_error="InvalidParameterException")
SERVICES = [LOGS, Service("stepfunctions"), Service("scheduler"), Service("ecs")]
OPERATIONS = [(s, op) for s in SERVICES for op in sorted(s.model.operation_names)]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _members(service: Service, operation: str) -> list[str]:
    shape = service.operation(operation).input_shape
    return list(shape.members) if shape is not None else []


@st.composite
def requests(draw: st.DrawFn) -> tuple[Service, str, dict[str, Any]]:
    service, operation = draw(st.sampled_from(OPERATIONS))
    names = _members(service, operation) or ["x"]
    body = draw(st.dictionaries(st.sampled_from(names), json_values, max_size=5))
    return service, operation, body


@settings(max_examples=300, deadline=None)
@given(requests())
def test_only_aws_errors_escape(request: tuple[Service, str, dict[str, Any]]) -> None:
    service, operation, body = request
    shape = service.operation(operation).input_shape
    try:
        shapes.validate(shape, body, service.validation_error)
        shapes.parse(shape, body)
    except AwsError as error:
        assert error.code in (service.validation_error, "SerializationException")
        assert error.message


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=64))
def test_any_body_bytes_parse_or_fail_as_serialization(raw: bytes) -> None:
    incoming = Incoming("POST", "/", "", {"x-amz-target": "Logs_20140328.DescribeLogGroups"}, raw)
    try:
        read_input(Route(LOGS, "DescribeLogGroups"), incoming)
    except AwsError as error:
        assert error.code == "SerializationException"
