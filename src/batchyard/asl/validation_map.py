"""Map state: its item processor (inline or distributed) and the distributed-map configuration
objects (ItemReader, ItemBatcher, ResultWriter), each described by a small field table.
"""

from __future__ import annotations

from typing import Any

from batchyard.asl import validation_messages as msg
from batchyard.asl.validation_context import JSONPATH, Ctx
from batchyard.asl.validation_paths import check_payload_template

PROCESSORS = ("ItemProcessor", "Iterator")
PROCESSOR_FIELDS = frozenset({"ProcessorConfig", "StartAt", "States", "Comment"})
PROCESSOR_CONFIG_FIELDS = frozenset({"Mode", "ExecutionType"})
MODES = ("INLINE", "DISTRIBUTED")
EXECUTION_TYPES = ("STANDARD", "EXPRESS")
MAX_LABEL = 40
# Characters a Map Run label cannot hold (it becomes part of the Map Run's ARN).
_LABEL_FORBIDDEN = frozenset(' ?*<>{}[]:;,\\|^~$#%&`"')


def _is_control(char: str) -> bool:
    return ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0


# Field tables of the distributed-map objects; payload fields get the ``.$`` check in JSONPath.
READER_FIELDS = frozenset({"Resource", "Parameters", "Arguments", "ReaderConfig"})
READER_CONFIG_FIELDS = frozenset(
    {
        "InputType",
        "CSVHeaderLocation",
        "CSVHeaders",
        "CSVDelimiter",
        "MaxItems",
        "MaxItemsPath",
        "ItemsPointer",
        "ManifestType",
        "Transformation",
    }
)
# Order as reported by AWS (per a public measurement).
INPUT_TYPES = ("MANIFEST", "JSON", "CSV", "JSONL", "PARQUET")
BATCHER_FIELDS = frozenset(
    {
        "MaxItemsPerBatch",
        "MaxItemsPerBatchPath",
        "MaxInputBytesPerBatch",
        "MaxInputBytesPerBatchPath",
        "BatchInput",
    }
)
WRITER_FIELDS = frozenset({"Resource", "Parameters", "Arguments", "WriterConfig"})
_OBJECTS: tuple[tuple[str, frozenset[str], tuple[str, ...]], ...] = (
    ("ItemReader", READER_FIELDS, ("Parameters",)),
    ("ItemBatcher", BATCHER_FIELDS, ("BatchInput",)),
    ("ResultWriter", WRITER_FIELDS, ("Parameters",)),
)


def check_map(ctx: Ctx, state: dict[str, Any], where: str, language: str) -> None:
    present = [name for name in PROCESSORS if name in state]
    if not present:
        ctx.schema(msg.exactly_one_of(PROCESSORS), where)
    elif len(present) > 1:
        ctx.schema(msg.only_one_of(PROCESSORS), where)
    for name in present:
        _processor(ctx, state[name], f"{where}/{name}")
    _label(ctx, state.get("Label"), f"{where}/Label")
    for name, fields, payloads in _OBJECTS:
        config = state.get(name)
        if isinstance(config, dict):
            _config_object(ctx, config, f"{where}/{name}", fields, payloads, language)
    reader = state.get("ItemReader")
    if isinstance(reader, dict) and isinstance(reader.get("ReaderConfig"), dict):
        _reader_config(ctx, reader["ReaderConfig"], f"{where}/ItemReader/ReaderConfig")


def _processor(ctx: Ctx, processor: Any, where: str) -> None:
    if not isinstance(processor, dict):
        return  # already reported by the field table (Expected value of type [OBJECT])
    for name in processor:
        if name not in PROCESSOR_FIELDS:
            # Measured for QueryLanguage: a processor is not a state and has no language.
            ctx.schema(msg.not_supported(name), where)
    config = processor.get("ProcessorConfig")
    if config is not None:
        _processor_config(ctx, config, f"{where}/ProcessorConfig")
    if ctx.validate_scope is not None:
        ctx.validate_scope(
            ctx, {k: v for k, v in processor.items() if k in ("StartAt", "States")}, where
        )


def _processor_config(ctx: Ctx, config: Any, where: str) -> None:
    if not isinstance(config, dict):
        ctx.schema(msg.expected_type("OBJECT"), where)
        return
    for name in config:
        if name not in PROCESSOR_CONFIG_FIELDS:
            ctx.schema(msg.not_supported(name), where)
    mode = config.get("Mode", "INLINE")
    if mode not in MODES:
        ctx.schema(msg.one_of_values(MODES), f"{where}/Mode")
    if mode == "DISTRIBUTED" and "ExecutionType" not in config:
        ctx.schema(msg.required(["ExecutionType"]), where)
    elif mode == "INLINE" and "ExecutionType" in config:
        ctx.schema(msg.not_supported("ExecutionType"), where)
    elif "ExecutionType" in config and config["ExecutionType"] not in EXECUTION_TYPES:
        ctx.schema(msg.one_of_values(EXECUTION_TYPES), f"{where}/ExecutionType")


def _label(ctx: Ctx, label: Any, where: str) -> None:
    if not isinstance(label, str):
        return
    if len(label) > MAX_LABEL:
        ctx.error(msg.INVALID_LABEL_NAME, msg.label_too_long(), where)
    elif not label or any(char in _LABEL_FORBIDDEN or _is_control(char) for char in label):
        ctx.error(msg.INVALID_LABEL_NAME, msg.label_invalid(), where)
    elif label in ctx.labels:
        ctx.error(msg.DUPLICATE_LABEL_NAME, msg.duplicate_label(label), where)
    ctx.labels.add(label)


def _config_object(
    ctx: Ctx,
    config: dict[str, Any],
    where: str,
    fields: frozenset[str],
    payloads: tuple[str, ...],
    language: str,
) -> None:
    for name in config:
        if name not in fields:
            ctx.schema(msg.not_supported(name), where)
        elif name == ("Arguments" if language == JSONPATH else "Parameters"):
            ctx.schema(msg.wrong_query_language(language, name), where)
    if language == JSONPATH:
        for name in payloads:
            if name in config:
                check_payload_template(ctx, config[name], f"{where}/{name}")


def _reader_config(ctx: Ctx, config: dict[str, Any], where: str) -> None:
    for name in config:
        if name not in READER_CONFIG_FIELDS:
            ctx.schema(msg.not_supported(name), where)
    input_type = config.get("InputType")
    if "InputType" in config and input_type not in INPUT_TYPES:
        ctx.schema(msg.field_one_of("InputType", INPUT_TYPES), f"{where}/InputType")
    if config.get("CSVHeaderLocation") == "GIVEN" and "CSVHeaders" not in config:
        ctx.schema(msg.required(["CSVHeaders"]), where)
