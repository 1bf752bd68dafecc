"""An execution's state machine as a text tree, each state with the status its history gives.

The status of a state is read from the history the way the AWS console colours its graph:
entered and exited is SUCCEEDED; exited after one of its own failure events (a Catch moved on)
is CAUGHT ERROR; entered and never exited is RUNNING while the execution runs and FAILED once
it has stopped; never entered is NOT RUN. Parallel branches and Map processors are subtrees.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rich.markup import escape
from rich.tree import Tree

STATE_COLOURS = {
    "SUCCEEDED": "green",
    "CAUGHT ERROR": "yellow",
    "FAILED": "red",
    "RUNNING": "blue",
    "NOT RUN": "dim",
}

# Failure events that belong to the state being run (ExecutionFailed belongs to no state).
_FAILURE_SUFFIXES = ("Failed", "TimedOut", "StartFailed", "SubmitFailed", "Aborted")


@dataclass
class StateRun:
    """What the history says about one state."""

    entered: int = 0
    exited: int = 0
    failures: int = 0
    last_error: str = ""
    # The last exit followed a failure inside the state: a Catch moved on.
    caught: bool = False
    failing: bool = False


def state_runs(events: list[dict[str, Any]]) -> dict[str, StateRun]:
    """Per state name: how often it was entered and exited, and the failures inside it."""
    runs: dict[str, StateRun] = {}
    open_states: list[str] = []
    for event in events:
        kind = str(event["type"])
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            runs.setdefault(name, StateRun()).entered += 1
            open_states.append(name)
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            run = runs.setdefault(name, StateRun())
            run.exited += 1
            run.caught, run.failing = run.failing, False
            if name in open_states:
                open_states.reverse()
                open_states.remove(name)
                open_states.reverse()
        elif kind.endswith(("Succeeded", "Started", "Scheduled")) and open_states:
            runs[open_states[-1]].failing = False
        elif kind.endswith(_FAILURE_SUFFIXES) and not kind.startswith("Execution") and open_states:
            run = runs[open_states[-1]]
            run.failures += 1
            run.failing = True
            details = next(
                (v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)),
                {},
            )
            run.last_error = str(details.get("error", ""))
    return runs


def state_status(run: StateRun | None, execution_status: str) -> str:
    if run is None or run.entered == 0:
        return "NOT RUN"
    if run.exited >= run.entered:
        return "CAUGHT ERROR" if run.caught else "SUCCEEDED"
    return "RUNNING" if execution_status == "RUNNING" else "FAILED"


def execution_tree(
    definition: dict[str, Any], events: list[dict[str, Any]], status: str, name: str
) -> Tree:
    """The tree of ``definition``'s states, labelled with their status in this execution."""
    runs = state_runs(events)
    colour = STATE_COLOURS.get(status, "red" if status != "SUCCEEDED" else "green")
    root = Tree(f"[bold]{escape(name)}[/bold] [{colour}]{status}[/{colour}]")
    _add_scope(root, definition, runs, status)
    return root


def _add_scope(parent: Tree, scope: dict[str, Any], runs: dict[str, StateRun], status: str) -> None:
    for state_name, state in _ordered_states(scope):
        run = runs.get(state_name)
        label = _label(state_name, state, run, status)
        node = parent.add(label)
        kind = state.get("Type")
        if kind == "Parallel":
            for index, branch in enumerate(state.get("Branches", []), start=1):
                if isinstance(branch, dict):
                    _add_scope(node.add(f"branch {index}"), branch, runs, status)
        elif kind == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if isinstance(processor, dict):
                _add_scope(node.add("each item"), processor, runs, status)


def _ordered_states(scope: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """States in the order an execution meets them: depth first from StartAt, then the rest."""
    states = scope.get("States", {})
    if not isinstance(states, dict):
        return
    seen: set[str] = set()
    pending = [scope.get("StartAt")]
    while pending:
        current = pending.pop()
        if not isinstance(current, str) or current in seen or current not in states:
            continue
        seen.add(current)
        state = states[current]
        if isinstance(state, dict):
            yield current, state
            pending.extend(reversed(_successors(state)))
    for state_name, state in states.items():
        if state_name not in seen and isinstance(state, dict):
            yield state_name, state


def _successors(state: dict[str, Any]) -> list[str]:
    targets: list[str] = []
    if isinstance(state.get("Next"), str):
        targets.append(state["Next"])
    for choice in state.get("Choices", []) or []:
        if isinstance(choice, dict) and isinstance(choice.get("Next"), str):
            targets.append(choice["Next"])
    if isinstance(state.get("Default"), str):
        targets.append(state["Default"])
    for catcher in state.get("Catch", []) or []:
        if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
            targets.append(catcher["Next"])
    return targets


def _label(name: str, state: dict[str, Any], run: StateRun | None, status: str) -> str:
    state_status_text = state_status(run, status)
    colour = STATE_COLOURS[state_status_text]
    parts = [
        f"[bold]{escape(name)}[/bold]",
        f"({escape(str(state.get('Type', '?')))})",
        f"[{colour}]{state_status_text}[/{colour}]",
    ]
    if run is not None and run.entered > 1:
        parts.append(f"(entered {run.entered} times)")
    if run is not None and run.last_error and state_status_text in ("CAUGHT ERROR", "FAILED"):
        parts.append(f"[red]{escape(run.last_error)}[/red]")
    elif run is not None and run.failures and state_status_text in ("SUCCEEDED", "RUNNING"):
        parts.append(
            f"[yellow](retried after {run.failures} failure(s): {escape(run.last_error)})[/yellow]"
        )
    transitions = _successors(state)
    if transitions:
        parts.append("→ " + ", ".join(escape(t) for t in dict.fromkeys(transitions)))
    elif state.get("End") or state.get("Type") in ("Succeed", "Fail"):
        parts.append("(end)")
    return " ".join(parts)
