"""ARNs and names as Step Functions forms and checks them."""

from __future__ import annotations

import re

from batchyard.engine.errors import EngineError, invalid_arn, invalid_name

# AWS refuses whitespace, brackets, wildcards, these punctuation marks and control characters.
_BAD_NAME = re.compile(r'[\s<>{}\[\]?*"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]')
_STATE_MACHINE_ARN = re.compile(
    r"arn:aws[\w-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?"
)
_EXECUTION_ARN = re.compile(
    r"arn:aws[\w-]*:states:[a-z0-9-]+:\d{12}:(execution|express):[A-Za-z0-9_.-]+:[^:]+(:[^:]+)?"
)
_ACTIVITY_ARN = re.compile(r"arn:aws[\w-]*:states:[a-z0-9-]+:\d{12}:activity:[^:]{1,80}")


def check_name(name: str) -> None:
    if not 1 <= len(name) <= 80 or _BAD_NAME.search(name):
        raise invalid_name(name)


def check_arn(arn: str, pattern: re.Pattern[str]) -> None:
    if not pattern.fullmatch(arn):
        raise invalid_arn(arn)


def check_state_machine_arn(arn: str) -> None:
    check_arn(arn, _STATE_MACHINE_ARN)


def check_execution_arn(arn: str) -> None:
    check_arn(arn, _EXECUTION_ARN)


def check_activity_arn(arn: str) -> None:
    check_arn(arn, _ACTIVITY_ARN)


def execution_arn(state_machine_arn: str, name: str, *, express: bool = False) -> str:
    """``arn:aws:states:R:A:stateMachine:SM`` + name → the execution's ARN."""
    prefix, _, machine = state_machine_arn.partition(":stateMachine:")
    machine = machine.split(":", 1)[0]  # a version or alias qualifier is not part of it
    kind = "express" if express else "execution"
    return f"{prefix}:{kind}:{machine}:{name}"


def base_state_machine_arn(arn: str) -> str:
    """The state machine ARN without a version number or alias name."""
    prefix, _, rest = arn.partition(":stateMachine:")
    return f"{prefix}:stateMachine:{rest.split(':', 1)[0]}"


def state_machine_name(arn: str) -> str:
    return arn.partition(":stateMachine:")[2].split(":", 1)[0]


__all__ = ["EngineError"]
