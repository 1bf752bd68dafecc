"""AWS's diagnostic codes and message texts for state machine validation, in one place.

Every text here is what ``ValidateStateMachineDefinition`` puts in a diagnostic's ``message``
(and ``CreateStateMachine`` folds into its ``InvalidDefinition`` message). Each builder says
where the wording comes from: ``recorded`` means seen in a response recorded against real AWS
(LocalStack snapshots, error output quoted in public issues); ``inferred`` means built by analogy
with recorded texts of the same family because no recording was found.
"""

from __future__ import annotations

from collections.abc import Iterable

# Diagnostic codes (all recorded in AWS responses).
SCHEMA = "SCHEMA_VALIDATION_FAILED"
INVALID_JSON = "INVALID_JSON_DESCRIPTION"
MISSING_TARGET = "MISSING_TRANSITION_TARGET"
MISSING_END = "MISSING_END_STATE"
DUPLICATE_STATE = "DUPLICATE_STATE_NAME"
INVALID_JSONATA = "INVALID_JSONATA_EXPRESSION"
UNSUPPORTED_JSONATA = "UNSUPPORTED_JSONATA_EXPRESSION"
# Codes listed in the API reference (ValidateStateMachineDefinitionDiagnostic), texts unknown.
TOO_DEEPLY_NESTED = "TOO_DEEPLY_NESTED"
# Codes quoted in public material, not seen in a recorded response body.
INVALID_STATE_NAME = "INVALID_STATE_NAME"
INVALID_LABEL_NAME = "INVALID_LABEL_NAME"
DUPLICATE_LABEL_NAME = "DUPLICATE_LABEL_NAME"
INVALID_VARIABLE_NAME = "INVALID_VARIABLE_NAME"
RESERVED_VARIABLE_NAME = "RESERVED_VARIABLE_NAME"

# Warning codes (AWS documents them; their message texts were not found, see below).
NO_DOLLAR = "NO_DOLLAR"
NO_PATH = "NO_PATH"
PASS_RESULT_IS_STATIC = "PASS_RESULT_IS_STATIC"

STATE_TYPES = ("Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map")


def _listed(names: Iterable[str]) -> str:
    return "[" + ", ".join(names) + "]"


def not_json_object() -> str:
    """recorded (empty definition)."""
    return "Definition must be a valid JSON object"


def required(fields: Iterable[str]) -> str:
    """recorded: ``These fields are required: [States, StartAt]``."""
    return f"These fields are required: {_listed(fields)}"


def not_supported(field: str) -> str:
    """recorded (measured on every state type, located at the state)."""
    return f"Field '{field}' is not supported"


def field_one_of(field: str, values: Iterable[str]) -> str:
    """recorded for ``Type`` (at ``/States/<name>/Type``); reported for ``InputType`` by others."""
    return f"The field '{field}' should have one of these values: {_listed(values)}"


def bad_type_value() -> str:
    return field_one_of("Type", STATE_TYPES)


def one_of_values(values: Iterable[str]) -> str:
    """recorded for QueryLanguage, Version, ExecutionType, JitterStrategy."""
    return f"Value should be one of the following: {_listed(values)}"


def expected_type(kind: str) -> str:
    """recorded for ``[STRING]``; the other kinds are inferred."""
    return f"Expected value of type [{kind}]"


def cannot_be_empty() -> str:
    """recorded for empty ErrorEquals, Choices and Branches arrays."""
    return "Value cannot be empty"


def should_be_non_empty(field: str) -> str:
    """recorded: ``The field 'Next' should be non-empty``."""
    return f"The field '{field}' should be non-empty"


def only_one_of(fields: Iterable[str]) -> str:
    """recorded: more than one of mutually exclusive fields is present."""
    return f"There should only be one of the following fields: {_listed(fields)}"


def exactly_one_of(fields: Iterable[str]) -> str:
    """recorded for [Next, End] and [ItemProcessor, Iterator] when none is present."""
    return f"This object should have only one of the following fields: {_listed(fields)}"


def choice_rule_selector() -> str:
    """recorded: a Choice rule needs exactly one of its selector fields."""
    return (
        "The object must have only one of the following fields, [And, Or, Not, Variable, Condition]"
    )


def maximum(value: int | float) -> str:
    """recorded: ``Maximum value is 99999999``."""
    return f"Maximum value is {value}"


def minimum(value: int | float) -> str:
    """inferred from the recorded ``Maximum value is ...``."""
    return f"Minimum value is {value}"


