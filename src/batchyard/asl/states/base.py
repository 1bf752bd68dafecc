"""What every state kind provides to the interpreter; defaults for the ones that never wait."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from batchyard.asl.interpreter import Interpreter, TaskOutcome, Thread
    from batchyard.asl.model import CompiledState, Compiler


class StateKind:
    """One state type. ``run`` is called right after the state's Entered event."""

    type_name = ""
    entered_type = ""
    exited_type = ""
    #: Recorded when the state fails for good (``MapStateFailed``); empty for most kinds.
    failed_type = ""
    #: Recorded for a state still in progress when the execution is stopped.
    aborted_type = ""

    def compile(self, state: CompiledState, compiler: Compiler) -> None:
        """Read the type-specific fields of ``state.raw`` into ``state.spec``."""

    def run(self, interp: Interpreter, thread: Thread) -> None:
        raise NotImplementedError

    def retry(self, interp: Interpreter, thread: Thread) -> None:
        """Run the state again after a Retry back-off (no new Entered event)."""
        self.run(interp, thread)

    def on_task(self, interp: Interpreter, thread: Thread, outcome: TaskOutcome) -> None:
        raise NotImplementedError(self.type_name)

    def on_task_started(self, interp: Interpreter, thread: Thread, submitted: Any) -> None:
        """A task's start (and the response of its submission) was reported; only Task waits
        on tasks that report it."""

    def on_timer(self, interp: Interpreter, thread: Thread) -> None:
        raise NotImplementedError(self.type_name)

    def child_succeeded(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        raise NotImplementedError(self.type_name)

    def child_failed(self, interp: Interpreter, thread: Thread, child: Thread) -> None:
        raise NotImplementedError(self.type_name)

    def abort_children(self, interp: Interpreter, thread: Thread) -> None:
        """Abort the child threads of a waiting fan-out state (none for most kinds)."""

    def link(self, state: CompiledState, states: dict[str, CompiledState]) -> None:
        """Resolve state names held in ``spec`` (Choice targets) once all states exist."""
