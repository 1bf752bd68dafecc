"""AWS errors on the wire: one exception type, one JSON shape.

Every failure a client can see is an ``AwsError``: handlers raise it (or a domain error that
a service translates into one), the protocol layer raises it for bad requests, and the app
turns anything else into ``InternalFailure``. ``render`` is the only place that builds an
error body, so the shape ``{"__type": code, "message": text}`` is defined once.
"""

from __future__ import annotations

from typing import Any


class AwsError(Exception):
    """An error answered to the client with AWS's code, message and HTTP status.

    ``status=None`` means "as the service model says": the error shape's ``httpStatusCode``,
    else 400 for a client error and 500 for a fault. ``message=None`` omits the message, as
    AWS does for some protocol errors (``UnknownOperationException``).
    """

    def __init__(
        self,
        code: str,
        message: str | None = None,
        status: int | None = None,
        *,
        fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}" if message is not None else code)
        self.code = code
        self.message = message
        self.status = status
        # Extra members of the error shape (e.g. ECS's ``reason``), serialised beside message.
        self.fields = dict(fields or {})


# Errors of the protocol itself (not modelled by the services); AWS's names and texts.


def unknown_operation() -> AwsError:
    return AwsError("UnknownOperationException", None, 400)


def serialization(message: str | None = None) -> AwsError:
    return AwsError("SerializationException", message, 400)


def internal_failure() -> AwsError:
    return AwsError("InternalFailure", "An internal error occurred.", 500)


def not_implemented(operation: str, service: str) -> AwsError:
    return AwsError(
        "NotImplementedException",
        f"The operation {operation} of {service} is not supported by batchyard.",
        501,
    )


SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
UNRECOGNIZED_CLIENT = "The security token included in the request is invalid."
MISSING_TOKEN = "Request is missing Authentication Token"
