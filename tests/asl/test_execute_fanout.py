"""Parallel and Map (inline and distributed): outputs, event sequences, failure propagation."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from batchyard.asl import execute


def _types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def _pass(name: str, **fields: Any) -> dict[str, Any]:
    return {"StartAt": name, "States": {name: {"Type": "Pass", **fields, "End": True}}}


def test_parallel_outputs_in_branch_order_and_aws_previous_ids() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [_pass("A", Result="a"), _pass("B", Result="b")],
                "End": True,
            }
        },
    }
    result = execute(definition, {"x": 1})
    assert result.output == ["a", "b"]
    events = result.events
    assert _types(events) == [
        "ExecutionStarted",
        "ParallelStateEntered",
        "ParallelStateStarted",
        "PassStateEntered",
        "PassStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ParallelStateSucceeded",
        "ParallelStateExited",
        "ExecutionSucceeded",
    ]
    started = events[2]["id"]
    # Every branch's first state points at ParallelStateStarted.
    assert events[3]["previousEventId"] == started
    assert events[5]["previousEventId"] == started
    # Succeeded and Exited both point at the last branch event.
    assert events[7]["previousEventId"] == events[6]["id"]
    assert events[8]["previousEventId"] == events[6]["id"]
    assert events[9]["previousEventId"] == events[8]["id"]


def test_parallel_branch_failure_fails_the_state_with_the_branch_error() -> None:
    definition: dict[str, Any] = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    _pass("A"),
                    {
                        "StartAt": "F",
                        "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "c"}},
                    },
                ],
                "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.err", "Next": "Done"}],
                "End": True,
            },
            "Done": {"Type": "Succeed"},
        },
    }
    result = execute(definition, {"x": 1})
    assert result.output == {"x": 1, "err": {"Error": "Boom", "Cause": "c"}}
    types = _types(result.events)
    assert types[types.index("FailStateEntered") :][:3] == [
        "FailStateEntered",
        "ParallelStateFailed",
        "ParallelStateExited",
    ]
    uncaught = execute(
        {"StartAt": "P", "States": {"P": {**definition["States"]["P"], "Catch": []}}}, {}
    )
    assert (uncaught.status, uncaught.error, uncaught.cause) == ("FAILED", "Boom", "c")
    assert _types(uncaught.events)[-2:] == ["ParallelStateFailed", "ExecutionFailed"]


MAP: dict[str, Any] = {
    "StartAt": "M",
    "States": {
        "M": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemSelector": {
                "value.$": "$$.Map.Item.Value",
                "index.$": "$$.Map.Item.Index",
                "k.$": "$.k",
            },
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Touch",
                "States": {"Touch": {"Type": "Pass", "End": True}},
            },
            "ResultPath": "$.out",
            "End": True,
        }
    },
}


def test_inline_map_events_and_item_selector() -> None:
    result = execute(MAP, {"items": ["a", "b"], "k": 9})
    assert result.output["out"] == [
        {"value": "a", "index": 0, "k": 9},
        {"value": "b", "index": 1, "k": 9},
    ]
    events = result.events
    assert _types(events) == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapIterationStarted",
        "PassStateEntered",
        "PassStateExited",
        "MapIterationSucceeded",
        "MapIterationStarted",
        "PassStateEntered",
        "PassStateExited",
        "MapIterationSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    assert events[2]["mapStateStartedEventDetails"] == {"length": 2}
    assert events[3]["mapIterationStartedEventDetails"] == {"name": "M", "index": 0}
    by_id = {e["id"]: e for e in events}
    prev = {e["type"] + str(i): e["previousEventId"] for i, e in enumerate(events)}
    # Iteration 1 starts from iteration 0's last state event, not from MapIterationSucceeded.
    assert by_id[prev["MapIterationStarted7"]]["type"] == "PassStateExited"
    assert by_id[prev["MapStateSucceeded11"]]["type"] == "MapIterationSucceeded"
    assert prev["MapStateExited12"] == prev["MapStateSucceeded11"]


def test_empty_map() -> None:
    result = execute(MAP, {"items": [], "k": 1})
    assert result.output["out"] == []
    assert _types(result.events)[2:5] == ["MapStateStarted", "MapStateSucceeded", "MapStateExited"]


def test_map_over_non_array_is_runtime_error() -> None:
    result = execute(MAP, {"items": {"a": 1}, "k": 1})
    assert result.error == "States.Runtime"
    assert _types(result.events)[-2:] == ["MapStateFailed", "ExecutionFailed"]


def test_map_iteration_failure_and_retry_events() -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "F",
                    "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}},
                },
                "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 1, "IntervalSeconds": 1}],
                "End": True,
            }
        },
    }
    result = execute(definition, [1])
    assert (result.error, result.cause) == ("E", "C")
    assert _types(result.events) == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapIterationStarted",
        "FailStateEntered",
        "MapIterationFailed",
        "MapStateStarted",
        "MapIterationStarted",
        "FailStateEntered",
        "MapIterationFailed",
        "MapStateFailed",
        "ExecutionFailed",
    ]
    failed = result.events[-2]
    assert failed["previousEventId"] == result.events[8]["id"]  # the failed iteration's last event


def test_nested_map_in_parallel_keeps_histories_in_one_log() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "M",
                        "States": {
                            "M": {
                                "Type": "Map",
                                "Iterator": _pass("I"),
                                "ItemsPath": "$.xs",
                                "End": True,
                            }
                        },
                    }
                ],
                "End": True,
            }
        },
    }
    result = execute(definition, {"xs": [1, 2, 3]})
    assert result.output == [[1, 2, 3]]
    assert [e["id"] for e in result.events] == list(range(1, len(result.events) + 1))


DISTRIBUTED: dict[str, Any] = {
    "StartAt": "M",
    "States": {
        "M": {
            "Type": "Map",
            "Label": "items",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "C",
                "States": {
                    "C": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "F"}],
                        "Default": "P",
                    },
                    "F": {"Type": "Fail", "Error": "Two"},
                    "P": {"Type": "Pass", "End": True},
                },
            },
            "End": True,
        }
    },
}


@pytest.mark.parametrize(("tolerated", "status"), [(None, "FAILED"), (1, "SUCCEEDED")])
def test_distributed_map_run(tolerated: int | None, status: str) -> None:
    state = dict(DISTRIBUTED["States"]["M"])
    if tolerated is not None:
        state["ToleratedFailureCount"] = tolerated
    result = execute({"StartAt": "M", "States": {"M": state}}, [1, 2, 3])
    assert result.status == status
    types = _types(result.events)
    # Children's events stay in their own histories.
    assert "PassStateEntered" not in types
    assert types[:4] == ["ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapRunStarted"]
    run_arn = result.events[3]["mapRunStartedEventDetails"]["mapRunArn"]
    assert ":mapRun:StateMachine/items:" in run_arn
    if status == "FAILED":
        assert result.error == "States.ExceedToleratedFailureThreshold"
        assert types[4:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]
    else:
        assert types[4:] == [
            "MapRunSucceeded",
            "MapStateSucceeded",
            "MapStateExited",
            "ExecutionSucceeded",
        ]
        assert result.output[0] == 1 and result.output[2] == 3
        assert result.output[1]["Status"] == "FAILED" and result.output[1]["Error"] == "Two"


def _wait(name: str, seconds: int) -> dict[str, Any]:
    return {"StartAt": name, "States": {name: {"Type": "Wait", "Seconds": seconds, "End": True}}}


def test_parallel_branches_run_concurrently() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [_wait("Long", 10), _wait("Short", 5)],
                "End": True,
            }
        },
    }
    result = execute(definition, {})
    assert result.status == "SUCCEEDED"
    start = result.events[0]["timestamp"]
    waits = [
        (
            e["type"],
            (e.get("stateEnteredEventDetails") or e["stateExitedEventDetails"])["name"],
            (e["timestamp"] - start).total_seconds(),
        )
        for e in result.events
        if e["type"].startswith("WaitState")
    ]
    assert waits == [
        ("WaitStateEntered", "Long", 0),
        ("WaitStateEntered", "Short", 0),
        ("WaitStateExited", "Short", 5),
        ("WaitStateExited", "Long", 10),
    ]
    assert (result.events[-1]["timestamp"] - start).total_seconds() == 10


def test_failing_branch_aborts_running_siblings() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    _wait("Slow", 100),
                    {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}},
                ],
                "End": True,
            }
        },
    }
    result = execute(definition, {})
    assert result.error == "E"
    assert _types(result.events)[-4:] == [
        "FailStateEntered",
        "WaitStateAborted",
        "ParallelStateFailed",
        "ExecutionFailed",
    ]
    # Nothing waits for the aborted branch: the execution ends without its 100 s.
    assert result.events[-1]["timestamp"] == result.events[0]["timestamp"]


def test_map_max_concurrency_bounds_running_iterations() -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "MaxConcurrency": 2,
                "ItemProcessor": {
                    "StartAt": "W",
                    "States": {"W": {"Type": "Wait", "SecondsPath": "$", "End": True}},
                },
                "End": True,
            }
        },
    }
    result = execute(definition, [4, 1, 1, 4])
    assert result.output == [4, 1, 1, 4]
    start = result.events[0]["timestamp"]
    started = [
        (e["mapIterationStartedEventDetails"]["index"], (e["timestamp"] - start).total_seconds())
        for e in result.events
        if e["type"] == "MapIterationStarted"
    ]
    # Two at a time: item 2 starts when item 1 ends (t=1), item 3 when item 2 ends (t=2).
    assert started == [(0, 0), (1, 0), (2, 1), (3, 2)]
    assert (result.events[-1]["timestamp"] - start).total_seconds() == 6


def test_map_iteration_failure_aborts_other_iterations() -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "C",
                    "States": {
                        "C": {
                            "Type": "Choice",
                            "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "W"}],
                            "Default": "F",
                        },
                        "W": {"Type": "Wait", "Seconds": 50, "End": True},
                        "F": {"Type": "Fail", "Error": "Bad"},
                    },
                },
                "End": True,
            }
        },
    }
    result = execute(definition, [0, 1])
    assert result.error == "Bad"
    assert _types(result.events)[-6:] == [
        "FailStateEntered",
        "MapIterationFailed",
        "WaitStateAborted",
        "MapIterationAborted",
        "MapStateFailed",
        "ExecutionFailed",
    ]


S3_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "asl" / "distributed_map" / "s3"


def test_distributed_map_reads_items_batches_and_writes_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(S3_FIXTURES, tmp_path, dirs_exist_ok=True)
    (tmp_path / "out-bucket").mkdir()
    monkeypatch.setenv("BATCHYARD_S3_ROOT", str(tmp_path))
    state: dict[str, Any] = {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket": "data-bucket", "Key.$": "$.key"},
        },
        "ItemBatcher": {"MaxItemsPerBatch": 2},
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            "StartAt": "Count",
            "States": {"Count": {"Type": "Pass", "OutputPath": "$.Items", "End": True}},
        },
        "End": True,
    }
    result = execute({"StartAt": "M", "States": {"M": state}}, {"key": "json/movies.json"})
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == [
        [{"title": "Alien", "year": 1979}, {"title": "Heat", "year": 1995}],
        ["a string item", 42],
        [None],
    ]
    # With an ItemReader the length AWS records is 0.
    assert result.events[2]["mapStateStartedEventDetails"] == {"length": 0}

    state["ResultWriter"] = {
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "out-bucket", "Prefix": "runs"},
    }
    written = execute({"StartAt": "M", "States": {"M": state}}, {"key": "json/movies.json"})
    assert written.status == "SUCCEEDED", written.cause
    details = written.output["ResultWriterDetails"]
    assert details["Bucket"] == "out-bucket"
    assert any((tmp_path / "out-bucket").rglob("*.json"))


def test_distributed_map_item_reader_failure() -> None:
    state = {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "Parameters": {"Bucket": "no-such-bucket-here", "Key": "x.json"},
        },
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": True}},
        },
        "End": True,
    }
    result = execute({"StartAt": "M", "States": {"M": state}}, {})
    assert result.error == "States.ItemReaderFailed"
    assert _types(result.events)[-4:] == [
        "MapRunStarted",
        "MapRunFailed",
        "MapStateFailed",
        "ExecutionFailed",
    ]
