"""The Distributed Map pieces that are not the interpreter's: data in, data out, Map Run shapes.

A Map state with ``ItemProcessor.ProcessorConfig.Mode == "DISTRIBUTED"`` runs each item (or
batch) as a *child workflow execution* inside a *Map Run*. The interpreter drives it; this module
supplies the parts that have AWS-defined shapes, all as plain functions:

1. **Paths** -- before the Map Run starts: :func:`path_integer` (``MaxConcurrencyPath``),
   :func:`resolve_tolerated_failure_count_path`, :func:`resolve_tolerated_failure_percentage_path`
   and :func:`resolve_max_items_path`; their ``States.Runtime`` failures come right after
   ``MapStateStarted`` (no ``MapRunStarted``, no ``MapStateFailed``).
2. **Items** -- :func:`read_items` / :func:`read_items_with_sources` (``ItemReader``: JSON,
   JSONL, CSV, S3 Inventory manifest, or an ``s3:listObjectsV2`` listing), from a local
   directory standing in for S3 (:class:`S3Mapping`, root from the caller or
   ``$BATCHYARD_S3_ROOT``), read *after* ``MapRunStarted``. Without an ``ItemReader`` the items
   come from ``ItemsPath``/``Items`` as in an inline Map.
3. **Child inputs** -- ``ItemSelector`` per item (with :func:`map_item_context` as
   ``$$.Map.Item``: ``Index``, ``Value``, ``Source``), then :func:`batch_items` (``ItemBatcher``).
4. **Identity** -- :func:`map_run_arns` and :func:`child_execution_arn`; the run id and child
   names are UUIDs the caller generates (this module draws no randomness and reads no clock).
5. **Failures** -- :func:`tolerated_failure_exceeded` after each child finishes, counting
   *items* (a failed batch fails all its items); when it says so, stop the run and fail with
   :func:`exceed_tolerated_failure_error`.
6. **Results** -- :func:`child_result_record` per child, then :func:`write_results` when the
   state has a ``ResultWriter``; otherwise the result is
   ``transform_results(records, "COMPACT")`` in item order: each succeeded child's output, and
   (per AWS's docs) a tolerated failed child's whole record, unchanged.
7. **Map Run APIs** -- :class:`MapRunRecord` / :class:`MapRunCounts` for ``DescribeMapRun``,
   ``ListMapRuns`` and ``UpdateMapRun``.
8. **History**, as AWS records it (LocalStack's recordings against AWS):
   ``MapStateEntered``, ``MapStateStarted`` (``{"length": n}``: the number of items from the
   state input, but ``0`` whenever an ``ItemReader`` supplies them), ``MapRunStarted``
   (:func:`map_run_started_event_details`), then ``MapRunSucceeded`` (no details),
   ``MapStateSucceeded`` and ``MapStateExited`` -- both of the last two with
   ``previousEventId`` pointing at ``MapRunSucceeded`` -- or ``MapRunFailed``
   (:func:`map_run_failed_event_details`, e.g. ``States.ItemReaderFailed``) and
   ``MapStateFailed``. Children's events stay in their own histories.

Errors are :class:`StatesError` named as AWS names them: ``States.ItemReaderFailed``,
``States.ResultWriterFailed``, ``States.ExceedToleratedFailureThreshold``.
"""

from __future__ import annotations

from itertools import chain
from typing import Any, NamedTuple

from batchyard.asl.distributed_map_batcher import MAX_INPUT_BYTES_PER_BATCH, batch_items
from batchyard.asl.distributed_map_reader import (
    CSV_DELIMITERS,
    ITEM_READER_FAILED,
    MAX_ITEMS_LIMIT,
    STATE_DATA_SOURCE,
    ReadItems,
    parse_object,
    quoted_path_value,
    read_items,
    read_items_with_sources,
    resolve_max_items_path,
)
from batchyard.asl.distributed_map_run import MAP_RUN_STATUSES, MapRunCounts, MapRunRecord
from batchyard.asl.distributed_map_s3 import (
    S3_ROOT_ENV,
    S3Error,
    S3Mapping,
    S3Object,
    default_s3_root,
    parse_s3_uri,
    resolve_location,
)
from batchyard.asl.distributed_map_writer import (
    RESULT_WRITER_FAILED,
    ChildExecution,
    child_result_record,
    pending_result_record,
    transform_results,
    write_results,
)
from batchyard.asl.errors import StatesError

