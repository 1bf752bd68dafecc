"""ItemBatcher: group a Distributed Map's items so that one child execution processes many.

Each batch becomes one child's input, ``{"BatchInput": ..., "Items": [...]}`` (``BatchInput``
only when the definition has one). A batch closes when it holds ``MaxItemsPerBatch`` items or
when one more item would make the child's input larger than ``MaxInputBytesPerBatch`` bytes.
The size measured is the whole input the child receives (its UTF-8 JSON text, ``BatchInput``
included), which can never exceed the 256 KiB payload quota either.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from batchyard.asl.errors import StatesError

#: The most bytes a batch may hold: the Step Functions payload quota (256 KiB).
MAX_INPUT_BYTES_PER_BATCH = 262_144


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def batch_items(
    items: Sequence[Any],
    item_batcher: Mapping[str, Any],
    batch_input: Any = None,
    *,
    max_items_per_batch: int | None = None,
    max_input_bytes_per_batch: int | None = None,
) -> list[dict[str, Any]]:
    """Split ``items`` (already passed through ``ItemSelector``) into child inputs.

    ``item_batcher`` is the definition's ``ItemBatcher``; ``batch_input`` the value of its
    ``BatchInput`` once evaluated by the caller (used only when the definition has
    ``BatchInput``). ``max_items_per_batch`` / ``max_input_bytes_per_batch`` are the resolved
    values of the ``...Path`` variants and win over the literal fields.

    Raises ``States.DataLimitExceeded`` when a single item does not fit in a batch on its own.
    """
    max_items = max_items_per_batch
    if max_items is None:
        max_items = item_batcher.get("MaxItemsPerBatch")
    max_bytes = max_input_bytes_per_batch
    if max_bytes is None:
        max_bytes = item_batcher.get("MaxInputBytesPerBatch")
    byte_limit = min(int(max_bytes or MAX_INPUT_BYTES_PER_BATCH), MAX_INPUT_BYTES_PER_BATCH)
    item_limit = int(max_items) if max_items else len(items) or 1

    envelope: dict[str, Any] = {}
    if "BatchInput" in item_batcher:
        envelope["BatchInput"] = batch_input
    empty_size = _size({**envelope, "Items": []})

    batches: list[dict[str, Any]] = []
    current: list[Any] = []
    size = empty_size
    for item in items:
        item_size = _size(item)
        # Items after the first are preceded by a comma in the array.
        grown = size + item_size + (1 if current else 0)
        if current and (len(current) >= item_limit or grown > byte_limit):
            batches.append({**envelope, "Items": current})
            current, size = [], empty_size
            grown = size + item_size
        if grown > byte_limit:
            raise StatesError(
                "States.DataLimitExceeded",
                f"The item at index {sum(len(b['Items']) for b in batches) + len(current)} "
                f"does not fit in a batch of at most {byte_limit} bytes.",
            )
        current.append(item)
        size = grown
    if current:
        batches.append({**envelope, "Items": current})
    return batches
