"""State kinds by ``Type``: the table the compiler and interpreter dispatch on."""

from __future__ import annotations

from batchyard.asl.states.base import StateKind
from batchyard.asl.states.choice import ChoiceKind
from batchyard.asl.states.fanout import MapKind, ParallelKind
from batchyard.asl.states.simple import FailKind, PassKind, SucceedKind, WaitKind
from batchyard.asl.states.task import TaskKind

STATE_KINDS: dict[str, StateKind] = {
    kind.type_name: kind
    for kind in (
        PassKind(),
        TaskKind(),
        ChoiceKind(),
        WaitKind(),
        SucceedKind(),
        FailKind(),
        ParallelKind(),
        MapKind(),
    )
}

__all__ = ["STATE_KINDS", "StateKind"]