__all__ = [
    "CSV_DELIMITERS",
    "EXCEED_TOLERATED_FAILURE_CAUSE",
    "EXCEED_TOLERATED_FAILURE_THRESHOLD",
    "ITEM_READER_FAILED",
    "MAP_RUN_STATUSES",
    "MAX_INPUT_BYTES_PER_BATCH",
    "MAX_ITEMS_LIMIT",
    "RESULT_WRITER_FAILED",
    "S3_ROOT_ENV",
    "STATE_DATA_SOURCE",
    "ChildExecution",
    "MapRunArns",
    "MapRunCounts",
    "MapRunRecord",
    "ReadItems",
    "S3Error",
    "S3Mapping",
    "S3Object",
    "batch_items",
    "child_execution_arn",
    "child_result_record",
    "default_s3_root",
    "exceed_tolerated_failure_error",
    "label_error",
    "map_item_context",
    "map_run_arns",
    "map_run_failed_event_details",
    "map_run_redriven_event_details",
    "map_run_started_event_details",
    "parse_object",
    "parse_s3_uri",
    "path_integer",
    "pending_result_record",
    "quoted_path_value",
    "read_items",
    "read_items_with_sources",
    "resolve_location",
    "resolve_max_items_path",
    "resolve_tolerated_failure_count_path",
    "resolve_tolerated_failure_percentage_path",
    "tolerated_failure_exceeded",
    "transform_results",
    "write_results",
]

EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
EXCEED_TOLERATED_FAILURE_CAUSE = "The specified tolerated failure threshold was exceeded"

#: The longest ``Label`` AWS accepts.
MAX_LABEL_LENGTH = 40
_LABEL_FORBIDDEN = frozenset(' ?*<>{}[]:;,\\|^~$#%&`"') | frozenset(
    chr(code) for code in chain(range(0x00, 0x20), range(0x7F, 0xA0))
)


# --- identity ----------------------------------------------------------------------------


class MapRunArns(NamedTuple):
    """The ARNs one Map Run introduces."""

    map_run_arn: str
    #: The state machine ARN child executions report: the parent's plus ``/<label>``.
    child_state_machine_arn: str


def map_run_arns(state_machine_arn: str, label: str, run_id: str) -> MapRunArns:
    """ARNs of a Map Run of ``state_machine_arn``.

    ``label`` is the state's ``Label``, or an identifier the caller generates when it has none
    (AWS then uses an auto-generated one). ``run_id`` is a fresh UUID. For
    ``arn:aws:states:us-east-1:123456789012:stateMachine:orders`` this gives
    ``arn:aws:states:us-east-1:123456789012:mapRun:orders/<label>:<run_id>`` and child state
    machine ``arn:aws:states:us-east-1:123456789012:stateMachine:orders/<label>``.
    """
    prefix, _, name = state_machine_arn.rpartition(":stateMachine:")
    return MapRunArns(
        map_run_arn=f"{prefix}:mapRun:{name}/{label}:{run_id}",
        child_state_machine_arn=f"{state_machine_arn}/{label}",
    )


def child_execution_arn(map_run_arn: str, name: str) -> str:
    """``...:execution:<state machine>/<label>:<name>`` for a child of ``map_run_arn``."""
    head, _, _run_id = map_run_arn.rpartition(":")
    prefix, _, machine_and_label = head.rpartition(":mapRun:")
    return f"{prefix}:execution:{machine_and_label}:{name}"


def label_error(label: str) -> str | None:
    """Why ``label`` is not a valid Map ``Label`` (AWS's wording), or ``None`` when it is."""
    if not label:
        return "Label cannot be empty"
    if len(label) > MAX_LABEL_LENGTH:
        return f"Label cannot exceed {MAX_LABEL_LENGTH} characters"
    for char in label:
        if char in _LABEL_FORBIDDEN:
            return f"Label contains invalid character: '{char.encode('unicode-escape').decode()}'"
    return None


