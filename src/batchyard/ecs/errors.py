"""ECS's errors, with the codes and texts AWS answers (recorded responses, not guesses).

The service layer raises :class:`EcsError`; the API translates it as it is (``code`` becomes
``__type``), and Python callers can catch it and read ``code``/``message``.
"""

from __future__ import annotations


class EcsError(Exception):
    """An ECS API error: AWS's error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def client(message: str) -> EcsError:
    return EcsError("ClientException", message)


def invalid(message: str) -> EcsError:
    return EcsError("InvalidParameterException", message)


def cluster_not_found() -> EcsError:
    return EcsError("ClusterNotFoundException", "Cluster not found.")


def cluster_busy() -> EcsError:
    return EcsError(
        "ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active."
    )


def task_definition_not_found() -> EcsError:
    """RunTask's answer to an unknown task definition."""
    return client("TaskDefinition not found.")


def cannot_describe_task_definition() -> EcsError:
    """DescribeTaskDefinition's (and DeregisterTaskDefinition's) answer to an unknown one."""
    return client("Unable to describe task definition.")


def task_not_found() -> EcsError:
    """StopTask's answer to a task it does not know."""
    return invalid("The referenced task was not found.")
