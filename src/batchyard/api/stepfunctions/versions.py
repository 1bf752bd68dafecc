"""Versions (PublishStateMachineVersion, List/Delete) and aliases (Create/Describe/Update/
Delete/List), and the routing of an alias to one of its versions.

An alias routes each execution to a version by weight. The choice is a pure function of the
execution's name (a hash of it, placed on the cumulative weights), so retrying StartExecution
with the same name lands on the same version, as idempotency requires.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from batchyard.api.errors import AwsError
from batchyard.api.stepfunctions.common import (
    Backend,
    Params,
    Result,
    machine_arn_of,
    machine_missing,
    paginate,
    validation,
    with_token,
)
from batchyard.api.stepfunctions.state_machines import lookup, publish
from batchyard.store import AlreadyExists, NotFound, StateMachineAlias

NO_SUCH_ALIAS = "Request references a resource that does not exist."
ALIAS_CONFLICT = (
    "Failed to create alias because an alias with the same name and a different routing "
    "configuration already exists."
)


# --------------------------------------------------------------------------- versions


def publish_state_machine_version(backend: Backend, params: Params) -> Result:
    arn = machine_arn_of(params["stateMachineArn"])
    machine = lookup(backend, arn.text)
    expected = params.get("revisionId")
    if expected is not None and expected != machine.revision_id:
        raise AwsError(
            "ConflictException",
            f"Failed to publish the State Machine version for revision {expected}. "
            f"The current State Machine revision is {machine.revision_id}.",
        )
    version = publish(backend, machine, params.get("description"))
    return {"creationDate": version.created, "stateMachineVersionArn": version.arn}


def list_state_machine_versions(backend: Backend, params: Params) -> Result:
    arn = machine_arn_of(params["stateMachineArn"])
    lookup(backend, arn.text)
    page, token = paginate(backend.store.versions.list(arn.text), params)
    items = [{"stateMachineVersionArn": v.arn, "creationDate": v.created} for v in page]
    return with_token({"stateMachineVersions": items}, token)


def delete_state_machine_version(backend: Backend, params: Params) -> Result:
    arn = machine_arn_of(params["stateMachineVersionArn"], allow_qualified=True)
    if len(arn.parts) != 2 or not arn.parts[1].isdigit():
        raise AwsError("InvalidArn", f"Invalid Arn: '{arn.text}'")
    _delete_version(backend, arn.text)
    return {}


def _delete_version(backend: Backend, version_arn: str) -> None:
    referencing = backend.store.aliases.referencing(version_arn)
    if referencing:
        names = ", ".join(alias.name for alias in referencing)
        raise AwsError(
            "ConflictException",
            "Version to be deleted must not be referenced by an alias. "
            f"Current list of aliases referencing this version: [{names}]",
        )
    backend.store.versions.delete(version_arn)


def delete_qualified(backend: Backend, arn: str, qualifier: str) -> None:
    """DeleteStateMachine given a version or alias ARN deletes that version or alias."""
    if qualifier.isdigit():
        _delete_version(backend, arn)
    else:
        backend.store.aliases.delete(arn)
        backend.store.tags.clear(arn)


# --------------------------------------------------------------------------- aliases


def _check_routing(backend: Backend, routes: list[dict[str, Any]]) -> str:
    """AWS's checks of a routing configuration; returns the state machine it points into."""
    arns = [route["stateMachineVersionArn"] for route in routes]
    received = "[" + ", ".join(arns) + "]"
    if len(routes) > 2:
        items = ", ".join(
            f"RoutingConfigurationListItem(stateMachineVersionArn={r['stateMachineVersionArn']}, "
            f"weight={r['weight']})"
            for r in routes
        )
        raise validation(
            f"1 validation error detected: Value '[{items}]' at 'routingConfiguration' failed to "
            "satisfy constraint: Member must have length less than or equal to 2"
        )
    if len(set(arns)) < len(arns):
        raise validation(
            f"Routing configuration must contain distinct state machine version ARNs. Received: {received}"
        )
    machines = set()
    for arn in arns:
        try:
            version = backend.store.versions.get(arn)
        except NotFound as exc:
            raise validation(
                f"Routing configuration must contain state machine version ARNs. Received: {received}"
            ) from exc
        machines.add(version.state_machine_arn)
    weights = [int(route["weight"]) for route in routes]
    if sum(weights) != 100:
        raise validation(
            f"Sum of routing configuration weights must equal 100. Received: {json.dumps(weights)}"
        )
    if len(machines) != 1:
        raise validation(
            "Routing configuration must contain state machine version ARNs of the same state "
            f"machine. Received: {received}"
        )
    return machines.pop()


def _routes(routes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"stateMachineVersionArn": r["stateMachineVersionArn"], "weight": int(r["weight"])}
        for r in routes
    ]