# --- context and history -----------------------------------------------------------------


def map_item_context(index: int, value: Any, source: str = STATE_DATA_SOURCE) -> dict[str, Any]:
    """``$$.Map.Item`` while ``ItemSelector`` is evaluated for the item at ``index``.

    ``source`` is ``STATE_DATA`` for items taken from the state input, else the item's entry in
    :attr:`ReadItems.sources` (``s3://bucket/key``, or ``s3://bucket`` for a listing).
    """
    return {"Index": index, "Value": value, "Source": source}


def map_run_started_event_details(map_run_arn: str) -> dict[str, Any]:
    """``mapRunStartedEventDetails`` of a ``MapRunStarted`` event."""
    return {"mapRunArn": map_run_arn}


def map_run_failed_event_details(error: str | None, cause: str | None) -> dict[str, Any]:
    """``mapRunFailedEventDetails`` of a ``MapRunFailed`` event (absent fields are omitted)."""
    details: dict[str, Any] = {}
    if error is not None:
        details["error"] = error
    if cause is not None:
        details["cause"] = cause
    return details


def map_run_redriven_event_details(map_run_arn: str, redrive_count: int) -> dict[str, Any]:
    """``mapRunRedrivenEventDetails`` of a ``MapRunRedriven`` event."""
    return {"mapRunArn": map_run_arn, "redriveCount": redrive_count}


# --- tolerated failures ------------------------------------------------------------------


def tolerated_failure_exceeded(
    failed: int, total: int, count: int | None, percentage: float | None
) -> bool:
    """Whether ``failed`` of ``total`` items is past the tolerated threshold.

    ``failed`` counts items whose child failed or timed out. A threshold is passed when it is
    *exceeded*, not when it is reached: ``ToleratedFailureCount: 2`` tolerates two failed items
    and fails on the third; ``ToleratedFailurePercentage: 50`` tolerates half of all items.
    With both set, exceeding either fails the run. With neither (``None``), no failure is
    tolerated.
    """
    if failed <= 0:
        return False
    if count is None and percentage is None:
        return True
    if count is not None and failed > count:
        return True
    return percentage is not None and total > 0 and failed * 100 / total > percentage


def _runtime(cause: str) -> StatesError:
    return StatesError("States.Runtime", cause)


def path_integer(field: str, value: Any, path: str) -> int:
    """The integer a ``<field>`` (``MaxConcurrencyPath``, ...) selected, else ``States.Runtime``.

    As for every ``States.Runtime`` failure, the interpreter prefixes the cause with "An error
    occurred while executing the state '<name>' (entered at the event id #<n>). ". AWS fails
    these right after ``MapStateStarted``, before any Map Run starts.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise _runtime(
            f"The {field} field refers to value {quoted_path_value(value)} "
            f"which is not a valid integer: {path}"
        )
    return value


def resolve_tolerated_failure_count_path(value: Any, path: str) -> int:
    """Validate what ``ToleratedFailureCountPath`` selected (causes as recorded on AWS)."""
    count = path_integer("ToleratedFailureCountPath", value, path)
    if count < 0:
        raise _runtime("ToleratedFailureCount cannot be negative.")
    return count


def resolve_tolerated_failure_percentage_path(value: Any, path: str) -> float:
    """Validate what ``ToleratedFailurePercentagePath`` selected (causes as recorded on AWS)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _runtime(
            f"The ToleratedFailurePercentagePath field refers to value "
            f"{quoted_path_value(value)} which is not a valid float: {path}"
        )
    if not 0 <= value <= 100:
        raise _runtime("ToleratedFailurePercentage must be between 0 and 100.")
    return float(value)


def exceed_tolerated_failure_error() -> StatesError:
    """The error a Map Run fails with once :func:`tolerated_failure_exceeded` says so."""
    return StatesError(EXCEED_TOLERATED_FAILURE_THRESHOLD, EXCEED_TOLERATED_FAILURE_CAUSE)
