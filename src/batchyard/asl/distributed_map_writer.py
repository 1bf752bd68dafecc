"""ResultWriter: export a Map Run's child results in AWS's layout.

With ``Resource: arn:aws:states:::s3:putObject`` the results go to
``<Prefix>/<map run id>/``: one file per outcome (``SUCCEEDED_0.json``, ``FAILED_0.json``,
``PENDING_0.json``; ``.jsonl`` with ``OutputType: JSONL``) and a ``manifest.json`` naming them,
and the Map state's result becomes ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``.
With only a ``WriterConfig`` nothing is written and the transformed results are the result.

Each child is described by the record AWS writes (:func:`child_result_record`): the fields of
``DescribeExecution`` in PascalCase, keys in alphabetical order. ``Transformation`` ``COMPACT``
keeps just the outputs of the children that succeeded, ``FLATTEN`` also splices array outputs
into the list; a failed child's record always stays whole.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batchyard.asl.distributed_map_s3 import S3Error, S3Mapping
from batchyard.asl.errors import StatesError

RESULT_WRITER_FAILED = "States.ResultWriterFailed"
PUT_OBJECT_RESOURCES = frozenset(
    {"arn:aws:states:::s3:putObject", "arn:aws-cn:states:::s3:putObject"}
)

# Which result file an execution status lands in.
_CATEGORY = {
    "SUCCEEDED": "SUCCEEDED",
    "FAILED": "FAILED",
    "TIMED_OUT": "FAILED",
    "ABORTED": "FAILED",
    "PENDING_REDRIVE": "FAILED",
    "RUNNING": "PENDING",
    "PENDING": "PENDING",
}
_EXTENSIONS = {"JSON": ".json", "JSONL": ".jsonl"}


@dataclass(frozen=True)
class ChildExecution:
    """What the interpreter knows of one child workflow execution of a Map Run.

    ``input`` and ``output`` are the JSON texts of the child's input and output.
    """

    execution_arn: str
    state_machine_arn: str
    name: str
    status: str
    input: str
    start_date: datetime
    stop_date: datetime | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    redrive_count: int = 0
    express: bool = False


def _timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as the result files carry dates."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def _redrive(child: ChildExecution) -> dict[str, str]:
    if child.status in {"SUCCEEDED", "RUNNING"}:
        return {
            "RedriveStatus": "NOT_REDRIVABLE",
            "RedriveStatusReason": f"Execution is {child.status} and cannot be redriven",
        }
    # A failed EXPRESS child cannot be redriven itself, only restarted by its Map Run.
    return {"RedriveStatus": "REDRIVABLE_BY_MAP_RUN" if child.express else "REDRIVABLE"}


def child_result_record(child: ChildExecution) -> dict[str, Any]:
    """The object a ResultWriter file holds for one child execution."""
    record: dict[str, Any] = {
        "ExecutionArn": child.execution_arn,
        "Input": child.input,
        "InputDetails": {"Included": True},
        "Name": child.name,
        "OutputDetails": {"Included": True},
        "RedriveCount": child.redrive_count,
        "StartDate": _timestamp(child.start_date),
        "StateMachineArn": child.state_machine_arn,
        "Status": child.status,
        **_redrive(child),
    }
    if child.output is not None:
        record["Output"] = child.output
    if child.stop_date is not None:
        record["StopDate"] = _timestamp(child.stop_date)
    if child.error is not None:
        record["Error"] = child.error
    if child.cause is not None:
        record["Cause"] = child.cause
    return dict(sorted(record.items()))


def pending_result_record(input_json: str) -> dict[str, Any]:
    """The record of an item whose child never started (it lands in ``PENDING_0.json``)."""
    return {"Input": input_json, "InputDetails": {"Included": True}, "Status": "PENDING"}


def transform_results(records: Sequence[Mapping[str, Any]], transformation: str) -> list[Any]:
    """Apply ``WriterConfig.Transformation`` to result records, keeping their order."""
    if transformation == "NONE":
        return [dict(record) for record in records]
    results: list[Any] = []
    for record in records:
        if record.get("Status") != "SUCCEEDED":
            results.append(dict(record))
            continue
        output = json.loads(record.get("Output") or "null")
        if transformation == "FLATTEN" and isinstance(output, list):
            results.extend(output)
        else:
            results.append(output)
    return results


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _encode(entries: list[Any], output_type: str) -> bytes:
    if output_type == "JSONL":
        return "".join(_compact(entry) + "\n" for entry in entries).encode()
    return _compact(entries).encode()


def _prefix_base(prefix: str, run_id: str) -> str:
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return f"{prefix}{run_id}/"


def write_results(
    result_writer: Mapping[str, Any],
    resolved_parameters: Mapping[str, Any] | None,
    results: Sequence[Mapping[str, Any]],
    *,
    map_run_arn: str,
    s3_root: Path | None,
) -> Any:
    """Export ``results`` (records from :func:`child_result_record`, in item order).

    ``resolved_parameters`` is the evaluated ``Parameters``/``Arguments``
    (``{"Bucket", "Prefix"}``). Returns the Map state's result: the ``ResultWriterDetails``
    object when writing to S3, else the transformed results. Raises
    ``StatesError("States.ResultWriterFailed", cause)`` when the results cannot be written.
    """
    config: Mapping[str, Any] = result_writer.get("WriterConfig") or {}
    resource = result_writer.get("Resource")
    transformation = str(config.get("Transformation", "NONE" if resource else "COMPACT"))
    output_type = str(config.get("OutputType", "JSON"))
    if resource is None:
        return transform_results(results, transformation)
    if resource not in PUT_OBJECT_RESOURCES:
        raise StatesError(
            RESULT_WRITER_FAILED, f"The ResultWriter Resource '{resource}' is not supported."
        )

    parameters = resolved_parameters or {}
    bucket = str(parameters.get("Bucket", ""))
    base = _prefix_base(str(parameters.get("Prefix", "")), map_run_arn.rsplit(":", 1)[-1])
    grouped: dict[str, list[Mapping[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for record in results:
        grouped[_CATEGORY.get(str(record.get("Status")), "FAILED")].append(record)

    try:
        mapping = S3Mapping.resolve(s3_root)
        files: dict[str, list[dict[str, Any]]] = {}
        for category, records in grouped.items():
            files[category] = []
            if not records:
                continue
            key = f"{base}{category}_0{_EXTENSIONS.get(output_type, '.json')}"
            body = _encode(transform_results(records, transformation), output_type)
            mapping.put_object(bucket, key, body)
            files[category].append({"Key": key, "Size": len(body)})
        manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
        manifest_key = f"{base}manifest.json"
        mapping.put_object(bucket, manifest_key, _compact(manifest).encode())
    except S3Error as exc:
        raise StatesError(RESULT_WRITER_FAILED, exc.cause) from exc
    except OSError as exc:
        raise StatesError(RESULT_WRITER_FAILED, f"{exc.strerror} (Service: S3)") from exc
    return {
        "MapRunArn": map_run_arn,
        "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key},
    }
