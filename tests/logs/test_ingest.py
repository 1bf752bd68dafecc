"""JSON shredding at ingestion: field names, values, type changes, wide events."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from batchyard.logs import LogStore

NOW = 1_800_000_000_000


def _shred(*messages: Any) -> list[dict[str, str]]:
    """Ingest ``messages`` (dicts become JSON) and read back each event's shredded fields."""
    store = LogStore(clock=lambda: NOW)
    store.create_log_group("g")
    store.create_log_stream("g", "s")
    texts = [m if isinstance(m, str) else json.dumps(m) for m in messages]
    store.put_log_events(
        "g", "s", [{"timestamp": NOW + i, "message": t} for i, t in enumerate(texts)]
    )
    columns = store.field_columns()
    select = ", ".join(f'"{c}"' for c in columns.values()) or "NULL"
    rows = store.connection.execute(f"SELECT {select} FROM events ORDER BY seq").fetchall()
    return [{n: v for n, v in zip(columns, row, strict=False) if v is not None} for row in rows]


def test_nested_objects_arrays_and_at_keys() -> None:
    (fields,) = _shred(
        {
            "id": "7",
            "details": {"output": '{"commands":["rake"]}', "outputDetails": {"truncated": False}},
            "tags": ["a", {"k": 1.50}],
            "@timestamp": "shadowed",
            "n": None,
            "big": 12345678901234567890123,
        }
    )
    assert fields == {
        "id": "7",
        "details.output": '{"commands":["rake"]}',
        "details.outputDetails.truncated": "false",
        "tags.0": "a",
        "tags.1": '{"k":1.5}',
        "@@timestamp": "shadowed",
        "big": "12345678901234567890123",
    }


def test_arrays_of_objects_and_nested_arrays_are_indexed() -> None:
    (fields,) = _shred({"items": [{"id": "a"}, {"id": "b", "x": [[1, 2], [3]]}]})
    assert fields == {
        "items.0.id": "a",
        "items.1.id": "b",
        "items.1.x.0.0": "1",
        "items.1.x.0.1": "2",
        "items.1.x.1.0": "3",
    }


def test_type_changes_across_events_never_leak_objects_into_scalars() -> None:
    rows = _shred({"a": "text"}, {"a": {"b": 1}}, {"a": 5}, "not json {", '["array"]', "{broken")
    assert rows == [{"a": "text"}, {"a.b": "1"}, {"a": "5"}, {}, {}, {}]


def test_top_level_arrays_and_scalars_have_no_fields_even_where_a_pointer_fits() -> None:
    # "/1" names key "1" of the object, and would name element 1 of the array.
    rows = _shred("[1, 2]", {"1": "x"}, "7", '  {"1": "y"}')
    assert rows == [{}, {"1": "x"}, {}, {"1": "y"}]


def test_keys_are_case_sensitive_and_dots_in_keys_flatten_alike() -> None:
    (fields,) = _shred({"Key": "upper", "key": "lower", "x.y": "dotted"})
    assert fields == {"Key": "upper", "key": "lower", "x.y": "dotted"}


def test_very_wide_event_keeps_the_first_1000_fields() -> None:
    wide = {f"k{i:04d}": i for i in range(1200)}
    (fields,) = _shred(wide)
    assert len(fields) == 1000
    assert fields["k0000"] == "0" and fields["k0999"] == "999" and "k1000" not in fields


def test_fields_added_later_leave_earlier_events_null() -> None:
    store = LogStore(clock=lambda: NOW)
    store.create_log_group("g")
    store.create_log_stream("g", "s")
    store.put_log_events("g", "s", [{"timestamp": NOW, "message": '{"a": 1}'}])
    store.put_log_events("g", "s", [{"timestamp": NOW + 1, "message": '{"a": 2, "b": "x"}'}])
    assert store.field_columns() == {"a": "f_0", "b": "f_1"}
    rows = store.connection.execute('SELECT "f_0", "f_1" FROM events ORDER BY seq').fetchall()
    assert rows == [("1", None), ("2", "x")]


def _flatten(value: Any, parts: list[str], out: dict[str, str]) -> None:
    """Reference flattening: what Logs Insights discovers in one JSON event."""
    if isinstance(value, dict):
        for key, child in value.items():
            _flatten(child, [*parts, key], out)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _flatten(child, [*parts, str(index)], out)
    elif value is not None:
        name = ".".join(parts)
        name = "@" + name if parts[0].startswith("@") else name
        out[name] = json.dumps(value) if isinstance(value, bool) else str(value)


_KEYS = st.text(alphabet="abAB_@-1 ", min_size=1, max_size=4)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**62), 2**62)
    | st.text(
        alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
        max_size=8,
    )
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: (
        st.dictionaries(_KEYS, children, min_size=1, max_size=4)
        | st.lists(st.dictionaries(_KEYS, _SCALARS, min_size=1, max_size=3), min_size=1, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=20, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, min_size=1, max_size=5))
def test_shredding_matches_a_reference_flattening(event: dict[str, Any]) -> None:
    expected: dict[str, str] = {}
    _flatten(event, [], expected)
    (fields,) = _shred(event)
    assert fields == expected


_MESSAGES = st.dictionaries(_KEYS, _VALUES, min_size=1, max_size=4) | st.sampled_from(
    ["plain text", "", '  {"ws": 1}', "[1, 2]", "null", '{"broken": ', '"str"']
)


@settings(max_examples=25, deadline=None)
@given(st.lists(_MESSAGES, min_size=2, max_size=6))
def test_a_batch_of_mixed_shapes_shreds_each_event_like_the_reference(events: list[Any]) -> None:
    """Discovery merges a batch's shapes; every event must still get exactly its own fields."""
    expected = []
    for event in events:
        fields: dict[str, str] = {}
        if isinstance(event, dict):
            _flatten(event, [], fields)
        elif event.strip().startswith("{") and not event.endswith(": "):
            _flatten(json.loads(event), [], fields)
        expected.append(fields)
    assert _shred(*events) == expected
