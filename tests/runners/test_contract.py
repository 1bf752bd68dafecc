"""The runner contract, one test per behaviour, run on every backend (local, docker)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

import pytest

from batchyard.logs import LogStore
from batchyard.runners import AwsLogs, Runner, StartFailure, TaskExit
from tests.runners.conftest import GROUP, SpecFactory, messages


def finished(task: object, timeout: float = 30) -> TaskExit:
    exit = task.wait(timeout)  # type: ignore[attr-defined]
    assert exit is not None, "the task did not end in time"
    return exit


def test_exit_code_environment_working_directory_and_logs(
    runner: Runner, make_spec: SpecFactory, store: LogStore
) -> None:
    spec = make_spec(
        ["sh", "-c", 'echo "$GREETING"; pwd; echo to-stderr >&2; exit 3'],
        environment={"GREETING": "hello from the task"},
        working_directory="/tmp",
    )
    task = runner.start(spec, store)
    exit = finished(task)
    assert [(c.name, c.exit_code, c.reason) for c in exit.containers] == [("app", 3, None)]
    assert exit.stop_code is None
    assert exit.started_at is not None and exit.started_at <= exit.stopped_at
    lines = messages(store, spec.task_id)
    assert sorted(lines) == sorted(["hello from the task", "/tmp", "to-stderr"])
    assert lines.index("hello from the task") < lines.index("/tmp")


def test_exit_zero_with_entry_point_and_command(
    runner: Runner, make_spec: SpecFactory, store: LogStore
) -> None:
    spec = make_spec(["-c", "echo $0 $1", "a", "b"], entry_point=["sh"])
    exit = finished(runner.start(spec, store))
    assert exit.containers[0].exit_code == 0
    assert messages(store, spec.task_id) == ["a b"]


def test_stop_is_user_initiated(runner: Runner, make_spec: SpecFactory, store: LogStore) -> None:
    spec = make_spec(["sh", "-c", "echo started; exec sleep 60"])
    task = runner.start(spec, store)
    assert task.wait(0.3) is None
    task.stop("Stopped by the test")
    exit = finished(task)
    assert exit.stop_code == "UserInitiated"
    assert exit.stopped_reason == "Stopped by the test"
    # SIGTERM (143), or SIGKILL after the grace period (137) for a PID 1 that ignores it
    assert exit.containers[0].exit_code in (137, 143)
    assert messages(store, spec.task_id) == ["started"]


def test_timeout_ends_the_task(runner: Runner, make_spec: SpecFactory, store: LogStore) -> None:
    spec = make_spec(["sleep", "60"], timeout_seconds=0.5)
    exit = finished(runner.start(spec, store))
    assert exit.containers[0].exit_code in (137, 143)
    assert exit.containers[0].reason == "Task timed out after 0.5 seconds"
    assert exit.stop_code is None


def test_missing_executable_fails_to_start(
    runner: Runner, make_spec: SpecFactory, store: LogStore
) -> None:
    with pytest.raises(StartFailure) as failure:
        runner.start(make_spec(["no-such-command-xyz", "arg"]), store)
    reason = failure.value.reason
    assert reason.startswith("CannotStartContainerError: ")
    assert 'exec: "no-such-command-xyz": executable file not found in $PATH' in reason


def test_missing_log_group_fails_to_start_unless_created(
    runner: Runner, make_spec: SpecFactory, store: LogStore
) -> None:
    with pytest.raises(StartFailure) as failure:
        runner.start(make_spec(["true"], logs=AwsLogs("/ecs/absent", "ecs")), store)
    assert failure.value.reason.startswith(
        "ResourceInitializationError: failed to validate logger args: "
    )
    assert "The specified log group does not exist." in failure.value.reason
    spec = make_spec(["echo", "made"], logs=AwsLogs("/ecs/created", "ecs", create_group=True))
    assert finished(runner.start(spec, store)).containers[0].exit_code == 0
    events = store.get_log_events("/ecs/created", f"ecs/app/{spec.task_id}", start_from_head=True)
    assert [e["message"] for e in events["events"]] == ["made"]


def test_restarted_runner_reattaches_instead_of_starting_again(
    new_runner: Callable[[], Runner], make_spec: SpecFactory, store: LogStore
) -> None:
    spec = make_spec(
        ["sh", "-c", "echo one; echo err-one >&2; sleep 1.5; echo two; echo err-two >&2; exit 4"]
    )
    first = new_runner()
    first.start(spec, store)
    time.sleep(0.7)
    first.close()  # the server goes away; the task keeps running
    second = new_runner()
    exit = finished(second.start(spec, store))
    assert exit.containers[0].exit_code == 4
    # each line once: the task was not started a second time, no line was shipped twice
    lines = messages(store, spec.task_id)
    assert sorted(lines) == ["err-one", "err-two", "one", "two"]
    assert lines.index("one") < lines.index("two")
    assert lines.index("err-one") < lines.index("err-two")


def test_exit_while_no_runner_watched_is_reported(
    new_runner: Callable[[], Runner], make_spec: SpecFactory, store: LogStore
) -> None:
    spec = make_spec(["sh", "-c", "echo early; sleep 0.5; echo late; exit 7"])
    first = new_runner()
    first.start(spec, store)
    time.sleep(0.2)
    first.close()
    time.sleep(1.5)  # the task ends while the server is down
    exit = finished(new_runner().start(spec, store))
    assert exit.containers[0].exit_code == 7
    assert messages(store, spec.task_id) == ["early", "late"]


def test_start_of_a_finished_task_reports_its_exit(
    new_runner: Callable[[], Runner], make_spec: SpecFactory, store: LogStore
) -> None:
    spec = make_spec(["sh", "-c", "echo once; exit 5"])
    assert finished(new_runner().start(spec, store)).containers[0].exit_code == 5
    again = finished(new_runner().start(spec, store))
    assert again.containers[0].exit_code == 5
    assert messages(store, spec.task_id) == ["once"]


def test_one_million_lines_shipped_in_order(
    runner: Runner, make_spec: SpecFactory, store: LogStore
) -> None:
    spec = make_spec(["seq", "1", "1000000"])
    exit = finished(runner.start(spec, store), timeout=120)
    assert exit.containers[0].exit_code == 0
    lines = messages(store, spec.task_id)
    assert len(lines) == 1_000_000
    assert lines == [str(i) for i in range(1, 1_000_001)]
    with store.lock:
        (decreasing,) = store.connection.execute(
            f"SELECT count(*) FROM (SELECT ts < lag(ts) OVER (ORDER BY seq) AS back "
            f"FROM {store.events_relation}) WHERE back"
        ).fetchone()
    assert decreasing == 0
    assert GROUP in store.group_names()


def test_essential_exit_stops_the_other_containers(
    runner: Runner, make_spec: SpecFactory, store: LogStore
) -> None:
    one = make_spec(["sh", "-c", "echo main done; exit 0"], name="main")
    sidecar = make_spec(["sleep", "60"], name="sidecar", essential=False)
    spec = dataclasses.replace(one, containers=[*one.containers, *sidecar.containers])
    exit = finished(runner.start(spec, store))
    codes = {c.name: c.exit_code for c in exit.containers}
    assert codes["main"] == 0
    assert codes["sidecar"] in (137, 143)  # stopped because the essential container ended
    assert exit.stop_code is None
    assert messages(store, spec.task_id, "main") == ["main done"]


def test_forget_drops_an_ended_task_and_refuses_a_running_one(
    runner: Runner, make_spec: SpecFactory, store: LogStore
) -> None:
    running = make_spec(["sleep", "60"])
    task = runner.start(running, store)
    with pytest.raises(ValueError, match="still running"):
        runner.forget(running.task_id)
    task.stop()
    finished(task)
    runner.forget(running.task_id)
    # forgotten: a new start runs the task again
    again = finished(runner.start(dataclasses.replace(running, containers=[
        dataclasses.replace(running.containers[0], command=["sh", "-c", "exit 6"])
    ]), store))  # fmt: skip
    assert again.containers[0].exit_code == 6


def test_concurrent_starts_of_one_task_run_it_once(
    new_runner: Callable[[], Runner], make_spec: SpecFactory, store: LogStore
) -> None:
    spec = make_spec(["sh", "-c", "echo once; sleep 1; exit 3"])
    runners = [new_runner(), new_runner()]
    tasks: list[object] = []
    errors: list[BaseException] = []

    def start(runner: Runner) -> None:
        try:
            tasks.append(runner.start(spec, store))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    exits = [finished(task) for task in tasks]
    assert [e.containers[0].exit_code for e in exits] == [3, 3]
    assert messages(store, spec.task_id).count("once") == 1
