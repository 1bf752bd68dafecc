"""AWS's wire protocols: which operation a request calls, its input, and the reply bytes.

* **AWS JSON 1.0/1.1** (logs, stepfunctions, ecs): ``POST /`` with ``X-Amz-Target:
  <targetPrefix>.<Operation>`` and the input as the JSON body.
* **rest-json** (scheduler, lambda): the operation is found from the method and the path
  template of the model's ``http.requestUri``; input members come from the path labels, the
  query string, headers and the JSON body (or a payload member), as their ``location`` says.

``Router.route`` resolves the operation, ``read_input`` builds the raw parameter dict (still
wire values: validation and parsing happen in ``shapes``), and ``reply``/``error_reply`` write
responses, so that the one error shape is produced in one place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from botocore.model import StructureShape  # type: ignore[import-untyped]

from batchyard.api import shapes
from batchyard.api.errors import AwsError, serialization, unknown_operation
from batchyard.api.service import Service


@dataclass(frozen=True)
class Incoming:
    method: str
    raw_path: str
    raw_query: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class Route:
    service: Service
    operation: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class _Template:
    method: str
    pattern: re.Pattern[str]
    literal_query: tuple[tuple[str, str], ...]
    specificity: tuple[int, int]
    service: Service
    operation: str


def _compile_uri(uri: str) -> tuple[re.Pattern[str], tuple[tuple[str, str], ...], tuple[int, int]]:
    path, _, query = uri.partition("?")
    regex, literal = "", 0
    for piece in re.split(r"(\{[^}]+\})", path):
        if piece.startswith("{"):
            name = piece[1:-1]
            greedy = name.endswith("+")
            name = name.rstrip("+")
            regex += f"(?P<{name}>.+)" if greedy else f"(?P<{name}>[^/]+)"
        else:
            regex += re.escape(piece)
            literal += len(piece)
    literal_query = tuple((k, v) for k, v in parse_qsl(query, keep_blank_values=True))
    return (
        re.compile(f"^{regex.rstrip('/') or ''}/?$"),
        literal_query,
        (literal, len(literal_query)),
    )


class Router:
    """Find the service and operation a request calls."""

    def __init__(self) -> None:
        self._by_target: dict[str, Service] = {}
        self._templates: list[_Template] = []

    def add(self, service: Service) -> None:
        if service.protocol == "json":
            assert service.target_prefix is not None
            self._by_target[service.target_prefix] = service
        elif service.protocol == "rest-json":
            for name in service.model.operation_names:
                http = service.operation(name).http
                pattern, query, spec = _compile_uri(http["requestUri"])
                self._templates.append(
                    _Template(http["method"], pattern, query, spec, service, name)
                )
            # The most literal template wins ("/functions/{F}/policy" over "/functions/{F+}").
            self._templates.sort(key=lambda t: t.specificity, reverse=True)
        else:
            raise ValueError(f"protocol {service.protocol!r} of {service.name} is not supported")

    def service_for_target(self, target: str | None) -> Service | None:
        if not target:
            return None
        return self._by_target.get(target.rpartition(".")[0])

    def route(self, incoming: Incoming, signing_name: str | None = None) -> Route:
        target = incoming.headers.get("x-amz-target")
        if target is not None:
            service = self.service_for_target(target)
            operation = target.rpartition(".")[2]
            if service is None or operation not in service.model.operation_names:
                raise unknown_operation()
            return Route(service, operation)
        query = dict(parse_qsl(incoming.raw_query, keep_blank_values=True))
        for template in self._templates:
            if template.method != incoming.method:
                continue
            if signing_name is not None and template.service.signing_name != signing_name:
                continue
            match = template.pattern.match(incoming.raw_path)
            if match is None or any(query.get(k) != v for k, v in template.literal_query if v):
                continue
            if any(k not in query for k, _ in template.literal_query):
                continue
            labels = {k: unquote(v) for k, v in match.groupdict().items()}
            return Route(template.service, template.operation, labels)
        raise unknown_operation()


def _json_body(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise serialization("Start of structure or map found where not expected.") from exc


def read_input(route: Route, incoming: Incoming) -> dict[str, Any]:
    """The request's parameters as wire values, keyed by member name."""
    shape = route.service.operation(route.operation).input_shape
    if route.service.protocol == "json":
        body = _json_body(incoming.body)
        if not isinstance(body, dict):
            raise serialization("Start of structure or map found where not expected.")
        return body
    if shape is None:
        return {}
    return _read_rest(shape, route, incoming)


