"""Distributed Map data plumbing: ItemReader, ItemBatcher, tolerated failures, ResultWriter."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchyard.asl import distributed_map as dm
from batchyard.asl.errors import StatesError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "asl" / "distributed_map"
READER_CASES = json.loads((FIXTURES / "reader_cases.json").read_text())

STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:orders"
RUN_ID = "ad9b5f27-090b-3ac6-9beb-243cd77144a7"
MAP_RUN = f"arn:aws:states:us-east-1:123456789012:mapRun:orders/Process:{RUN_ID}"
GET = {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"}}


@pytest.fixture
def s3_root(tmp_path: Path) -> Path:
    """A private copy of the fixture buckets, so tests may write and touch files."""
    root = tmp_path / "s3"
    shutil.copytree(FIXTURES / "s3", root)
    return root


# --- ItemReader ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", READER_CASES, ids=[case["name"] for case in READER_CASES])
def test_reader_case(case: dict[str, Any], s3_root: Path) -> None:
    if "error" in case:
        with pytest.raises(StatesError) as raised:
            dm.read_items(case["reader"], case["parameters"], s3_root=s3_root)
        assert (raised.value.name, raised.value.cause) == (case["error"], case["cause"])
        return
    items = dm.read_items(case["reader"], case["parameters"], s3_root=s3_root)
    if "output_json" in case:
        # Recorded against AWS as the Map state's output text: values and key order.
        assert json.dumps(items, separators=(",", ":")) == case["output_json"]
    elif "keys" in case:
        assert [item["Key"] for item in items] == case["keys"]
    else:
        assert items == case["items"]
    if "key_order" in case:
        assert [list(item) for item in items] == case["key_order"]


def test_list_objects_items_have_the_listing_shape(s3_root: Path) -> None:
    path = s3_root / "data-bucket" / "csv" / "semicolon.csv"
    os.utime(path, (1_700_000_000.75, 1_700_000_000.75))
    items = dm.read_items(
        {"Resource": "arn:aws:states:::s3:listObjectsV2"},
        {"Bucket": "data-bucket", "Prefix": "csv/semicolon"},
        s3_root=s3_root,
    )
    body = path.read_bytes()
    assert items == [
        {
            "Etag": f'"{hashlib.md5(body).hexdigest()}"',
            "Key": "csv/semicolon.csv",
            "LastModified": 1_700_000_000.0,
            "Size": len(body),
            "StorageClass": "STANDARD",
        }
    ]
    assert list(items[0]) == ["Etag", "Key", "LastModified", "Size", "StorageClass"]


def test_list_objects_orders_keys_by_utf8_bytes(tmp_path: Path) -> None:
    bucket = tmp_path / "b"
    for key in ["z.txt", "a/b.txt", "A.txt", "é.txt", "a-b.txt"]:
        (bucket / key).parent.mkdir(parents=True, exist_ok=True)
        (bucket / key).write_text(key)
    items = dm.read_items(
        {"Resource": "arn:aws:states:::s3:listObjectsV2"}, {"Bucket": "b"}, s3_root=tmp_path
    )
    assert [item["Key"] for item in items] == ["A.txt", "a-b.txt", "a/b.txt", "z.txt", "é.txt"]


def test_sources_of_items(s3_root: Path) -> None:
    got = dm.read_items_with_sources(
        {**GET, "ReaderConfig": {"InputType": "JSON", "MaxItems": 2}},
        {"Bucket": "data-bucket", "Key": "json/movies.json"},
        s3_root=s3_root,
    )
    assert got.sources == ["s3://data-bucket/json/movies.json"] * 2
    assert len(got.items) == 2
    listing = dm.read_items_with_sources(
        {"Resource": "arn:aws:states:::s3:listObjectsV2"},
        {"Bucket": "data-bucket", "Prefix": "json/m"},
        s3_root=s3_root,
    )
    assert listing.sources == ["s3://data-bucket"]
    flattened = dm.read_items_with_sources(
        {
            "Resource": "arn:aws:states:::s3:listObjectsV2",
            "ReaderConfig": {"InputType": "JSONL", "Transformation": "LOAD_AND_FLATTEN"},
        },
        {"Bucket": "data-bucket", "Prefix": "json/events"},
        s3_root=s3_root,
    )
    assert (
        flattened.sources
        == ["s3://data-bucket/json/events.jsonl"] * 4
        + ["s3://data-bucket/json/events.jsonl.gz"] * 2
    )
    assert flattened.items[-2:] == [{"id": 1}, {"id": 2}]
    direct = dm.read_items_with_sources(
        GET, {"Key": "s3://data-bucket/json/movies.json"}, s3_root=s3_root
    )
    assert direct.sources[0] == "s3://data-bucket/json/movies.json"


def test_root_comes_from_the_environment(s3_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(dm.S3_ROOT_ENV, str(s3_root))
    items = dm.read_items(GET, {"Bucket": "data-bucket", "Key": "json/movies.json"}, s3_root=None)
    assert len(items) == 5


def test_without_any_root_every_bucket_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(dm.S3_ROOT_ENV, raising=False)
    with pytest.raises(StatesError) as raised:
        dm.read_items(GET, {"Bucket": "data-bucket", "Key": "json/movies.json"}, s3_root=None)
    assert raised.value.name == "States.ItemReaderFailed"
    assert raised.value.cause.startswith("The specified bucket does not exist.")


@pytest.mark.parametrize(
    "key",
    [
        "s3://data-bucket/json/movies.json",
        "{root}/data-bucket/json/movies.json",
        "file://{root}/data-bucket/json/movies.json",
    ],
)
def test_key_alone_names_a_uri_or_a_local_path(key: str, s3_root: Path) -> None:
    items = dm.read_items(GET, {"Key": key.format(root=s3_root)}, s3_root=s3_root)
    assert items[0] == {"title": "Alien", "year": 1979}


def test_a_missing_local_path_fails_like_a_missing_key(tmp_path: Path) -> None:
    with pytest.raises(StatesError) as raised:
        dm.read_items(GET, {"Key": str(tmp_path / "nope.json")}, s3_root=None)
    assert raised.value.cause.startswith("The specified key does not exist.")


def test_max_items_from_a_path_wins_over_the_literal(s3_root: Path) -> None:
    reader = {"Resource": GET["Resource"], "ReaderConfig": {"InputType": "JSON", "MaxItems": 4}}
    params = {"Bucket": "data-bucket", "Key": "json/movies.json"}
    assert len(dm.read_items(reader, params, s3_root=s3_root, max_items=1)) == 1
    assert len(dm.read_items(reader, params, s3_root=s3_root, max_items=0)) == 5


@pytest.mark.parametrize(
    ("value", "error", "cause"),
    [
        # Recorded on AWS (cause prefixed by the interpreter with the state and event id).
        (
            1.5,
            "States.Runtime",
            'The MaxItemsPath field refers to value "1.5" which is not a valid integer: $.max',
        ),
        (
            "NoNumber",
            "States.Runtime",
            'The MaxItemsPath field refers to value "NoNumber" which is not a valid integer: $.max',
        ),
        (
            True,
            "States.Runtime",
            'The MaxItemsPath field refers to value "true" which is not a valid integer: $.max',
        ),
    ],
)
def test_max_items_path_value_is_validated(value: Any, error: str, cause: str) -> None:
    with pytest.raises(StatesError) as raised:
        dm.resolve_max_items_path(value, "$.max")
    assert (raised.value.name, raised.value.cause) == (error, cause)


def test_max_items_path_value_accepted() -> None:
    assert dm.resolve_max_items_path(7, "$.max") == 7
    assert dm.resolve_max_items_path(0, "$.max") == 0


def test_negative_max_items_fails_the_reader(s3_root: Path) -> None:
    # Recorded on AWS: MapRunStarted, then MapRunFailed with this error and cause.
    assert dm.resolve_max_items_path(-1, "$.max") == -1
    with pytest.raises(StatesError) as raised:
        dm.read_items(
            GET, {"Bucket": "data-bucket", "Key": "json/movies.json"}, s3_root=s3_root, max_items=-1
        )
    assert (raised.value.name, raised.value.cause) == (
        "States.ItemReaderFailed",
        "field MaxItems must be positive",
    )


def test_s3_inventory_manifest(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory-bucket"
    (inventory / "data").mkdir(parents=True)
    (inventory / "data" / "part-1.csv.gz").write_bytes(
        gzip.compress(
            b'"src","csvDataset/","0","2022-11-16T00:27:19.000Z"\n'
            b'"src","csvDataset/titles.csv","3399671","2022-11-16T00:29:32.000Z"\n'
        )
    )
    (inventory / "data" / "part-2.csv").write_text(
        '"src","c.csv","30","2022-11-17T00:00:00.000Z"\n'
    )
    manifest = {
        "sourceBucket": "src",
        "destinationBucket": "arn:aws:s3:::inventory-bucket",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size, LastModifiedDate",
        "files": [{"key": "data/part-1.csv.gz"}, {"key": "data/part-2.csv"}],
    }
    (inventory / "manifest.json").write_text(json.dumps(manifest))
    items = dm.read_items(
        {"Resource": GET["Resource"], "ReaderConfig": {"InputType": "MANIFEST"}},
        {"Bucket": "inventory-bucket", "Key": "manifest.json"},
        s3_root=tmp_path,
    )
    assert [item["Key"] for item in items] == ["csvDataset/", "csvDataset/titles.csv", "c.csv"]
    # The item AWS's documentation shows, with its key order.
    assert json.dumps(items[1]) == json.dumps(
        {
            "LastModifiedDate": "2022-11-16T00:29:32.000Z",
            "Bucket": "src",
            "Size": "3399671",
            "Key": "csvDataset/titles.csv",
        }
    )


def test_java_hashmap_key_order() -> None:
    from batchyard.asl.distributed_map_reader import java_hashmap_order

    def ordered(keys: list[str]) -> list[str]:
        return [keys[i] for i in java_hashmap_order(keys)]

    assert ordered(["userId", "movieId", "rating", "timestamp"]) == [
        "rating",
        "movieId",
        "userId",
        "timestamp",
    ]
    assert ordered(["0", "True", "{}"]) == ["0", "{}", "True"]
    assert ordered(["H1", ""]) == ["", "H1"]
    # Past 12 keys the table has 32 buckets, past 24 it has 64: still a permutation.
    many = [f"column{i}" for i in range(30)]
    assert sorted(ordered(many)) == sorted(many)
    assert ordered(many) != many


def test_resolve_location(tmp_path: Path) -> None:
    (tmp_path / "bkt").mkdir()
    assert dm.resolve_location("s3://bkt/a/b.json", s3_root=tmp_path) == tmp_path / "bkt/a/b.json"
    with pytest.raises(dm.S3Error) as raised:
        dm.resolve_location("s3://other/a.json", s3_root=tmp_path)
    assert raised.value.code == "NoSuchBucket"
    assert dm.resolve_location("/data/x.csv", s3_root=None) == Path("/data/x.csv")
    assert dm.resolve_location("file:///data/x.csv", s3_root=None) == Path("/data/x.csv")
    assert dm.parse_s3_uri("s3://bkt/a/b.json") == ("bkt", "a/b.json")
    assert dm.parse_s3_uri("s3://bkt") == ("bkt", "")
    with pytest.raises(ValueError):
        dm.parse_s3_uri("https://bkt/a")


# --- ItemBatcher --------------------------------------------------------------------------


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def test_batches_by_item_count_without_batch_input() -> None:
    batches = dm.batch_items([1, 2, 3, 4, 5], {"MaxItemsPerBatch": 2})
    assert batches == [{"Items": [1, 2]}, {"Items": [3, 4]}, {"Items": [5]}]


def test_batch_input_goes_into_every_batch_first() -> None:
    batches = dm.batch_items(["a", "b", "c"], {"MaxItemsPerBatch": 2, "BatchInput": {}}, {"x": 1})
    assert batches == [
        {"BatchInput": {"x": 1}, "Items": ["a", "b"]},
        {"BatchInput": {"x": 1}, "Items": ["c"]},
    ]
    assert list(batches[0]) == ["BatchInput", "Items"]


def test_byte_limit_counts_the_whole_child_input() -> None:
    items = [{"n": "x" * 10}, {"n": "y" * 10}, {"n": "z" * 10}]
    batcher: dict[str, Any] = {"BatchInput": {"job": "j"}}
    two = _size({"BatchInput": {"job": "j"}, "Items": items[:2]})
    exact = dm.batch_items(items, {**batcher, "MaxInputBytesPerBatch": two}, {"job": "j"})
    assert [len(batch["Items"]) for batch in exact] == [2, 1]
    assert _size(exact[0]) == two
    tighter = dm.batch_items(items, {**batcher, "MaxInputBytesPerBatch": two - 1}, {"job": "j"})
    assert [len(batch["Items"]) for batch in tighter] == [1, 1, 1]


def test_both_limits_whichever_comes_first() -> None:
    items = list(range(10))
    assert [len(b["Items"]) for b in dm.batch_items(items, {"MaxItemsPerBatch": 3})] == [3, 3, 3, 1]
    by_bytes = dm.batch_items(items, {"MaxItemsPerBatch": 3, "MaxInputBytesPerBatch": 15})
    # {"Items":[0,1]} is 15 bytes: the byte limit closes batches before the count does.
    assert [b["Items"] for b in by_bytes][:2] == [[0, 1], [2, 3]]


def test_resolved_path_values_win() -> None:
    batches = dm.batch_items([1, 2, 3], {"MaxItemsPerBatch": 1}, max_items_per_batch=3)
    assert batches == [{"Items": [1, 2, 3]}]
    small = dm.batch_items([1, 2, 3], {"MaxInputBytesPerBatch": 100}, max_input_bytes_per_batch=13)
    assert small == [{"Items": [1]}, {"Items": [2]}, {"Items": [3]}]


def test_bytes_are_capped_at_256_kib() -> None:
    item = "x" * 100_000
    batches = dm.batch_items([item, item, item], {"MaxInputBytesPerBatch": 10_000_000})
    assert [len(batch["Items"]) for batch in batches] == [2, 1]
    assert dm.MAX_INPUT_BYTES_PER_BATCH == 262_144


def test_an_item_too_large_for_any_batch() -> None:
    with pytest.raises(StatesError) as raised:
        dm.batch_items(["ok", "x" * 50], {"MaxInputBytesPerBatch": 30})
    assert raised.value.name == "States.DataLimitExceeded"
    assert "index 1" in raised.value.cause


def test_no_items_no_batches() -> None:
    assert dm.batch_items([], {"MaxItemsPerBatch": 5}) == []


def test_non_ascii_counts_utf8_bytes() -> None:
    # "é" is 2 bytes in UTF-8: {"Items":["é"]} is 15 bytes, two such items 21.
    assert dm.batch_items(["é", "é"], {"MaxInputBytesPerBatch": 20}) == [
        {"Items": ["é"]},
        {"Items": ["é"]},
    ]


# --- tolerated failures -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failed", "total", "count", "percentage", "exceeded"),
    [
        (0, 10, None, None, False),
        (1, 10, None, None, True),
        (2, 10, 2, None, False),
        (3, 10, 2, None, True),
        (1, 10, 0, None, True),
        (5, 10, None, 50.0, False),
        (6, 10, None, 50.0, True),
        (1, 3, None, 33.3, True),
        (1, 3, None, 33.34, False),
        (10, 10, None, 100.0, False),
        (1, 10, None, 0.0, True),
        (3, 10, 5, 20.0, True),
        (3, 10, 2, 50.0, True),
        (2, 10, 2, 20.0, False),
        (1, 0, None, 50.0, False),
    ],
)
def test_tolerated_failure_threshold(
    failed: int, total: int, count: int | None, percentage: float | None, exceeded: bool
) -> None:
    assert dm.tolerated_failure_exceeded(failed, total, count, percentage) is exceeded


@pytest.mark.parametrize(
    ("value", "cause"),
    [
        # Recorded on AWS (the interpreter adds the "An error occurred ..." prefix).
        (
            {},
            'The ToleratedFailureCountPath field refers to value "{}" which is not a valid integer: $.c',
        ),
        (
            "NoNumber",
            'The ToleratedFailureCountPath field refers to value "NoNumber" which is not a valid integer: $.c',
        ),
        (-1, "ToleratedFailureCount cannot be negative."),
    ],
)
def test_tolerated_failure_count_path_errors(value: Any, cause: str) -> None:
    with pytest.raises(StatesError) as raised:
        dm.resolve_tolerated_failure_count_path(value, "$.c")
    assert (raised.value.name, raised.value.cause) == ("States.Runtime", cause)


@pytest.mark.parametrize(
    ("value", "cause"),
    [
        (
            {},
            'The ToleratedFailurePercentagePath field refers to value "{}" which is not a valid float: $.p',
        ),
        (
            "NoNumber",
            'The ToleratedFailurePercentagePath field refers to value "NoNumber" which is not a valid float: $.p',
        ),
        (-1.1, "ToleratedFailurePercentage must be between 0 and 100."),
        (-1, "ToleratedFailurePercentage must be between 0 and 100."),
        (100.5, "ToleratedFailurePercentage must be between 0 and 100."),
    ],
)
def test_tolerated_failure_percentage_path_errors(value: Any, cause: str) -> None:
    with pytest.raises(StatesError) as raised:
        dm.resolve_tolerated_failure_percentage_path(value, "$.p")
    assert (raised.value.name, raised.value.cause) == ("States.Runtime", cause)


def test_tolerated_failure_path_values_accepted() -> None:
    assert dm.resolve_tolerated_failure_count_path(0, "$.c") == 0
    assert dm.resolve_tolerated_failure_count_path(1, "$.c") == 1
    assert dm.resolve_tolerated_failure_percentage_path(1, "$.p") == 1.0
    assert dm.resolve_tolerated_failure_percentage_path(1.1, "$.p") == 1.1
    assert dm.resolve_tolerated_failure_percentage_path(100, "$.p") == 100.0
    assert dm.path_integer("MaxConcurrencyPath", 3, "$.m") == 3
    with pytest.raises(StatesError) as raised:
        dm.path_integer("MaxConcurrencyPath", "NoNumber", "$.MaxConcurrencyValue")
    assert raised.value.cause == (
        'The MaxConcurrencyPath field refers to value "NoNumber" which is not a valid integer: '
        "$.MaxConcurrencyValue"
    )


def test_exceeded_threshold_error() -> None:
    error = dm.exceed_tolerated_failure_error()
    assert error.name == "States.ExceedToleratedFailureThreshold"
    assert error.cause == "The specified tolerated failure threshold was exceeded"


# --- identity, context, events ------------------------------------------------------------


def test_map_run_and_child_arns() -> None:
    arns = dm.map_run_arns(STATE_MACHINE, "Process", RUN_ID)
    assert arns.map_run_arn == MAP_RUN
    assert arns.child_state_machine_arn == f"{STATE_MACHINE}/Process"
    assert (
        dm.child_execution_arn(MAP_RUN, "c0ffee")
        == "arn:aws:states:us-east-1:123456789012:execution:orders/Process:c0ffee"
    )


@pytest.mark.parametrize(
    ("label", "error"),
    [
        ("Process-items_1", None),
        ("x" * 40, None),
        ("", "Label cannot be empty"),
        ("x" * 41, "Label cannot exceed 40 characters"),
        ("a b", "Label contains invalid character: ' '"),
        ("a:b", "Label contains invalid character: ':'"),
        ("a\tb", "Label contains invalid character: '\\t'"),
        ("a\x7fb", "Label contains invalid character: '\\x7f'"),
    ],
)
def test_label_validation(label: str, error: str | None) -> None:
    assert dm.label_error(label) == error


def test_context_and_event_details() -> None:
    assert dm.map_item_context(3, {"a": 1}) == {
        "Index": 3,
        "Value": {"a": 1},
        "Source": "STATE_DATA",
    }
    assert dm.map_item_context(0, "x", "s3://b/k.csv")["Source"] == "s3://b/k.csv"
    assert dm.map_run_started_event_details(MAP_RUN) == {"mapRunArn": MAP_RUN}
    assert dm.map_run_failed_event_details("States.X", "why") == {
        "error": "States.X",
        "cause": "why",
    }
    assert dm.map_run_failed_event_details(None, None) == {}
    assert dm.map_run_redriven_event_details(MAP_RUN, 1) == {
        "mapRunArn": MAP_RUN,
        "redriveCount": 1,
    }


# --- ResultWriter -------------------------------------------------------------------------

START = datetime(2023, 4, 4, 0, 28, 24, 489_123, tzinfo=UTC)
STOP = datetime(2023, 4, 4, 0, 28, 24, 535_000, tzinfo=UTC)


def _child(name: str, status: str, **fields: Any) -> dm.ChildExecution:
    return dm.ChildExecution(
        execution_arn=dm.child_execution_arn(MAP_RUN, name),
        state_machine_arn=f"{STATE_MACHINE}/Process",
        name=name,
        status=status,
        input=json.dumps({"id": name}),
        start_date=START,
        stop_date=STOP,
        **fields,
    )


def _records() -> list[dict[str, Any]]:
    return [
        dm.child_result_record(_child("one", "SUCCEEDED", output='{"ok":1}')),
        dm.child_result_record(_child("two", "FAILED", error="Boom", cause="bad item")),
        dm.child_result_record(_child("three", "SUCCEEDED", output="[1,2]")),
    ]


def test_succeeded_child_record() -> None:
    record = dm.child_result_record(_child("one", "SUCCEEDED", output='{"ok":1}'))
    assert record == {
        "ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:orders/Process:one",
        "Input": '{"id": "one"}',
        "InputDetails": {"Included": True},
        "Name": "one",
        "Output": '{"ok":1}',
        "OutputDetails": {"Included": True},
        "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE",
        "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
        "StartDate": "2023-04-04T00:28:24.489Z",
        "StateMachineArn": f"{STATE_MACHINE}/Process",
        "Status": "SUCCEEDED",
        "StopDate": "2023-04-04T00:28:24.535Z",
    }
    assert list(record) == sorted(record)


def test_failed_child_records() -> None:
    standard = dm.child_result_record(_child("two", "FAILED", error="Boom", cause="bad"))
    assert (standard["Error"], standard["Cause"], standard["RedriveStatus"]) == (
        "Boom",
        "bad",
        "REDRIVABLE",
    )
    assert "Output" not in standard
    assert "RedriveStatusReason" not in standard
    express = dm.child_result_record(_child("x", "TIMED_OUT", express=True))
    assert express["RedriveStatus"] == "REDRIVABLE_BY_MAP_RUN"
    running = dm.child_result_record(_child("r", "RUNNING"))
    assert running["RedriveStatusReason"] == "Execution is RUNNING and cannot be redriven"


def _writer(**config: Any) -> dict[str, Any]:
    writer: dict[str, Any] = {"Resource": "arn:aws:states:::s3:putObject"}
    if config:
        writer["WriterConfig"] = config
    return writer


@pytest.mark.parametrize("prefix", ["csvProcessJobs", "csvProcessJobs/"])
def test_writes_aws_layout(prefix: str, s3_root: Path) -> None:
    (s3_root / "results").mkdir()
    records = _records()
    output = dm.write_results(
        _writer(),
        {"Bucket": "results", "Prefix": prefix},
        records,
        map_run_arn=MAP_RUN,
        s3_root=s3_root,
    )
    base = f"csvProcessJobs/{RUN_ID}/"
    assert output == {
        "MapRunArn": MAP_RUN,
        "ResultWriterDetails": {"Bucket": "results", "Key": base + "manifest.json"},
    }
    folder = s3_root / "results" / "csvProcessJobs" / RUN_ID
    assert sorted(path.name for path in folder.iterdir()) == [
        "FAILED_0.json",
        "SUCCEEDED_0.json",
        "manifest.json",
    ]
    manifest = json.loads((folder / "manifest.json").read_text())
    succeeded = (folder / "SUCCEEDED_0.json").read_bytes()
    failed = (folder / "FAILED_0.json").read_bytes()
    assert manifest == {
        "DestinationBucket": "results",
        "MapRunArn": MAP_RUN,
        "ResultFiles": {
            "FAILED": [{"Key": base + "FAILED_0.json", "Size": len(failed)}],
            "PENDING": [],
            "SUCCEEDED": [{"Key": base + "SUCCEEDED_0.json", "Size": len(succeeded)}],
        },
    }
    assert json.loads(succeeded) == [records[0], records[2]]
    assert json.loads(failed) == [records[1]]


def test_no_prefix_puts_the_run_folder_at_the_bucket_top(s3_root: Path) -> None:
    (s3_root / "results").mkdir()
    output = dm.write_results(
        _writer(), {"Bucket": "results"}, _records(), map_run_arn=MAP_RUN, s3_root=s3_root
    )
    assert output["ResultWriterDetails"]["Key"] == f"{RUN_ID}/manifest.json"
    assert (s3_root / "results" / RUN_ID / "manifest.json").is_file()


def test_pending_children_get_their_own_file(s3_root: Path) -> None:
    (s3_root / "results").mkdir()
    pending = dm.child_result_record(_child("later", "PENDING"))
    dm.write_results(
        _writer(), {"Bucket": "results"}, [pending], map_run_arn=MAP_RUN, s3_root=s3_root
    )
    manifest = json.loads((s3_root / "results" / RUN_ID / "manifest.json").read_text())
    assert [entry["Key"] for entry in manifest["ResultFiles"]["PENDING"]] == [
        f"{RUN_ID}/PENDING_0.json"
    ]
    assert manifest["ResultFiles"]["SUCCEEDED"] == []


def test_compact_and_flatten_keep_failed_records_whole(s3_root: Path) -> None:
    (s3_root / "results").mkdir()
    records = _records()
    for transformation, expected in [
        ("COMPACT", [{"ok": 1}, [1, 2]]),
        ("FLATTEN", [{"ok": 1}, 1, 2]),
    ]:
        dm.write_results(
            _writer(Transformation=transformation),
            {"Bucket": "results", "Prefix": transformation},
            records,
            map_run_arn=MAP_RUN,
            s3_root=s3_root,
        )
        folder = s3_root / "results" / transformation / RUN_ID
        assert json.loads((folder / "SUCCEEDED_0.json").read_text()) == expected
        assert json.loads((folder / "FAILED_0.json").read_text()) == [records[1]]


def test_jsonl_output(s3_root: Path) -> None:
    (s3_root / "results").mkdir()
    dm.write_results(
        _writer(OutputType="JSONL", Transformation="COMPACT"),
        {"Bucket": "results"},
        _records(),
        map_run_arn=MAP_RUN,
        s3_root=s3_root,
    )
    lines = (s3_root / "results" / RUN_ID / "SUCCEEDED_0.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{"ok": 1}, [1, 2]]


def test_writer_config_alone_returns_the_results() -> None:
    records = _records()
    writer = {"WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSON"}}
    assert dm.write_results(writer, None, records, map_run_arn=MAP_RUN, s3_root=None) == [
        {"ok": 1},
        records[1],
        1,
        2,
    ]
    assert dm.transform_results(records, "NONE") == records
    assert dm.transform_results(records, "COMPACT") == [{"ok": 1}, records[1], [1, 2]]


def test_missing_bucket_fails_the_writer(s3_root: Path) -> None:
    with pytest.raises(StatesError) as raised:
        dm.write_results(
            _writer(), {"Bucket": "nope"}, _records(), map_run_arn=MAP_RUN, s3_root=s3_root
        )
    assert raised.value.name == "States.ResultWriterFailed"
    assert raised.value.cause == (
        "The specified bucket does not exist. (Service: S3, Status Code: 404, Error Code: NoSuchBucket)"
    )


def test_unsupported_writer_resource() -> None:
    with pytest.raises(StatesError) as raised:
        dm.write_results(
            {"Resource": "arn:aws:states:::s3:getObject"},
            {"Bucket": "b"},
            [],
            map_run_arn=MAP_RUN,
            s3_root=None,
        )
    assert raised.value.name == "States.ResultWriterFailed"


def test_result_files_are_compact_json(s3_root: Path) -> None:
    (s3_root / "results").mkdir()
    records = _records()
    dm.write_results(
        _writer(), {"Bucket": "results"}, records, map_run_arn=MAP_RUN, s3_root=s3_root
    )
    folder = s3_root / "results" / RUN_ID
    expected = json.dumps([records[1]], separators=(",", ":")).encode()
    assert (folder / "FAILED_0.json").read_bytes() == expected
    assert b", " not in (folder / "manifest.json").read_bytes()


def test_pending_record() -> None:
    assert dm.pending_result_record('{"id":7}') == {
        "Input": '{"id":7}',
        "InputDetails": {"Included": True},
        "Status": "PENDING",
    }


# --- Map Run APIs -------------------------------------------------------------------------


def test_map_run_record_through_a_run() -> None:
    record = dm.MapRunRecord(
        map_run_arn=MAP_RUN,
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:orders:e1",
        child_state_machine_arn=f"{STATE_MACHINE}/Process",
        start_date=START,
        max_concurrency=1,
        item_counts=dm.MapRunCounts.planned(2),
        execution_counts=dm.MapRunCounts.planned(2),
    )
    for _ in range(2):
        record = replace_counts(record, "SUCCEEDED")
    record = record.stopped("SUCCEEDED", STOP)
    assert record.describe() == {
        "mapRunArn": MAP_RUN,
        "executionArn": "arn:aws:states:us-east-1:123456789012:execution:orders:e1",
        "status": "SUCCEEDED",
        "startDate": START,
        "stopDate": STOP,
        "maxConcurrency": 1,
        "toleratedFailurePercentage": 0.0,
        "toleratedFailureCount": 0,
        "itemCounts": {
            "pending": 0,
            "running": 0,
            "succeeded": 2,
            "failed": 0,
            "timedOut": 0,
            "aborted": 0,
            "total": 2,
            "resultsWritten": 0,
            "failuresNotRedrivable": 0,
            "pendingRedrive": 0,
        },
        "executionCounts": record.execution_counts.to_api(),
        "redriveCount": 0,
    }
    assert record.list_item() == {
        "executionArn": "arn:aws:states:us-east-1:123456789012:execution:orders:e1",
        "mapRunArn": MAP_RUN,
        "stateMachineArn": f"{STATE_MACHINE}/Process",
        "startDate": START,
        "stopDate": STOP,
    }


def replace_counts(record: dm.MapRunRecord, status: str) -> dm.MapRunRecord:
    return replace(
        record,
        item_counts=record.item_counts.started().finished(status),
        execution_counts=record.execution_counts.started().finished(status),
    )


def test_counts_track_failures_for_the_threshold() -> None:
    counts = dm.MapRunCounts.planned(4).started(3).finished("FAILED").finished("TIMED_OUT")
    assert (counts.pending, counts.running, counts.failed_or_timed_out) == (1, 1, 2)
    counts = counts.finished("ABORTED")
    assert counts.aborted == 1
    assert counts.failed_or_timed_out == 2


def test_update_map_run_and_running_record() -> None:
    record = dm.MapRunRecord(MAP_RUN, "exec", "sm/label", START)
    assert "stopDate" not in record.describe()
    assert "stopDate" not in record.list_item()
    updated = record.updated(max_concurrency=5, tolerated_failure_percentage=10)
    assert (updated.max_concurrency, updated.tolerated_failure_count) == (5, 0)
    assert updated.tolerated_failure_percentage == 10.0
    assert updated.updated(tolerated_failure_count=3).tolerated_failure_count == 3
    with pytest.raises(ValueError):
        record.stopped("RUNNING", STOP)


# --- robustness ---------------------------------------------------------------------------

_CONFIGS = [
    {"InputType": "JSON"},
    {"InputType": "JSON", "ItemsPointer": "/a/0"},
    {"InputType": "JSONL"},
    {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
    {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["a", "b"]},
    {"InputType": "CSV", "CSVDelimiter": "TAB"},
    {"InputType": "MANIFEST"},
]


def _no_fetch(bucket: str, key: str) -> bytes:
    raise dm.S3Error("NoSuchKey", "The specified key does not exist.", 404)


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=200), config=st.sampled_from(_CONFIGS))
def test_any_bytes_only_fail_as_states_errors(body: bytes, config: dict[str, Any]) -> None:
    try:
        items = dm.parse_object(body, config, _no_fetch)
    except StatesError as exc:
        assert exc.name == "States.ItemReaderFailed"
    except dm.S3Error:
        assert config["InputType"] == "MANIFEST"
    else:
        assert isinstance(items, list)


@settings(max_examples=50, deadline=None)
@given(
    items=st.lists(st.text(max_size=30) | st.integers(), max_size=30),
    max_items=st.integers(min_value=1, max_value=7),
    max_bytes=st.integers(min_value=40, max_value=200),
)
def test_batches_keep_every_item_in_order_within_limits(
    items: list[Any], max_items: int, max_bytes: int
) -> None:
    batcher = {"MaxItemsPerBatch": max_items, "MaxInputBytesPerBatch": max_bytes}
    try:
        batches = dm.batch_items(items, batcher)
    except StatesError as exc:
        assert exc.name == "States.DataLimitExceeded"
        assert any(_size({"Items": [item]}) > max_bytes for item in items)
        return
    assert [item for batch in batches for item in batch["Items"]] == items
    for batch in batches:
        assert 1 <= len(batch["Items"]) <= max_items
        assert (
            len(json.dumps(batch, ensure_ascii=False, separators=(",", ":")).encode()) <= max_bytes
        )
