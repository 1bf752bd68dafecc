"""The outside world of the proof tests: workers that answer activity and callback tasks.

They talk to the server only through boto3, like a user's workers, and keep going while the
server is down (connection errors are retried). Each records what it received, so the tests
can check that every task reached a worker exactly once.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from botocore.exceptions import (  # type: ignore[import-untyped]
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

T = TypeVar("T")
# What a client sees of a server that is down or was killed mid-request.
DOWN = (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError, ConnectionError)
# Answers that only mean "this token was already answered" -- by our own earlier attempt
# whose response the kill swallowed.
ALREADY_ANSWERED = ("TaskTimedOut",)


def retrying(
    call: Callable[[], T], *, timeout: float = 60.0, stop: threading.Event | None = None
) -> T:
    """``call()`` until the server answers (it may be restarting); give up after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except DOWN:
            if time.monotonic() > deadline or (stop is not None and stop.is_set()):
                raise
            time.sleep(0.1)


def answer_activity(task_input: Any) -> Any:
    """What the activity worker answers (also the twin's function for the reference run)."""
    return {"doubled": task_input["n"] * 2}


def answer_callback(message_body: Any) -> Any:
    """What the callback worker answers (also the twin's function for the reference run)."""
    return {"squared": message_body["n"] ** 2}


def _send_success(client: Any, token: str, output: Any, stop: threading.Event) -> list[str]:
    """SendTaskSuccess until it lands; the problems seen (empty when all is well)."""
    interrupted = False
    while True:
        try:
            client.send_task_success(taskToken=token, output=json.dumps(output))
            return []
        except DOWN:
            interrupted = True
            if stop.is_set():
                return []
            time.sleep(0.1)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if interrupted and code in ALREADY_ANSWERED:
                return []
            return [f"SendTaskSuccess: {code}: {error.response['Error']['Message']}"]


class ActivityWorker(threading.Thread):
    """Long-polls GetActivityTask and answers each task with :func:`answer_activity`."""

    def __init__(self, make_client: Callable[[], Any], activity_arn: str, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.client = make_client()
        self.activity_arn = activity_arn
        self.worker_name = name
        self.stop = threading.Event()
        self.tokens: Counter[str] = Counter()
        self.inputs: list[Any] = []
        self.problems: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                task = self.client.get_activity_task(
                    activityArn=self.activity_arn, workerName=self.worker_name
                )
            except DOWN:
                time.sleep(0.1)
                continue
            except ClientError as error:
                if not self.stop.is_set():
                    self.problems.append(f"GetActivityTask: {error}")
                    time.sleep(0.1)
                continue
            token = task.get("taskToken")
            if not token:
                continue
            task_input = json.loads(task["input"])
            self.tokens[token] += 1
            self.inputs.append(task_input)
            answer = answer_activity(task_input)
            self.problems += _send_success(self.client, token, answer, self.stop)


class CallbackWorker(threading.Thread):
    """Finds ``.waitForTaskToken`` tokens in the histories of watched executions (the
    ``TaskScheduled`` event's parameters) and answers each with :func:`answer_callback`."""

    def __init__(self, make_client: Callable[[], Any], callbacks_per_execution: int) -> None:
        super().__init__(name="callback-worker", daemon=True)
        self.client = make_client()
        self.per_execution = callbacks_per_execution
        self.stop = threading.Event()
        self._watched: dict[str, set[str]] = {}  # execution ARN -> tokens answered
        self._guard = threading.Lock()
        self.tokens: Counter[str] = Counter()
        self.problems: list[str] = []

    def watch(self, execution_arns: Iterable[str]) -> None:
        with self._guard:
            for arn in execution_arns:
                self._watched.setdefault(arn, set())

    def run(self) -> None:
        while not self.stop.is_set():
            with self._guard:
                pending = [
                    arn for arn, done in self._watched.items() if len(done) < self.per_execution
                ]
            for arn in pending:
                if self.stop.is_set():
                    return
                try:
                    events = history(self.client, arn)
                except DOWN:
                    time.sleep(0.1)
                    continue
                except ClientError as error:
                    if not self.stop.is_set():
                        self.problems.append(f"GetExecutionHistory: {error}")
                        time.sleep(0.1)
                    continue
                for token, body in _callback_tokens(events):
                    if token in self._watched[arn]:
                        continue
                    self.tokens[token] += 1
                    self.problems += _send_success(
                        self.client, token, answer_callback(body), self.stop
                    )
                    self._watched[arn].add(token)
            time.sleep(0.05)


def _callback_tokens(events: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    found = []
    for event in events:
        details = event.get("taskScheduledEventDetails")
        if event["type"] == "TaskScheduled" and details:
            body = json.loads(details["parameters"])["MessageBody"]
            found.append((body["token"], body))
    return found


def history(client: Any, execution_arn: str, page_size: int = 1000) -> list[dict[str, Any]]:
    """GetExecutionHistory, every page."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": page_size}
    while True:
        page = client.get_execution_history(**kwargs)
        events += page["events"]
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]
