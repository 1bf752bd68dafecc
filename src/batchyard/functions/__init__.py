"""Lambda-compatible Python functions: stored in the store, run in warm worker processes.

The Python API, for the Lambda API, the engine's Lambda tasks, the scheduler's Lambda target,
the console and the demo::

    service = FunctionService(store, log_store, data_dir=Path(".batchyard"))
    service.create_function({"FunctionName": "hello", "Runtime": "python3.12",
                             "Role": "arn:aws:iam::123456789012:role/r",
                             "Handler": "app.handler", "Code": {"ZipFile": zip_bytes}})
    result = service.invoke("hello", b'{"n": 1}')      # or an ARN; "Event" / "DryRun"
    result.status_code, result.payload, result.function_error, result.log_tail
    service.list_invocations("hello")                   # newest first, for the console
    service.close()

* :meth:`FunctionService.invoke` ``(name_or_arn, payload: bytes, invocation_type=
  "RequestResponse", *, log_type=None, qualifier=None, request_id=None) -> InvokeResult``:
  ``status_code`` 200 (RequestResponse), 202 (Event: runs in the background), 204 (DryRun);
  ``payload`` the handler's JSON result, or Lambda's error document when ``function_error`` is
  ``"Unhandled"`` (an exception: ``errorMessage``, ``errorType``, ``requestId``,
  ``stackTrace``; a timeout: ``Sandbox.Timedout``; memory past ``MemorySize``:
  ``Runtime.OutOfMemory``; the runtime exiting: ``Runtime.ExitError``); ``log_tail`` the base64
  of the last 4 KB of the invocation's log when ``log_type="Tail"``; ``request_id`` the
  invocation's. A failed ``Event`` invocation is tried twice more (1 and 2 minutes later).
  Raises :class:`LambdaError` subclasses with Lambda's codes and texts
  (``ResourceNotFoundException``: ``Function not found: arn:...``).
* The control plane (``create_function``, ``get_function``, ``get_configuration``,
  ``list_functions``, ``update_code``, ``update_configuration``, ``delete_function``,
  ``list_tags``, ``tag``, ``untag``) takes and returns the Lambda API's shapes.
* :class:`~batchyard.functions.tasks.ServiceHandlers` makes the service the engine's
  ``functions`` mapping (``api.lambda_.install_functions`` does it in ``batchyard server``).

How a function runs: ``worker.py`` (one process per execution environment, pipes, no HTTP),
``bootstrap.py`` (the runtime loop inside it), ``pool.py`` (warm reuse, replacement after an
update), ``platform.py`` (START/END/REPORT lines), ``logship.py`` (the invocation's log into
``/aws/lambda/<name>``, in the background), ``repository.py`` (rows and zips in the store),
``code.py`` (zip checks, unpacked code per replica), ``config.py`` (the configuration shape).
"""

from batchyard.functions.errors import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    LambdaError,
    ResourceConflictException,
    ResourceNotFoundException,
)
from batchyard.functions.service import FunctionService, InvocationSummary, InvokeResult

__all__ = [
    "FunctionService",
    "InvalidParameterValueException",
    "InvalidRequestContentException",
    "InvocationSummary",
    "InvokeResult",
    "LambdaError",
    "ResourceConflictException",
    "ResourceNotFoundException",
]
