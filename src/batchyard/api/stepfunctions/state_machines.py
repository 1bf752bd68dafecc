"""CreateStateMachine, DescribeStateMachine(ForExecution), UpdateStateMachine, Delete, List.

Revisions: every change of definition, role, logging or tracing configuration gets a new
``revisionId`` (an update that changes nothing keeps it). AWS shows ``revisionId`` only for
revisions made by an update, never for the one a machine was created with; the creation
revision is recognisable by its timestamp, which equals the machine's ``creationDate``.

Deletion follows AWS: a machine with running executions goes to ``DELETING`` and is removed
once they have ended (checked whenever the machine is looked at again).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from batchyard.api.errors import AwsError
from batchyard.api.stepfunctions.common import (
    Backend,
    Params,
    Result,
    all_machines,
    check_name,
    check_role_arn,
    get_execution,
    machine_arn_of,
    machine_missing,
    paginate,
    validation,
    with_token,
)
from batchyard.asl import validate
from batchyard.asl.validate import invalid_definition_message
from batchyard.store import (
    AlreadyExists,
    Conflict,
    NotFound,
    Revision,
    StateMachine,
    StateMachineVersion,
)

DEFAULT_LOGGING = {"level": "OFF", "includeExecutionData": False}
DEFAULT_TRACING = {"enabled": False}
NO_DESCRIPTION_WITHOUT_PUBLISH = "Version description can only be set when publish is true"


def check_definition(definition: str, machine_type: str) -> None:
    errors = [d for d in validate(definition, machine_type=machine_type) if d.severity == "ERROR"]
    if errors:
        raise AwsError("InvalidDefinition", invalid_definition_message(errors))


def logging_configuration(backend: Backend, config: dict[str, Any] | None) -> dict[str, Any]:
    """The configuration as AWS keeps it (defaults filled in); InvalidLoggingConfiguration.

    Recorded on AWS: destinations are kept as given (also with level OFF, also an empty list),
    a level other than OFF needs exactly one, and it must name an existing log group.
    """
    config = dict(config or {})
    level = config.get("level") or "OFF"
    destinations = config.get("destinations") or []
    if len(destinations) > 1 or (level != "OFF" and not destinations):
        raise _invalid_logging("Must specify exactly one Log Destination.")
    for destination in destinations:
        group_arn = (destination.get("cloudWatchLogsLogGroup") or {}).get("logGroupArn", "")
        if backend.logs is not None and _log_group(group_arn) not in backend.logs.group_names():
            raise _invalid_logging("Log Destination not found.")
    config["level"] = level
    config["includeExecutionData"] = bool(config.get("includeExecutionData", False))
    return config


def _invalid_logging(reason: str) -> AwsError:
    return AwsError("InvalidLoggingConfiguration", f"Invalid Logging Configuration: {reason}")


def _log_group(arn: str) -> str:
    """``arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*`` -> ``NAME``."""
    name = arn.partition(":log-group:")[2]
    return name[:-2] if name.endswith(":*") else name


def _same(machine: StateMachine, params: Params, machine_type: str, logging: Any) -> bool:
    """CreateStateMachine's idempotency: name, definition, type, logging and tracing agree."""
    return (
        machine.definition == params["definition"]
        and machine.type == machine_type
        and (machine.logging_configuration or DEFAULT_LOGGING) == logging
        and (machine.tracing_configuration or DEFAULT_TRACING)
        == (params.get("tracingConfiguration") or DEFAULT_TRACING)
    )


def reap(backend: Backend, machine: StateMachine) -> StateMachine | None:
    """Finish the deletion of a DELETING machine whose executions have all ended."""
    if machine.status != "DELETING":
        return machine
    running = backend.store.executions.list(
        state_machine_arn=machine.arn, status="RUNNING", limit=1
    )
    if running.items:
        return machine
    purge(backend, machine.arn)
    return None


def purge(backend: Backend, arn: str) -> None:
    store = backend.store
    for alias in store.aliases.list(arn):
        store.aliases.delete(alias.arn)
        store.tags.clear(alias.arn)
    for version in store.versions.list(arn):
        store.versions.delete(version.arn)
    store.tags.clear(arn)
    store.state_machines.delete(arn)


def lookup(backend: Backend, arn: str) -> StateMachine:
    """The machine at an unqualified ARN, reaped if its deletion can finish."""
    machine = backend.store.state_machines.find(arn)
    if machine is not None:
        machine = reap(backend, machine)
    if machine is None:
        raise machine_missing(arn)
    return machine


def publish(
    backend: Backend, machine: StateMachine, description: str | None
) -> StateMachineVersion:
    """A version of the machine's current revision (the latest one again if it is the same)."""
    latest = backend.store.versions.latest(machine.arn)
    if latest is not None and latest.revision_id == machine.revision_id:
        return latest
    number = backend.store.state_machines.next_version_number(machine.arn)
    version = StateMachineVersion(
        arn=f"{machine.arn}:{number}",
        state_machine_arn=machine.arn,
        version_number=number,
        revision_id=machine.revision_id,
        created=backend.clock(),
        description=description,
    )
    return backend.store.versions.create(version)


