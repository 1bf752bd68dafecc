"""ItemReader: the items a Distributed Map iterates over, read from (local) S3.

``Resource`` picks the S3 action (``s3:getObject`` for one object, ``s3:listObjectsV2`` for a
listing) and ``ReaderConfig.InputType`` how one object turns into items. Both are tables, so
adding a format is adding a row. Every failure ends as ``States.ItemReaderFailed``, which is
what AWS reports for a reader that cannot produce its items.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from batchyard.asl.distributed_map_s3 import S3Error, S3Mapping, parse_s3_uri, resolve_location
from batchyard.asl.errors import StatesError

ITEM_READER_FAILED = "States.ItemReaderFailed"

#: AWS caps ``MaxItems`` at 100,000,000, and ``0`` means "no limit", i.e. that cap.
MAX_ITEMS_LIMIT = 100_000_000

# Cause texts AWS gives for malformed data sets, as recorded against AWS by LocalStack.
NOT_ITERABLE_CAUSE = "Attempting to map over non-iterable node."
DUPLICATE_CSV_HEADERS_CAUSE = "CSV headers cannot contain duplicates."
NEGATIVE_MAX_ITEMS_CAUSE = "field MaxItems must be positive"

CSV_DELIMITERS: dict[str, str] = {
    "COMMA": ",",
    "PIPE": "|",
    "SEMICOLON": ";",
    "SPACE": " ",
    "TAB": "\t",
}

_RESOURCE = re.compile(r"^arn:aws[a-z-]*:states:::s3:(getObject|listObjectsV2)$")

Fetch = Callable[[str, str], bytes]

# AWS reads GZIP and ZSTD compressed objects (``x.jsonl.gz``); recognised by their magic bytes.
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _failed(cause: str) -> StatesError:
    return StatesError(ITEM_READER_FAILED, cause)


def quoted_path_value(value: Any) -> str:
    """A path's value as AWS quotes it in "... refers to value "x" ..." causes.

    Strings appear as they are, anything else as its JSON text, between double quotes:
    ``"NoNumber"``, ``"1.5"``.
    """
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return f'"{text}"'


def resolve_max_items_path(value: Any, path: str) -> int:
    """Check the value ``ReaderConfig.MaxItemsPath`` selected, as AWS does before the Map Run.

    A value that is not an integer fails the state with ``States.Runtime`` right after
    ``MapStateStarted`` (the caller prefixes the cause with "An error occurred while executing
    the state '<name>' (entered at the event id #<n>). "). A negative integer passes here:
    AWS rejects it only once the Map Run has started, which :func:`read_items` does with
    ``States.ItemReaderFailed``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise StatesError(
            "States.Runtime",
            f"The MaxItemsPath field refers to value {quoted_path_value(value)} "
            f"which is not a valid integer: {path}",
        )
    return value


#: ``$$.Map.Item.Source`` of items that come from the state input rather than an ItemReader.
STATE_DATA_SOURCE = "STATE_DATA"


class ReadItems(NamedTuple):
    """Items an ItemReader produced, each with its ``$$.Map.Item.Source``."""

    items: list[Any]
    #: ``s3://bucket/key`` of the object an item came from; ``s3://bucket`` for the entries
    #: of a listing (``Transformation`` ``NONE``).
    sources: list[str]


def read_items(
    item_reader: Mapping[str, Any],
    resolved_parameters: Mapping[str, Any],
    *,
    s3_root: Path | None,
    max_items: int | None = None,
) -> list[Any]:
    """The items an ``ItemReader`` yields, in order, cut to ``MaxItems``.

    ``item_reader`` is the definition's ``ItemReader`` object; ``resolved_parameters`` its
    ``Parameters`` (JSONPath) or ``Arguments`` (JSONata), already evaluated by the caller:
    ``{"Bucket", "Key"[, "VersionId"]}`` for ``s3:getObject``, ``{"Bucket"[, "Prefix"]}`` for
    ``s3:listObjectsV2``. Buckets live under ``s3_root`` (default ``$BATCHYARD_S3_ROOT``).
    As a batchyard extension a ``Key`` of ``s3://bucket/key``, ``file:///path`` or a plain path,
    without a ``Bucket``, names the object directly.

    ``max_items`` is the value of ``ReaderConfig.MaxItemsPath`` once resolved (see
    :func:`resolve_max_items_path`); it wins over ``ReaderConfig.MaxItems``.

    Items per ``ReaderConfig.InputType``: ``JSON`` (an array, or the array at the JSON Pointer
    ``ItemsPointer``), ``JSONL`` (one value per line), ``CSV`` (one object per row, every value
    a string, headers from the ``FIRST_ROW`` or ``GIVEN`` as ``CSVHeaders``, split on
    ``CSVDelimiter``), ``MANIFEST`` (the rows of an S3 Inventory report). A listing yields
    ``{"Etag", "Key", "LastModified", "Size", "StorageClass"}`` per object, or with
    ``ReaderConfig.Transformation`` ``LOAD_AND_FLATTEN`` the items of every listed object.

    Raises ``StatesError("States.ItemReaderFailed", cause)``. See
    :func:`read_items_with_sources` for the ``$$.Map.Item.Source`` of each item.
    """
    return read_items_with_sources(
        item_reader, resolved_parameters, s3_root=s3_root, max_items=max_items
    ).items


def read_items_with_sources(
    item_reader: Mapping[str, Any],
    resolved_parameters: Mapping[str, Any],
    *,
    s3_root: Path | None,
    max_items: int | None = None,
) -> ReadItems:
    """:func:`read_items`, plus where each item came from (for ``$$.Map.Item.Source``)."""
    config: Mapping[str, Any] = item_reader.get("ReaderConfig") or {}
    limit = max_items if max_items is not None else int(config.get("MaxItems", 0))
    if limit < 0:
        raise _failed(NEGATIVE_MAX_ITEMS_CAUSE)
    if limit == 0 or limit > MAX_ITEMS_LIMIT:
        limit = MAX_ITEMS_LIMIT
    match = _RESOURCE.match(str(item_reader.get("Resource", "")))
    if match is None:
        raise _failed(f"The ItemReader Resource '{item_reader.get('Resource')}' is not supported.")
    mapping = _Lazy(s3_root)
    try:
        if match.group(1) == "getObject":
            body, source = _get_object(resolved_parameters, mapping)
            items = parse_object(body, config, mapping.fetch)
            sources = [source] * len(items)
        else:
            items, sources = _list_objects(resolved_parameters, config, mapping)
    except S3Error as exc:
        raise _failed(exc.cause) from exc
    return ReadItems(items[:limit], sources[:limit])


class _Lazy:
    """Resolve the S3 root only when S3 is actually used (plain paths need none)."""

    def __init__(self, s3_root: Path | None) -> None:
        self.s3_root = s3_root

    def get(self) -> S3Mapping:
        return S3Mapping.resolve(self.s3_root)

    def fetch(self, bucket: str, key: str) -> bytes:
        return self.get().get_object(bucket, key)


def _get_object(parameters: Mapping[str, Any], mapping: _Lazy) -> tuple[bytes, str]:
    """The object's body and its URI."""
    key = parameters.get("Key")
    if not isinstance(key, str) or not key:
        raise _failed("The ItemReader Parameters must name a Key.")
    bucket = parameters.get("Bucket")
    if bucket is None:
        if key.startswith("s3://"):
            return mapping.fetch(*parse_s3_uri(key)), key
        path = resolve_location(key, s3_root=mapping.s3_root)
        if not path.is_file():
            raise S3Error("NoSuchKey", "The specified key does not exist.", 404)
        return path.read_bytes(), key
    return mapping.fetch(str(bucket), key), f"s3://{bucket}/{key}"


def _list_objects(
    parameters: Mapping[str, Any], config: Mapping[str, Any], mapping: _Lazy
) -> tuple[list[Any], list[str]]:
    bucket = str(parameters.get("Bucket", ""))
    listing = mapping.get().list_objects(
        bucket, str(parameters.get("Prefix", "")), str(parameters.get("Delimiter", ""))
    )
    if config.get("Transformation") == "LOAD_AND_FLATTEN":
        items: list[Any] = []
        sources: list[str] = []
        for obj in listing:
            loaded = parse_object(mapping.fetch(bucket, obj.key), config, mapping.fetch)
            items.extend(loaded)
            sources.extend([f"s3://{bucket}/{obj.key}"] * len(loaded))
        return items, sources
    # The item is the listing entry as Step Functions hands it on: keys in this order,
    # LastModified in epoch seconds, the ETag with its quotes.
    entries: list[Any] = [
        {
            "Etag": obj.etag,
            "Key": obj.key,
            "LastModified": obj.last_modified,
            "Size": obj.size,
            "StorageClass": "STANDARD",
        }
        for obj in listing
    ]
    return entries, [f"s3://{bucket}"] * len(entries)


def parse_object(body: bytes, config: Mapping[str, Any], fetch: Fetch) -> list[Any]:
    """Turn one object's body into items per ``ReaderConfig.InputType`` (default ``JSON``)."""
    input_type = str(config.get("InputType", "JSON"))
    parser = _PARSERS.get(input_type)
    if parser is None:
        raise _failed(f"The ItemReader InputType '{input_type}' is not supported.")
    if body[:2] == _GZIP_MAGIC:
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError, zlib.error) as exc:
            raise _failed(f"The data set is not valid GZIP: {exc}.") from exc
    elif body[:4] == _ZSTD_MAGIC:
        raise _failed("ZSTD-compressed data sets are not supported by batchyard.")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _failed(f"The data set is not valid UTF-8: {exc.reason}.") from exc
    return parser(text, config, fetch)


def _parse_json(text: str, config: Mapping[str, Any], fetch: Fetch) -> list[Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _failed(f"The data set is not valid JSON: {exc.msg} at position {exc.pos}.") from exc
    pointer = config.get("ItemsPointer")
    if isinstance(pointer, str) and pointer:
        document = _follow_pointer(document, pointer)
    if not isinstance(document, list):
        raise _failed(NOT_ITERABLE_CAUSE)
    return document


def _follow_pointer(document: Any, pointer: str) -> Any:
    """RFC 6901: ``/a/0/b``, with ``~1`` for ``/`` and ``~0`` for ``~``."""
    current = document
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            raise _failed(f"The ItemsPointer '{pointer}' does not point into the data set.")
    return current


def _parse_jsonl(text: str, config: Mapping[str, Any], fetch: Fetch) -> list[Any]:
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise _failed(f"Line {number} of the data set is not valid JSON: {exc.msg}.") from exc
    return items


def _parse_csv(text: str, config: Mapping[str, Any], fetch: Fetch) -> list[Any]:
    delimiter_name = str(config.get("CSVDelimiter", "COMMA"))
    delimiter = CSV_DELIMITERS.get(delimiter_name)
    if delimiter is None:
        raise _failed(f"The CSVDelimiter '{delimiter_name}' is not supported.")
    try:
        # AWS's rules: "" and \" keep a quote, \\ a backslash, \<separator> a separator,
        # and a backslash before anything else is dropped -- Python's escapechar semantics.
        reader = csv.reader(io.StringIO(text), delimiter=delimiter, escapechar="\\")
        rows = [row for row in reader if row]
    except csv.Error as exc:
        raise _failed(f"The data set is not valid CSV: {exc}.") from exc
    if config.get("CSVHeaderLocation", "FIRST_ROW") == "GIVEN":
        headers = [str(header) for header in config.get("CSVHeaders") or []]
    elif rows:
        headers, rows = rows[0], rows[1:]
    else:
        headers = []
    return rows_to_items(headers, rows)


def _java_string_hash(text: str) -> int:
    """``java.lang.String.hashCode``: over UTF-16 code units, in 32 bits."""
    units = text.encode("utf-16-be")
    value = 0
    for i in range(0, len(units), 2):
        value = (31 * value + int.from_bytes(units[i : i + 2], "big")) & 0xFFFFFFFF
    return value


def java_hashmap_order(keys: list[str]) -> list[int]:
    """Positions of ``keys`` in the order a ``java.util.HashMap`` iterates them.

    Step Functions builds each CSV (and S3 Inventory) item in a default ``HashMap``, so the
    item's keys come out in bucket order: this reproduces AWS's recorded outputs
    (``Col1,Col2,Col3``; ``0,{},True`` for headers ``0,True,{}``; the docs' ``rating,
    movieId, userId, timestamp`` for ``userId,movieId,rating,timestamp``). Within a bucket,
    insertion order holds; the table doubles from 16 while it is more than 3/4 full.
    """
    capacity = 16
    while len(keys) > capacity * 3 // 4:
        capacity *= 2

    def bucket(i: int) -> int:
        h = _java_string_hash(keys[i])
        return (h ^ (h >> 16)) & (capacity - 1)

    return sorted(range(len(keys)), key=lambda i: (bucket(i), i))


def rows_to_items(headers: list[str], rows: list[list[str]]) -> list[dict[str, str]]:
    """CSV rows as objects keyed by ``headers``, in AWS's key order (:func:`java_hashmap_order`).

    A short row is padded with ``""``; fields beyond the headers are dropped.
    """
    if len(set(headers)) < len(headers):
        raise _failed(DUPLICATE_CSV_HEADERS_CAUSE)
    order = java_hashmap_order(headers)
    return [{headers[i]: row[i] if i < len(row) else "" for i in order} for row in rows]


def _parse_manifest(text: str, config: Mapping[str, Any], fetch: Fetch) -> list[Any]:
    """An S3 Inventory ``manifest.json``: the rows of every CSV report file it lists.

    The report files have no header row; ``fileSchema`` names their columns.
    """
    try:
        manifest = json.loads(text)
        destination = str(manifest["destinationBucket"]).rsplit(":", 1)[-1]
        file_format = manifest.get("fileFormat", "CSV")
        headers = [name.strip() for name in str(manifest["fileSchema"]).split(",")]
        files = [str(entry["key"]) for entry in manifest["files"]]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise _failed("The manifest is not a valid S3 Inventory manifest.") from exc
    if file_format != "CSV":
        raise _failed(f"The S3 Inventory file format '{file_format}' is not supported.")
    rows: list[list[str]] = []
    for key in files:
        body = fetch(destination, key)
        if key.endswith(".gz"):
            body = gzip.decompress(body)
        rows.extend(row for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) if row)
    return rows_to_items(headers, rows)


_PARSERS: dict[str, Callable[[str, Mapping[str, Any], Fetch], list[Any]]] = {
    "JSON": _parse_json,
    "JSONL": _parse_jsonl,
    "CSV": _parse_csv,
    "MANIFEST": _parse_manifest,
}
