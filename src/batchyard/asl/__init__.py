"""Amazon States Language: validate, compile and run state machines exactly like AWS.

The public API is tiny and other packages (and outside test suites) use only this:

* :func:`validate` -- every problem of a definition in one pass, as :class:`Diagnostic` items.
* :func:`compile` -- a validated, ready-to-run :class:`StateMachine`, or :class:`InvalidDefinition`.
* :func:`execute` -- one whole execution in memory, returning an :class:`ExecutionResult` whose
  ``events`` have the exact shape of ``GetExecutionHistory``.

Nothing in this package does I/O or reads the clock on its own: time comes from a
:class:`Clock`, Lambda functions are plain Python callables handed in by the caller.
"""

from batchyard.asl.clock import Clock, SystemClock, VirtualClock
from batchyard.asl.diagnostics import Diagnostic
from batchyard.asl.errors import InvalidDefinition, StatesError
from batchyard.asl.execution import StateMachine, compile, execute
from batchyard.asl.result import ExecutionResult
from batchyard.asl.validate import validate

__all__ = [
    "Clock",
    "Diagnostic",
    "ExecutionResult",
    "InvalidDefinition",
    "StateMachine",
    "StatesError",
    "SystemClock",
    "VirtualClock",
    "compile",
    "execute",
    "validate",
]