def create_state_machine(backend: Backend, params: Params) -> Result:
    if params.get("versionDescription") and not params.get("publish"):
        raise validation(NO_DESCRIPTION_WITHOUT_PUBLISH)
    name = params["name"]
    check_name(name)
    check_role_arn(params["roleArn"])
    machine_type = params.get("type") or "STANDARD"
    logging = logging_configuration(backend, params.get("loggingConfiguration"))
    arn = backend.machine_arn(name)
    existing = backend.store.state_machines.find(arn)
    if existing is not None:
        existing = reap(backend, existing)
    if existing is not None:
        if existing.status == "DELETING":
            raise AwsError("StateMachineDeleting", f"State Machine is being deleted: '{arn}'")
        if not _same(existing, params, machine_type, logging):
            raise AwsError("StateMachineAlreadyExists", f"State Machine Already Exists: '{arn}'")
        return {"stateMachineArn": arn, "creationDate": existing.created}
    check_definition(params["definition"], machine_type)
    now = backend.clock()
    machine = StateMachine(
        arn=arn,
        name=name,
        type=machine_type,
        definition=params["definition"],
        role_arn=params["roleArn"],
        revision_id=str(uuid.uuid4()),
        created=now,
        updated=now,
        logging_configuration=logging,
        tracing_configuration=params.get("tracingConfiguration") or DEFAULT_TRACING,
        encryption_configuration=params.get("encryptionConfiguration"),
    )
    try:
        backend.store.state_machines.create(machine)
    except AlreadyExists as exc:  # a concurrent create of the same name won
        raise AwsError(
            "StateMachineAlreadyExists", f"State Machine Already Exists: '{arn}'"
        ) from exc
    backend.store.tags.put(arn, {t["key"]: t.get("value", "") for t in params.get("tags") or []})
    result: Result = {"stateMachineArn": arn, "creationDate": now}
    if params.get("publish"):
        result["stateMachineVersionArn"] = publish(
            backend, machine, params.get("versionDescription")
        ).arn
    return result


def _described(machine: StateMachine, revision: Revision | StateMachine) -> Result:
    result: Result = {
        "name": machine.name,
        "status": machine.status,
        "definition": revision.definition,
        "roleArn": revision.role_arn,
        "type": machine.type,
        "loggingConfiguration": revision.logging_configuration or DEFAULT_LOGGING,
        "tracingConfiguration": revision.tracing_configuration or DEFAULT_TRACING,
    }
    if revision.encryption_configuration:
        result["encryptionConfiguration"] = revision.encryption_configuration
    return result


def _updated_revision(machine: StateMachine, revision: Revision) -> bool:
    return revision.created != machine.created


def describe_state_machine(backend: Backend, params: Params) -> Result:
    arn = machine_arn_of(params["stateMachineArn"], allow_qualified=True)
    base = f"{backend.prefix}:stateMachine:{arn.parts[0]}"
    if len(arn.parts) == 1:
        machine = lookup(backend, arn.text)
        revision = backend.store.state_machines.revision(machine.arn, machine.revision_id)
        result = {"stateMachineArn": machine.arn, **_described(machine, machine)}
        result["creationDate"] = machine.created
    else:
        if backend.store.state_machines.find(base) is None or not arn.parts[1].isdigit():
            raise machine_missing(arn.text)
        machine = lookup(backend, base)
        try:
            version = backend.store.versions.get(arn.text)
        except NotFound as exc:
            raise machine_missing(arn.text) from exc
        revision = backend.store.state_machines.revision(machine.arn, version.revision_id)
        result = {"stateMachineArn": version.arn, **_described(machine, revision)}
        result["creationDate"] = version.created
        if version.description:
            result["description"] = version.description
    if _updated_revision(machine, revision):
        result["revisionId"] = revision.revision_id
    return result


def describe_state_machine_for_execution(backend: Backend, params: Params) -> Result:
    execution = get_execution(backend, params["executionArn"])
    store = backend.store
    try:
        revision = store.state_machines.revision(execution.state_machine_arn, execution.revision_id)
    except NotFound as exc:  # the machine was deleted since; its executions remain
        raise machine_missing(execution.state_machine_arn) from exc
    machine = store.state_machines.find(execution.state_machine_arn)
    result: Result = {
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.state_machine_arn.split(":")[6],
        "definition": revision.definition,
        "roleArn": revision.role_arn,
        "updateDate": revision.created,
        "loggingConfiguration": revision.logging_configuration or DEFAULT_LOGGING,
        "tracingConfiguration": revision.tracing_configuration or DEFAULT_TRACING,
    }
    if machine is not None and _updated_revision(machine, revision):
        result["revisionId"] = revision.revision_id
    if revision.encryption_configuration:
        result["encryptionConfiguration"] = revision.encryption_configuration
    if execution.map_run_arn:
        result["mapRunArn"] = execution.map_run_arn
    return result


