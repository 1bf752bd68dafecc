"""Requests checked and responses written from botocore's service models.

No shape is written by hand: ``validate`` walks the operation's input shape as AWS's servers
do (required members, types, enums, lengths, ranges, patterns) and collects every violation
into AWS's one message ("2 validation errors detected: Value 'x' at 'a.1.member.b' failed to
satisfy constraint: ..."); ``parse`` turns wire values into Python ones (timestamps into aware
``datetime``, blobs into ``bytes``); ``serialize`` writes a handler's plain dict back against
the output shape, dropping ``None`` and, in strict mode, refusing members the model lacks.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import re
from collections.abc import Callable
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

import botocore.session  # type: ignore[import-untyped]
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape  # type: ignore[import-untyped]

from batchyard.api.errors import AwsError, serialization

_INTEGER_TYPES = {"integer", "long", "short", "byte"}
_FLOAT_TYPES = {"float", "double"}


@functools.cache
def load_service_model(name: str) -> ServiceModel:
    """The botocore service model of ``name`` ("logs", "stepfunctions", "ecs", ...)."""
    return botocore.session.get_session().get_service_model(name)


@functools.cache
def _pattern(text: str) -> re.Pattern[str] | None:
    # Models carry Java regexes; the few Python cannot compile are left unchecked, as a
    # too-lenient check is better than rejecting valid requests.
    try:
        return re.compile(text)
    except re.error:
        return None


def _show(value: Any) -> str:
    """A value as Java's ``toString`` prints it inside AWS's validation message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_show(v)}" for k, v in value.items()) + "}"
    return str(value)