def create_state_machine_alias(backend: Backend, params: Params) -> Result:
    routes = _routes(params["routingConfiguration"])
    machine_arn = _check_routing(backend, routes)
    arn = f"{machine_arn}:{params['name']}"
    now = backend.clock()
    alias = StateMachineAlias(
        arn=arn,
        state_machine_arn=machine_arn,
        name=params["name"],
        routing_configuration=routes,
        created=now,
        updated=now,
        description=params.get("description"),
    )
    try:
        backend.store.aliases.create(alias)
    except AlreadyExists:
        existing = backend.store.aliases.get(arn)
        if existing.routing_configuration != routes or existing.description != alias.description:
            raise AwsError("ConflictException", ALIAS_CONFLICT) from None
        return {"stateMachineAliasArn": arn, "creationDate": existing.created}
    return {"stateMachineAliasArn": arn, "creationDate": now}


def _alias(backend: Backend, text: str) -> StateMachineAlias:
    arn = machine_arn_of(text, allow_qualified=True)
    if len(arn.parts) != 2 or arn.parts[1].isdigit():
        raise AwsError("InvalidArn", f"Invalid Arn: '{text}'")
    try:
        return backend.store.aliases.get(text)
    except NotFound as exc:
        raise AwsError("ResourceNotFound", NO_SUCH_ALIAS) from exc


def describe_state_machine_alias(backend: Backend, params: Params) -> Result:
    alias = _alias(backend, params["stateMachineAliasArn"])
    result: Result = {
        "stateMachineAliasArn": alias.arn,
        "name": alias.name,
        "routingConfiguration": alias.routing_configuration,
        "creationDate": alias.created,
        "updateDate": alias.updated,
    }
    if alias.description is not None:
        result["description"] = alias.description
    return result


def update_state_machine_alias(backend: Backend, params: Params) -> Result:
    if params.get("description") is None and not params.get("routingConfiguration"):
        raise AwsError(
            "MissingRequiredParameter",
            "Either the description or the RoutingConfiguration must be specified",
        )
    alias = _alias(backend, params["stateMachineAliasArn"])
    routes = alias.routing_configuration
    if params.get("routingConfiguration"):
        routes = _routes(params["routingConfiguration"])
        if _check_routing(backend, routes) != alias.state_machine_arn:
            raise validation("Routing configuration must point to versions of the alias's machine")
    now = backend.clock()
    backend.store.aliases.save(
        replace(
            alias,
            routing_configuration=routes,
            description=params.get("description", alias.description),
            updated=now,
        )
    )
    return {"updateDate": now}


def delete_state_machine_alias(backend: Backend, params: Params) -> Result:
    arn = params["stateMachineAliasArn"]
    _check_alias_arn(arn)
    backend.store.aliases.delete(arn)
    backend.store.tags.clear(arn)
    return {}


def _check_alias_arn(text: str) -> None:
    arn = machine_arn_of(text, allow_qualified=True)
    if len(arn.parts) != 2 or arn.parts[1].isdigit():
        raise AwsError("InvalidArn", f"Invalid Arn: '{text}'")


def list_state_machine_aliases(backend: Backend, params: Params) -> Result:
    """Aliases of a machine, or (given a version ARN) the aliases that route to that version."""
    arn = machine_arn_of(params["stateMachineArn"], allow_qualified=True)
    base = f"{backend.prefix}:stateMachine:{arn.parts[0]}"
    if backend.store.state_machines.find(base) is None:
        raise machine_missing(arn.text)
    if len(arn.parts) == 1:
        aliases = backend.store.aliases.list(base)
    elif arn.parts[1].isdigit():
        aliases = backend.store.aliases.referencing(arn.text)
    else:
        raise AwsError("InvalidArn", f"Invalid Arn: '{arn.text}'")
    page, token = paginate(aliases, params)
    items = [{"stateMachineAliasArn": a.arn, "creationDate": a.created} for a in page]
    return with_token({"stateMachineAliases": items}, token)


def route(alias: StateMachineAlias, execution_name: str) -> str:
    """The version an execution named ``execution_name`` runs (deterministic, by weight)."""
    digest = hashlib.sha256(f"{alias.arn}/{execution_name}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % 100
    total = 0
    for entry in alias.routing_configuration:
        total += int(entry["weight"])
        if point < total:
            return str(entry["stateMachineVersionArn"])
    return str(alias.routing_configuration[-1]["stateMachineVersionArn"])


HANDLERS = {
    "PublishStateMachineVersion": publish_state_machine_version,
    "ListStateMachineVersions": list_state_machine_versions,
    "DeleteStateMachineVersion": delete_state_machine_version,
    "CreateStateMachineAlias": create_state_machine_alias,
    "DescribeStateMachineAlias": describe_state_machine_alias,
    "UpdateStateMachineAlias": update_state_machine_alias,
    "DeleteStateMachineAlias": delete_state_machine_alias,
    "ListStateMachineAliases": list_state_machine_aliases,
}
