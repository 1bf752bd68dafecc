"""Property tests of the project-file reader: whatever the text, only ProjectError escapes,
and every location it reports exists in the text."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from batchyard.deploy.schema import parse
from batchyard.deploy.source import ProjectError, loads

YAMLISH = st.text(
    alphabet=st.sampled_from(list("abc:-[]{}'\"#&*!|>%@` \n\t0123456789.?,")), max_size=200
)

SECTION_NAMES = st.sampled_from(
    ["project", "log_groups", "clusters", "task_definitions", "functions", "state_machines",
     "schedule_groups", "schedules", "egress_profiles", "other"]
)  # fmt: skip
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


def _check_locations(text: str, error: ProjectError) -> None:
    lines = text.split("\n")
    for problem in error.problems:
        if problem.location is not None:
            assert 1 <= problem.location.line <= len(lines) + 1
            assert problem.location.column >= 1


@settings(max_examples=300, deadline=None)
@given(YAMLISH)
def test_arbitrary_text_only_raises_project_errors(text: str) -> None:
    try:
        source = loads(text, "p.yaml")
    except ProjectError as error:
        _check_locations(text, error)
        return
    try:
        parse(source, Path("/nonexistent"))
    except ProjectError as error:
        _check_locations(text, error)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(SECTION_NAMES, VALUES, max_size=5))
def test_arbitrary_structures_only_raise_project_errors(document: dict[str, object]) -> None:
    import yaml  # type: ignore[import-untyped]

    text = yaml.safe_dump(document)
    try:
        parse(loads(text, "p.yaml"), Path("/nonexistent"))
    except ProjectError as error:
        _check_locations(text, error)


def test_differences_ignore_what_the_server_adds_or_leaves_out() -> None:
    from batchyard.deploy.changes import differences

    desired = {"cpu": "256", "Environment": {"Variables": {}}, "containers": [{"name": "a"}]}
    current = {"cpu": 256, "containers": [{"name": "a", "portMappings": []}], "revision": 3}
    assert differences(desired, current) == []
    assert differences({"Environment": {"Variables": {"A": "1"}}}, {}) == ["Environment"]
    assert differences({"containers": [{"name": "a"}]}, {"containers": [{"name": "b"}]}) == [
        "containers[0].name"
    ]
    assert differences({"containers": [{"name": "a"}]}, {"containers": []}) == ["containers"]