def invalid_jsonpath() -> str:
    """recorded (InputPath/OutputPath), note the final period."""
    return "Value must be a valid JSONPath."


def not_reference_path(reason: str) -> str:
    """recorded with the reason ``Reference path didn't start with '$'``; other reasons inferred."""
    return f"Value is not a Reference Path: {reason}"


def bad_payload_value(key: str) -> str:
    """recorded for a ``.$`` key whose value is neither a path nor an intrinsic call."""
    return f"The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call"


def wrong_query_language(language: str, field: str) -> str:
    """recorded, located at the state."""
    other = "JSONata" if language == "JSONPath" else "JSONPath"
    return (
        f"The QueryLanguage is set to '{language}', but field '{field}' is only supported "
        f"for the '{other}' QueryLanguage"
    )


def query_language_downgrade() -> str:
    """recorded (LocalStack snapshot of ValidateStateMachineDefinition), located at the state."""
    return "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine"


def bad_timestamp() -> str:
    """quoted in public material."""
    return "String does not match RFC3339 timestamp"


def bad_resource_arn() -> str:
    """recorded, located at ``/States/<name>/Resource``."""
    return "Value is not a valid resource ARN"


def unrecognized_resource(resource: str) -> str:
    """recorded (a CloudFormation error quoting CreateStateMachine), at ``.../Resource``."""
    return (
        f"The resource provided {resource} is not recognized. The value is not a valid resource "
        "ARN, or the resource is not available in this region."
    )


def express_integration(pattern: str) -> str:
    """recorded for '.waitForTaskToken' (the trailing space is AWS's); '.sync' by analogy."""
    return f"Express state machine does not support '{pattern}' service integration "


def express_activity() -> str:
    """reported by LocalStack's validator as AWS's text; not seen in a recording."""
    return "Express state machine does not support Activity ARN"


def states_all_position() -> str:
    """quoted in public material."""
    return "States.ALL must appear alone and at end of list"


def role_arn_missing() -> str:
    """quoted in public material."""
    return "The field 'RoleArn' is required but was missing"


def heartbeat_not_below_timeout() -> str:
    """inferred: no recording of this rule was found."""
    return "The field 'HeartbeatSeconds' must be smaller than the field 'TimeoutSeconds'"


def jsonata_delimiters() -> str:
    """quoted in public material."""
    return "JSONata string must start with {% and end with %}"


def top_level_reference(name: str) -> str:
    """recorded: ``Reference to 'phone' at the top level is not supported.``; ``$$`` measured by others."""
    if name == "$$":
        return "Reference to '$$' is not supported."
    return f"Reference to '{name}' at the top level is not supported."


def no_error_output() -> str:
    """quoted (measured by others): ``$states.errorOutput`` outside a catcher's Output/Assign."""
    return "Field '$states.errorOutput' does not exist."


def missing_target(target: str) -> str:
    """recorded for Next; the same word 'Next' for Default, Choices and Catch (measured by others)."""
    return f"Missing 'Next' target: {target}"


def unreachable(name: str) -> str:
    """recorded, located at the state."""
    return f'State "{name}" is not reachable.'


def no_terminal_state() -> str:
    """recorded, without a location."""
    return "Workflow has no terminal state"


def duplicate_state(name: str) -> str:
    """recorded (AWS Step Functions Local wording)."""
    return f"Duplicate State name: {name}"


def state_name_too_long() -> str:
    """quoted in public material (a CDK construct's docs)."""
    return "Invalid State name: State exceeds the 80-character limit allowed by the service"


def label_too_long() -> str:
    """inferred from the state-name text above."""
    return "Invalid Label name: Label exceeds the 40-character limit allowed by the service"


def label_invalid() -> str:
    """inferred (empty label, or a character a Map Run ARN cannot hold)."""
    return "Invalid Label name: Label contains invalid characters"


def duplicate_label(label: str) -> str:
    """quoted in public material."""
    return f"Duplicate Label name: {label}"


def invalid_variable_name(name: str) -> str:
    """quoted in public material."""
    return f"Invalid variable name '{name}': the variable name contains invalid characters."


def reserved_variable() -> str:
    """quoted in public material."""
    return "Cannot assign to reserved variable '$states'."


# Warnings: the texts are the API reference's descriptions of the codes (inferred as messages).


def no_dollar() -> str:
    return "No .$ on a field that appears to be a JSONPath or Intrinsic Function."


def no_path() -> str:
    return "Field value looks like a path, but field name does not end with 'Path'."


def pass_result_is_static() -> str:
    return "Attempt to use a path in the result of a pass state."