def update_state_machine(backend: Backend, params: Params) -> Result:
    arn = machine_arn_of(params["stateMachineArn"], allow_qualified=True)
    if len(arn.parts) > 1:
        raise machine_missing(arn.text)
    machine = lookup(backend, arn.text)
    changes = ("definition", "roleArn", "loggingConfiguration", "tracingConfiguration")
    if not any(params.get(key) is not None for key in changes):
        raise AwsError(
            "MissingRequiredParameter",
            "Either the definition, the role ARN, the LoggingConfiguration, or the "
            "TracingConfiguration must be specified",
        )
    if params.get("versionDescription") and not params.get("publish"):
        raise validation(NO_DESCRIPTION_WITHOUT_PUBLISH)
    if params.get("roleArn") is not None:
        check_role_arn(params["roleArn"])
    if params.get("definition") is not None:
        check_definition(params["definition"], machine.type)
    logging = (
        logging_configuration(backend, params["loggingConfiguration"])
        if params.get("loggingConfiguration") is not None
        else None
    )
    now = backend.clock()
    for _ in range(CONFLICT_RETRIES):
        try:
            updated = _apply(backend, machine, params, logging, now)
            break
        except Conflict:  # a concurrent update won: apply ours on top of it
            machine = lookup(backend, arn.text)
    else:  # five concurrent updates in a row: practically unreachable; batchyard's wording
        raise AwsError("ConflictException", f"State Machine is being updated: '{arn.text}'")
    result: Result = {"updateDate": now}
    # Recorded on AWS: an update that changes nothing on a never-updated machine has no
    # revisionId to report (the creation revision is never shown).
    if updated.updated != updated.created:
        result["revisionId"] = updated.revision_id
    if params.get("publish"):
        result["stateMachineVersionArn"] = publish(
            backend, updated, params.get("versionDescription")
        ).arn
    return result


CONFLICT_RETRIES = 5


def _apply(
    backend: Backend,
    machine: StateMachine,
    params: Params,
    logging: dict[str, Any] | None,
    now: datetime,
) -> StateMachine:
    """Save the update as a new revision, or keep the machine if nothing changes."""
    updated = replace(
        machine,
        definition=params.get("definition", machine.definition),
        role_arn=params.get("roleArn", machine.role_arn),
        logging_configuration=logging if logging is not None else machine.logging_configuration,
        tracing_configuration=params.get("tracingConfiguration", machine.tracing_configuration),
        encryption_configuration=params.get(
            "encryptionConfiguration", machine.encryption_configuration
        ),
    )
    if _content(updated) == _content(machine):
        return machine
    return backend.store.state_machines.save(
        replace(updated, revision_id=str(uuid.uuid4()), updated=now)
    )


def _content(machine: StateMachine) -> str:
    return json.dumps(
        [
            machine.definition,
            machine.role_arn,
            machine.logging_configuration,
            machine.tracing_configuration,
            machine.encryption_configuration,
        ],
        sort_keys=True,
    )


def delete_state_machine(backend: Backend, params: Params) -> Result:
    arn = machine_arn_of(params["stateMachineArn"], allow_qualified=True)
    if len(arn.parts) > 1:
        # A version or alias ARN: AWS deletes that version or alias.
        from batchyard.api.stepfunctions.versions import delete_qualified

        delete_qualified(backend, arn.text, arn.parts[1])
        return {}
    machine = backend.store.state_machines.find(arn.text)
    if machine is None:
        return {}  # AWS answers 200 for a machine that does not exist
    if machine.status == "ACTIVE":
        machine = backend.store.state_machines.save(replace(machine, status="DELETING"))
    reap(backend, machine)
    return {}


def list_state_machines(backend: Backend, params: Params) -> Result:
    machines = []
    for machine in all_machines(backend):
        kept = reap(backend, machine)
        if kept is not None and kept.status == "ACTIVE":
            machines.append(kept)
    machines.sort(key=lambda m: m.name)
    page, token = paginate(machines, params)
    items = [
        {"stateMachineArn": m.arn, "name": m.name, "type": m.type, "creationDate": m.created}
        for m in page
    ]
    return with_token({"stateMachines": items}, token)


HANDLERS = {
    "CreateStateMachine": create_state_machine,
    "DescribeStateMachine": describe_state_machine,
    "DescribeStateMachineForExecution": describe_state_machine_for_execution,
    "UpdateStateMachine": update_state_machine,
    "DeleteStateMachine": delete_state_machine,
    "ListStateMachines": list_state_machines,
}
