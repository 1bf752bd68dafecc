"""TagResource, UntagResource, ListTagsForResource: tags of state machines and activities.

Only an existing state machine (not a version) or activity can be tagged; anything else is
AWS's ``ResourceNotFound: Resource not found: '<arn>'``.
"""

from __future__ import annotations

from batchyard.api.stepfunctions.common import (
    Backend,
    Params,
    Result,
    parse_arn,
    resource_missing,
    tag_list,
)
from batchyard.store import NotFound


def _taggable(backend: Backend, text: str) -> str:
    arn = parse_arn(text)
    store = backend.store
    if arn.resource == "stateMachine" and len(arn.parts) == 1:
        machine = store.state_machines.find(text)
        if machine is not None and machine.status == "ACTIVE":
            return text
    elif arn.resource == "activity" and len(arn.parts) == 1:
        try:
            store.activities.get(text)
            return text
        except NotFound:
            pass
    raise resource_missing(text)


def tag_resource(backend: Backend, params: Params) -> Result:
    arn = _taggable(backend, params["resourceArn"])
    backend.store.tags.put(arn, {t["key"]: t.get("value", "") for t in params["tags"]})
    return {}


def untag_resource(backend: Backend, params: Params) -> Result:
    arn = _taggable(backend, params["resourceArn"])
    backend.store.tags.remove(arn, params["tagKeys"])
    return {}


def list_tags_for_resource(backend: Backend, params: Params) -> Result:
    arn = _taggable(backend, params["resourceArn"])
    return {"tags": tag_list(backend.store.tags.get(arn))}


HANDLERS = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
