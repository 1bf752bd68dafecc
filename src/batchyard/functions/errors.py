"""Lambda's errors, named and worded as the Lambda API answers them.

Every error the function service raises on purpose is a :class:`LambdaError` carrying AWS's
``code`` and ``message``; the API layer answers ``{"Type": "User", "Message": ...}`` with the
status of the model's error shape (404 for ResourceNotFoundException, 409 for
ResourceConflictException, 400 otherwise).
"""

from __future__ import annotations

SUPPORTED_RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13")


class LambdaError(Exception):
    code = "ServiceException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ResourceNotFoundException(LambdaError):
    code = "ResourceNotFoundException"


class ResourceConflictException(LambdaError):
    code = "ResourceConflictException"


class InvalidParameterValueException(LambdaError):
    code = "InvalidParameterValueException"


class InvalidRequestContentException(LambdaError):
    code = "InvalidRequestContentException"


class RequestTooLargeException(LambdaError):
    code = "RequestTooLargeException"


class PreconditionFailedException(LambdaError):
    code = "PreconditionFailedException"


def function_not_found(arn: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Function not found: {arn}")


def function_exists(name: str) -> ResourceConflictException:
    return ResourceConflictException(f"Function already exist: {name}")


def unsupported_runtime(runtime: str) -> InvalidParameterValueException:
    # AWS's wording for a runtime outside its enum; the set is the runtimes batchyard runs.
    return InvalidParameterValueException(
        f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum "
        f"value set: [{', '.join(SUPPORTED_RUNTIMES)}] or be a valid ARN"
    )


def bad_zip() -> InvalidParameterValueException:
    return InvalidParameterValueException(
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    )


def revision_mismatch() -> PreconditionFailedException:
    return PreconditionFailedException(
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id"
    )
