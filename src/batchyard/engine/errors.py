"""The errors the engine raises, named and worded as Step Functions names and words them.

The API layer maps each class to the wire by its ``code`` (``{"__type": code, "message": ...}``,
HTTP 400). Messages come from AWS recordings (LocalStack snapshots and AWS's own responses).
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine reports to an API caller."""

    code = "EngineError"

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class ExecutionAlreadyExists(EngineError):
    code = "ExecutionAlreadyExists"


class ExecutionDoesNotExist(EngineError):
    code = "ExecutionDoesNotExist"


class ExecutionLimitExceeded(EngineError):
    code = "ExecutionLimitExceeded"


class ExecutionNotRedrivable(EngineError):
    code = "ExecutionNotRedrivable"


class StateMachineDoesNotExist(EngineError):
    code = "StateMachineDoesNotExist"


class StateMachineDeleting(EngineError):
    code = "StateMachineDeleting"


class StateMachineTypeNotSupported(EngineError):
    code = "StateMachineTypeNotSupported"


class InvalidName(EngineError):
    code = "InvalidName"


class InvalidArn(EngineError):
    code = "InvalidArn"


class InvalidExecutionInput(EngineError):
    code = "InvalidExecutionInput"


class InvalidOutput(EngineError):
    code = "InvalidOutput"


class TaskDoesNotExist(EngineError):
    code = "TaskDoesNotExist"


class TaskTimedOut(EngineError):
    code = "TaskTimedOut"


class InvalidToken(EngineError):
    code = "InvalidToken"


class ActivityDoesNotExist(EngineError):
    code = "ActivityDoesNotExist"


class ValidationException(EngineError):
    code = "ValidationException"


class NondeterminismError(RuntimeError):
    """Replaying the persisted inputs did not regenerate the persisted history.

    Raised by the determinism guard on takeover; the execution is left untouched (never
    continued from a state that disagrees with what callers have already seen).
    """


def execution_does_not_exist(arn: str) -> EngineError:
    return ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")


def state_machine_does_not_exist(arn: str) -> EngineError:
    return StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")


def execution_already_exists(arn: str) -> EngineError:
    return ExecutionAlreadyExists(f"Execution Already Exists: '{arn}'")


def invalid_arn(arn: str) -> EngineError:
    return InvalidArn(f"Invalid arn: '{arn}'")


def invalid_name(name: str) -> EngineError:
    return InvalidName(f"Invalid Name: '{name}'")


def activity_does_not_exist(arn: str) -> EngineError:
    return ActivityDoesNotExist(f"Activity Does Not Exist: '{arn}'")


__all__ = [
    "ActivityDoesNotExist",
    "EngineError",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "ExecutionLimitExceeded",
    "ExecutionNotRedrivable",
    "InvalidArn",
    "InvalidExecutionInput",
    "InvalidName",
    "InvalidOutput",
    "InvalidToken",
    "NondeterminismError",
    "StateMachineDeleting",
    "StateMachineDoesNotExist",
    "StateMachineTypeNotSupported",
    "TaskDoesNotExist",
    "TaskTimedOut",
    "ValidationException",
]