class _Violations:
    def __init__(self, relaxed: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.items: list[str] = []
        self.constraints: list[str] = []
        self.relaxed = relaxed

    def checks(self, shape: Shape, constraint: str) -> bool:
        return constraint in shape.metadata and (shape.name, constraint) not in self.relaxed

    def add(self, value: Any, path: str, constraint: str) -> None:
        shown = "null" if value is None else f"'{_show(value)}'"
        self.items.append(f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")
        self.constraints.append(constraint)

    def nested(self) -> _Violations:
        """A collector for map keys or values, which AWS reports as one violation."""
        return _Violations(self.relaxed)

    def message(self) -> str:
        count = len(self.items)
        noun = "error" if count == 1 else "errors"
        return f"{count} validation {noun} detected: " + "; ".join(self.items)


def validate(
    shape: StructureShape | None,
    params: dict[str, Any],
    error_code: str,
    relaxed: frozenset[tuple[str, str]] = frozenset(),
) -> None:
    """Raise ``AwsError(error_code, ...)`` listing every constraint ``params`` violates.

    A value of the wrong JSON type is a ``SerializationException``, as on AWS: it fails while
    the request is read, before validation.
    """
    if shape is None:
        return
    found = _Violations(relaxed)
    _check_structure(shape, params, "", found)
    if found.items:
        raise AwsError(error_code, found.message())


def _check_structure(shape: StructureShape, value: Any, path: str, found: _Violations) -> None:
    if not isinstance(value, dict):
        raise serialization(f"Expected an object at '{path.rstrip('.') or shape.name}'")
    for name in shape.required_members:
        if value.get(name) is None:
            found.add(None, path + name, "Member must not be null")
    for name, member in shape.members.items():
        if value.get(name) is not None:
            _check(member, value[name], path + name, found)


def _check(shape: Shape, value: Any, path: str, found: _Violations) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        _check_structure(shape, value, path + ".", found)
        return
    _check_type(kind, value, path)
    if kind in ("string", "list", "map", "blob"):
        size = len(value)
        if found.checks(shape, "min") and size < meta["min"]:
            found.add(
                value, path, f"Member must have length greater than or equal to {meta['min']}"
            )
        if found.checks(shape, "max") and size > meta["max"]:
            found.add(value, path, f"Member must have length less than or equal to {meta['max']}")
    elif kind in _INTEGER_TYPES or kind in _FLOAT_TYPES:
        if found.checks(shape, "min") and value < meta["min"]:
            found.add(value, path, f"Member must have value greater than or equal to {meta['min']}")
        if found.checks(shape, "max") and value > meta["max"]:
            found.add(value, path, f"Member must have value less than or equal to {meta['max']}")
    if kind == "string":
        enum = meta.get("enum") if found.checks(shape, "enum") else None
        if enum and value not in enum:
            found.add(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        pattern = _pattern(meta["pattern"]) if found.checks(shape, "pattern") else None
        if pattern is not None and not pattern.fullmatch(value):
            found.add(
                value, path, f"Member must satisfy regular expression pattern: {meta['pattern']}"
            )
    elif kind == "list":
        assert isinstance(shape, ListShape)
        for index, item in enumerate(value, start=1):
            if item is not None:
                _check(shape.member, item, f"{path}.{index}.member", found)
    elif kind == "map":
        assert isinstance(shape, MapShape)
        # Coral reports every failing key (and value) constraint once, on the map itself:
        # "Map keys must satisfy constraint: [Member must have length ..., ...]".
        keys, values = found.nested(), found.nested()
        for key, item in value.items():
            _check(shape.key, key, path, keys)
            if item is not None:
                _check(shape.value, item, f"{path}.{key}", values)
        for which, inner in (("keys", keys), ("value", values)):
            if inner.constraints:
                listed = ", ".join(dict.fromkeys(inner.constraints))
                found.add(value, path, f"Map {which} must satisfy constraint: [{listed}]")


_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "blob": lambda v: isinstance(v, str | bytes),
    "boolean": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "map": lambda v: isinstance(v, dict),
    "timestamp": lambda v: (
        isinstance(v, int | float | str | dt.datetime) and not isinstance(v, bool)
    ),
    **{t: (lambda v: isinstance(v, int) and not isinstance(v, bool)) for t in _INTEGER_TYPES},
    **{t: (lambda v: isinstance(v, int | float) and not isinstance(v, bool)) for t in _FLOAT_TYPES},
}

_JSON_NAMES = {
    bool: "BOOLEAN_VALUE",
    str: "STRING_VALUE",
    list: "START_ARRAY",
    dict: "START_OBJECT",
}


def _check_type(kind: str, value: Any, path: str) -> None:
    accepts = _JSON_TYPES.get(kind)
    if accepts is not None and not accepts(value):
        token = _JSON_NAMES.get(type(value), "VALUE_NUMBER_INT")
        raise serialization(f"{token} can not be converted to {kind} at '{path}'")


# --------------------------------------------------------------------------- parsing


def parse(shape: Shape | None, value: Any) -> Any:
    """Wire values (already validated) to Python: timestamps -> datetime, blobs -> bytes."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return {
            k: parse(shape.members.get(k), v) if k in shape.members else v for k, v in value.items()
        }
    if kind == "list":
        assert isinstance(shape, ListShape)
        return [parse(shape.member, v) for v in value]
    if kind == "map":
        assert isinstance(shape, MapShape)
        return {k: parse(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        return parse_timestamp(value)
    if kind == "blob" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise serialization("Base64 encoded value is not valid") from exc
    return value


def parse_timestamp(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, int | float):
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise serialization(f"Invalid timestamp: {value}") from exc
    text = str(value)
    try:
        if text.replace(".", "", 1).isdigit():
            return dt.datetime.fromtimestamp(float(text), dt.UTC)
        if "," in text:  # rfc822, as in headers: "Sun, 06 Nov 1994 08:49:37 GMT"
            return parsedate_to_datetime(text)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        raise serialization(f"Invalid timestamp: {value}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# --------------------------------------------------------------------------- serialising


class OutputError(Exception):
    """A handler returned something its output shape cannot hold (a bug, answered as 500)."""


def serialize(
    shape: Shape | None,
    value: Any,
    *,
    strict: bool = False,
    timestamp_format: str = "unixTimestamp",
) -> Any:
    """A handler's plain value as JSON-ready data of ``shape``; ``None`` members omitted."""
    if shape is None:
        return {}
    return _serialize(shape, value, strict, timestamp_format, shape.name)


def _serialize(shape: Shape, value: Any, strict: bool, ts_format: str, path: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not isinstance(value, dict):
            raise OutputError(f"{path}: expected a dict, got {type(value).__name__}")
        if strict:
            unknown = set(value) - set(shape.members)
            if unknown:
                raise OutputError(f"{path}: members not in the model: {sorted(unknown)}")
        return {
            name: _serialize(member, value[name], strict, ts_format, f"{path}.{name}")
            for name, member in shape.members.items()
            if value.get(name) is not None
        }
    if kind == "list":
        assert isinstance(shape, ListShape)
        return [_serialize(shape.member, v, strict, ts_format, f"{path}[]") for v in value]
    if kind == "map":
        assert isinstance(shape, MapShape)
        return {
            str(k): _serialize(shape.value, v, strict, ts_format, f"{path}.{k}")
            for k, v in value.items()
            if v is not None
        }
    if kind == "timestamp":
        return format_timestamp(value, shape.serialization.get("timestampFormat", ts_format))
    if kind == "blob":
        data = value.encode() if isinstance(value, str) else bytes(value)
        return base64.b64encode(data).decode()
    if strict and not _JSON_TYPES.get(kind, lambda v: True)(value):
        raise OutputError(f"{path}: {value!r} is not a {kind}")
    return value


def format_timestamp(value: Any, fmt: str) -> Any:
    """Datetime or epoch seconds in the wire format (JSON protocols: epoch seconds)."""
    moment = parse_timestamp(value) if not isinstance(value, dt.datetime) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if fmt == "iso8601":
        return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if fmt == "rfc822":
        return formatdate(moment.timestamp(), usegmt=True)
    seconds = moment.timestamp()
    return int(seconds) if seconds == int(seconds) else round(seconds, 3)
