"""The graph draws every valid definition the project keeps (ASL fixtures recorded on AWS, the
validator's valid cases, the examples): one node per state, every position a number."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.web.conftest import Watched

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "asl"


def _definitions() -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(FIXTURES.glob("*.json")):
        if path.name == "invalid_definitions.json":
            continue
        for case in json.loads(path.read_text()).get("cases", []):
            definition = case.get("definition")
            if isinstance(definition, dict) and "States" in definition:
                found.append((f"{path.name}:{case.get('name')}", definition))
    for path in sorted((FIXTURES / "validation" / "valid").glob("*.json")):
        found.append((path.name, json.loads(path.read_text())))
    for path in sorted((ROOT / "examples").glob("**/*.asl.json")):
        found.append((str(path.relative_to(ROOT)), json.loads(path.read_text())))
    return found


def _state_count(definition: dict[str, Any]) -> int:
    count = 0
    for state in definition.get("States", {}).values():
        count += 1
        for branch in state.get("Branches", []):
            count += _state_count(branch)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            count += _state_count(processor)
    return count


RENDER = """([text]) => {
  const box = document.createElement("div");
  byGraph.render(box, text, [], () => {});
  const bad = [...box.querySelectorAll("[transform], path")].filter(
    (el) => /NaN|undefined/.test(el.getAttribute("transform") || el.getAttribute("d") || ""));
  return { states: box.querySelectorAll("g.state").length, bad: bad.length };
}"""


def test_every_kept_definition_is_drawn(web: Watched) -> None:
    definitions = _definitions()
    assert len(definitions) > 50
    web.goto("/ui/execution")  # loads dagre and graph.js; no execution to show
    failures = []
    for name, definition in definitions:
        try:
            drawn = web.page.evaluate(RENDER, [json.dumps(definition)])
        except Exception as exc:  # report every definition that fails, not just the first
            failures.append(f"{name}: {str(exc).splitlines()[0]}")
            continue
        if drawn != {"states": _state_count(definition), "bad": 0}:
            failures.append(f"{name}: {drawn}, expected {_state_count(definition)} states")
    assert failures == []