def _read_rest(shape: StructureShape, route: Route, incoming: Incoming) -> dict[str, Any]:
    params: dict[str, Any] = {}
    query_pairs = parse_qsl(incoming.raw_query, keep_blank_values=True)
    payload = shape.serialization.get("payload")
    body_members: dict[str, Any] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri":
            if wire in route.labels:
                params[name] = _scalar(member.type_name, route.labels[wire])
        elif location == "querystring":
            values = [v for k, v in query_pairs if k == wire]
            if values:
                params[name] = (
                    [_scalar(_member_type(member), v) for v in values]
                    if member.type_name == "list"
                    else _scalar(member.type_name, values[0])
                )
        elif location == "header":
            if wire.lower() in incoming.headers:
                params[name] = _scalar(member.type_name, incoming.headers[wire.lower()])
        elif location == "headers":
            prefix = wire.lower()
            found = {
                k[len(prefix) :]: v for k, v in incoming.headers.items() if k.startswith(prefix)
            }
            if found:
                params[name] = found
        elif name != payload:
            body_members[name] = member
    if payload is not None:
        member = shape.members[payload]
        if member.type_name in ("blob", "string"):
            if incoming.body:
                params[payload] = (
                    incoming.body.decode() if member.type_name == "string" else incoming.body
                )
        else:
            params[payload] = _json_body(incoming.body)
    elif body_members:
        body = _json_body(incoming.body)
        if not isinstance(body, dict):
            raise serialization("Start of structure or map found where not expected.")
        params.update({k: v for k, v in body.items() if k in body_members})
    return params


def _member_type(shape: Any) -> str:
    return str(shape.member.type_name)


def _scalar(kind: str, text: str) -> Any:
    """A path/query/header string as the member's wire type."""
    try:
        if kind in ("integer", "long", "short", "byte"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
    except ValueError as exc:
        raise serialization(f"Cannot convert '{text}' to {kind}") from exc
    if kind == "boolean":
        return text.lower() == "true"
    return text


# --------------------------------------------------------------------------- replies


def _content_type(service: Service | None) -> str:
    if service is None or service.protocol == "rest-json":
        return "application/json"
    return f"application/x-amz-json-{service.json_version}"


def reply(route: Route, output: Any, *, strict: bool) -> Reply:
    service = route.service
    op = service.operation(route.operation)
    shape = op.output_shape
    value = output if output is not None else {}
    if service.protocol == "json":
        body = shapes.serialize(shape, value, strict=strict)
        return Reply(200, {"Content-Type": _content_type(service)}, _dump(body))
    status = int(op.http.get("responseCode", 200))
    headers = {"Content-Type": "application/json"}
    if shape is None:
        return Reply(status, headers, b"{}")
    payload = shape.serialization.get("payload")
    body_value: dict[str, Any] = {}
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None:
            continue
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "header":
            headers[wire] = str(shapes.serialize(member, item, timestamp_format="rfc822"))
        elif location == "headers":
            headers.update({f"{wire}{k}": str(v) for k, v in item.items()})
        elif location == "statusCode":
            status = int(item)
        elif name != payload:
            body_value[name] = item
    if payload is not None:
        item = value.get(payload)
        member = shape.members[payload]
        if member.type_name == "blob":
            raw = item if isinstance(item, bytes) else (item or "").encode()
            headers["Content-Type"] = "application/octet-stream"
            return Reply(status, headers, raw)
        if member.type_name == "string":
            return Reply(status, headers, (item or "").encode())
        return Reply(status, headers, _dump(shapes.serialize(member, item or {}, strict=strict)))
    return Reply(status, headers, _dump(shapes.serialize(shape, body_value, strict=strict)))


def error_reply(service: Service | None, error: AwsError, request_id: str) -> Reply:
    """The one error shape: ``{"__type": code, "message": text}`` plus AWS's headers."""
    status = error.status
    if status is None:
        status = service.error_status(error.code) if service is not None else 400
    code = service.wire_type(error.code, error.message) if service is not None else error.code
    body: dict[str, Any] = {"__type": code}
    if error.message is not None:
        key = service.message_key(error.code) if service is not None else "message"
        body[key] = error.message
    body.update(error.fields)
    headers = {
        "Content-Type": _content_type(service),
        "x-amzn-RequestId": request_id,
        "x-amzn-ErrorType": error.code,
    }
    return Reply(status, headers, _dump(body))


def _dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
