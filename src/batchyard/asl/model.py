"""The compiled form of a definition: what the interpreter walks at run time.

``compile_program`` turns the (already validated) definition dict into :class:`Program` objects —
one for the top level and one per Parallel branch / Map processor — whose :class:`CompiledState`
items have their ``Next`` targets resolved to objects, their defaults filled in and their
query language decided. Nothing here evaluates data; it only moves the work of reading the
definition out of the hot loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

JSONPATH = "JSONPath"
JSONATA = "JSONata"

# Sentinel for "field absent" where ``None`` already means JSON ``null``.
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()


@dataclass(slots=True)
class Retrier:
    error_equals: tuple[str, ...]
    interval_seconds: float = 1.0
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter_full: bool = False


@dataclass(slots=True)
class Catcher:
    error_equals: tuple[str, ...]
    next_name: str
    result_path: str | None = "$"
    output: Any = ABSENT  # JSONata ``Output``
    assign: dict[str, Any] | None = None
    next: CompiledState | None = None


@dataclass(slots=True, eq=False)
class CompiledState:
    """One state, with everything the interpreter needs read out of the definition once."""

    name: str
    type: str
    raw: dict[str, Any]
    jsonata: bool
    next_name: str | None
    end: bool
    input_path: str | None = "$"  # None: JSON null, the state sees {}
    output_path: str | None = "$"
    result_path: str | None = "$"
    parameters: Any = ABSENT  # Parameters / ItemSelector (JSONPath) or Arguments (JSONata)
    result_selector: Any = ABSENT
    output: Any = ABSENT  # JSONata Output
    assign: dict[str, Any] | None = None
    retriers: list[Retrier] = field(default_factory=list)
    catchers: list[Catcher] = field(default_factory=list)
    # Whether any template of the state mentions ``$$`` (the context object must be built) or
    # ``$`` variables; decided once so the hot path can skip building what nobody reads.
    needs_context: bool = True
    next: CompiledState | None = None
    spec: Any = None  # type-specific compiled data (see batchyard.asl.states)
    kind: Any = None  # the StateKind that runs it


@dataclass(slots=True, eq=False)
class Program:
    """A StartAt + States scope: the top level, a Parallel branch or a Map processor."""

    start: CompiledState
    states: dict[str, CompiledState]
    jsonata: bool


def _mentions_context(value: Any) -> bool:
    if isinstance(value, str):
        return "$$" in value
    if isinstance(value, dict):
        return any(_mentions_context(k) or _mentions_context(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions_context(v) for v in value)
    return False


_NESTED = frozenset({"Branches", "ItemProcessor", "Iterator"})


def _path_field(raw: dict[str, Any], key: str) -> str | None:
    if key not in raw:
        return "$"
    value = raw[key]
    return value if isinstance(value, str) else None


def _retrier(raw: dict[str, Any]) -> Retrier:
    max_delay = raw.get("MaxDelaySeconds")
    return Retrier(
        error_equals=tuple(raw.get("ErrorEquals", ())),
        interval_seconds=float(raw.get("IntervalSeconds", 1)),
        max_attempts=int(raw.get("MaxAttempts", 3)),
        backoff_rate=float(raw.get("BackoffRate", 2.0)),
        max_delay_seconds=float(max_delay) if max_delay is not None else None,
        jitter_full=raw.get("JitterStrategy") == "FULL",
    )


def _catcher(raw: dict[str, Any]) -> Catcher:
    return Catcher(
        error_equals=tuple(raw.get("ErrorEquals", ())),
        next_name=raw.get("Next", ""),
        result_path=_path_field(raw, "ResultPath"),
        output=raw.get("Output", ABSENT),
        assign=raw.get("Assign"),
    )


StateCompiler = Callable[[CompiledState, "Compiler"], None]


class Compiler:
    """Builds Programs; state kinds call back into it for nested branches and processors."""

    def __init__(self, kinds: dict[str, Any], top_jsonata: bool) -> None:
        self.kinds = kinds
        self.top_jsonata = top_jsonata

    def program(self, raw: dict[str, Any]) -> Program:
        states: dict[str, CompiledState] = {}
        for name, state_raw in (raw.get("States") or {}).items():
            states[name] = self.state(name, state_raw)
        for state in states.values():
            if state.next_name is not None:
                state.next = states.get(state.next_name)
            for catcher in state.catchers:
                catcher.next = states.get(catcher.next_name)
            link = getattr(state.kind, "link", None)
            if link is not None:
                link(state, states)
        start = states[raw["StartAt"]]
        return Program(start=start, states=states, jsonata=self.top_jsonata)

    def state(self, name: str, raw: dict[str, Any]) -> CompiledState:
        language = raw.get("QueryLanguage")
        jsonata = language == JSONATA if language is not None else self.top_jsonata
        typ = raw.get("Type", "")
        state = CompiledState(
            name=name,
            type=typ,
            raw=raw,
            jsonata=jsonata,
            next_name=raw.get("Next"),
            end=bool(raw.get("End", False)),
            input_path=_path_field(raw, "InputPath"),
            output_path=_path_field(raw, "OutputPath"),
            result_path=_path_field(raw, "ResultPath"),
            result_selector=raw.get("ResultSelector", ABSENT),
            output=raw.get("Output", ABSENT),
            assign=raw.get("Assign"),
            retriers=[_retrier(r) for r in raw.get("Retry") or ()],
            catchers=[_catcher(c) for c in raw.get("Catch") or ()],
        )
        if jsonata:
            state.parameters = raw.get("Arguments", ABSENT)
        else:
            state.parameters = raw.get("Parameters", ABSENT)
        state.needs_context = jsonata or _mentions_context(
            {k: v for k, v in raw.items() if k not in _NESTED}
        )
        kind = self.kinds[typ]
        state.kind = kind
        kind.compile(state, self)
        return state
