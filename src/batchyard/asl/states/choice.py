"""Choice: the first matching rule picks the next state; no match and no Default fails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from batchyard.asl.choice import evaluate_rule
from batchyard.asl.errors import StatesError
from batchyard.asl.flow import (
    bindings,
    jsonata,
    jsonata_output,
    payload,
    prefixed,
    select,
    state_error,
    unexpected_type,
)
from batchyard.asl.model import ABSENT, CompiledState, Compiler
from batchyard.asl.states.base import StateKind

if TYPE_CHECKING:
    from batchyard.asl.interpreter import Interpreter, Thread


@dataclass(slots=True, eq=False)
class Rule:
    raw: dict[str, Any]
    next_name: str
    condition: Any = ABSENT  # JSONata
    output: Any = ABSENT
    assign: dict[str, Any] | None = None
    next: CompiledState | None = None


@dataclass(slots=True, eq=False)
class ChoiceSpec:
    rules: list[Rule]
    default_name: str | None
    default: CompiledState | None = None


class ChoiceKind(StateKind):
    type_name = "Choice"
    entered_type = "ChoiceStateEntered"
    exited_type = "ChoiceStateExited"

    def compile(self, state: CompiledState, compiler: Compiler) -> None:
        rules = [
            Rule(
                raw=rule,
                next_name=rule.get("Next", ""),
                condition=rule.get("Condition", ABSENT),
                output=rule.get("Output", ABSENT),
                assign=rule.get("Assign"),
            )
            for rule in state.raw.get("Choices") or ()
        ]
        state.spec = ChoiceSpec(rules, state.raw.get("Default"))

    def link(self, state: CompiledState, states: dict[str, CompiledState]) -> None:
        spec: ChoiceSpec = state.spec
        for rule in spec.rules:
            rule.next = states.get(rule.next_name)
        if spec.default_name is not None:
            spec.default = states.get(spec.default_name)

    def run(self, interp: Interpreter, thread: Thread) -> None:
        state = thread.state
        assert state is not None
        spec: ChoiceSpec = state.spec
        if state.jsonata:
            self._run_jsonata(interp, thread, spec)
            return
        ctx = interp.context(thread) if state.needs_context else None
        data = select(interp, thread, state.input_path, thread.input, "InputPath", ctx)
        variables = thread.scope()
        chosen: Rule | None = None
        for rule in spec.rules:
            try:
                matched = evaluate_rule(rule.raw, data, context=ctx, variables=variables)
            except StatesError as exc:
                raise prefixed(thread, exc) from None
            if matched:
                chosen = rule
                break
        next_state = self._next(thread, spec, chosen)
        # The matching rule's Assign applies; the state's own only when Default is taken.
        template = state.assign if chosen is None else chosen.assign
        assigned = None
        if template is not None:
            assigned = payload(interp, thread, template, data, "Assign", ctx)
        output = select(interp, thread, state.output_path, data, "OutputPath", ctx)
        interp.exit(thread, output, next_state, assigned)

    def _run_jsonata(self, interp: Interpreter, thread: Thread, spec: ChoiceSpec) -> None:
        state = thread.state
        assert state is not None
        names = bindings(interp, thread)
        chosen: Rule | None = None
        for rule in spec.rules:
            value = jsonata(rule.condition, names, "Condition")
            if not isinstance(value, bool):
                raise unexpected_type(rule.condition, "Condition", "boolean", value)
            if value:
                chosen = rule
                break
        next_state = self._next(thread, spec, chosen)
        if chosen is None:  # Default: the state's own Output and Assign
            output, assigned = jsonata_output(state, names, thread.input)
        else:  # a rule matched: its Output and Assign
            output = thread.input
            if chosen.output is not ABSENT:
                output = jsonata(chosen.output, names, "Output")
            assigned = None
            if chosen.assign is not None:
                assigned = jsonata(chosen.assign, names, "Assign")
        interp.exit(thread, output, next_state, assigned)

    def _next(self, thread: Thread, spec: ChoiceSpec, chosen: Rule | None) -> CompiledState:
        if chosen is not None and chosen.next is not None:
            return chosen.next
        if spec.default is not None:
            return spec.default
        raise state_error(thread, "States.NoChoiceMatched", "No Matches!")
