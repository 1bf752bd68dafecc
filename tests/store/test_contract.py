"""The store contract: every backend (SQLite file, PostgreSQL) must pass every test here."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from batchyard.store import (
    Activity,
    ActivityTask,
    AlreadyExists,
    Claim,
    Conflict,
    HistoryEvent,
    LeaseLost,
    MapRun,
    NotFound,
    ServiceUnavailable,
    StateMachineAlias,
    StateMachineVersion,
    Store,
    TaskToken,
    open_store,
)
from batchyard.store.migrate import head_revision
from batchyard.store.schema import metadata

from .conftest import StoreFactory
from .factories import SM_ARN, T0, at, events, execution, started, state_machine


class TestStoreContract:
    # -- schema -----------------------------------------------------------------------------

    def test_migrations_from_empty_reach_head_and_match_the_tables(
        self, open_empty: StoreFactory
    ) -> None:
        store = open_empty()
        assert store.schema_revision() == head_revision() is not None
        with store.transaction() as tx:
            diffs = compare_metadata(MigrationContext.configure(tx.connection), metadata)
        assert diffs == []

    def test_concurrent_opens_of_an_empty_database_migrate_once(
        self, open_empty: StoreFactory
    ) -> None:
        errors: list[BaseException] = []

        def open_one() -> None:
            try:
                open_empty()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=open_one) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert open_empty().schema_revision() == head_revision()

    def test_a_schema_newer_than_the_code_is_refused(self, store: Store) -> None:
        with store.transaction() as tx:
            tx.connection.execute(sa.text("UPDATE alembic_version SET version_num = 'from-future'"))
        with pytest.raises(ServiceUnavailable, match="from-future"):
            open_store(store.url)
        with store.transaction() as tx:  # put it back for the other tests of this database
            tx.connection.execute(
                sa.text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()}
            )

    # -- state machines, versions, aliases --------------------------------------------------

    def test_state_machine_create_get_save_and_conflicts(self, store: Store) -> None:
        created = store.state_machines.create(state_machine(logging_configuration={"level": "ALL"}))
        assert store.state_machines.get(SM_ARN) == created
        with pytest.raises(AlreadyExists):
            store.state_machines.create(state_machine())
        updated = store.state_machines.save(
            replace(created, definition="{}", revision_id="rev-2", updated=at(5))
        )
        assert updated.version == 2
        assert store.state_machines.get(SM_ARN).definition == "{}"
        with pytest.raises(Conflict):  # saved from the stale copy
            store.state_machines.save(replace(created, description="late"))
        # Both definitions stay readable for the executions that run them.
        assert store.state_machines.revision(SM_ARN, "rev-1").definition == created.definition
        assert store.state_machines.revision(SM_ARN, "rev-2").definition == "{}"
        with pytest.raises(NotFound):
            store.state_machines.get(SM_ARN + "-missing")

    def test_state_machine_listing_pages(self, store: Store) -> None:
        for i in range(5):
            store.state_machines.create(state_machine(f"{SM_ARN}{i}", created=at(i)))
        first = store.state_machines.list(limit=2)
        assert first.next_token is not None
        second = store.state_machines.list(limit=2, next_token=first.next_token)
        third = store.state_machines.list(limit=2, next_token=second.next_token)
        arns = [m.arn for page in (first, second, third) for m in page.items]
        assert arns == [f"{SM_ARN}{i}" for i in range(5)]
        assert third.next_token is None

    def test_version_numbers_are_never_reused_and_aliases_route(self, store: Store) -> None:
        store.state_machines.create(state_machine())
        for expected in (1, 2):
            number = store.state_machines.next_version_number(SM_ARN)
            assert number == expected
            store.versions.create(
                StateMachineVersion(f"{SM_ARN}:{number}", SM_ARN, number, "rev-1", at(number))
            )
        assert store.versions.delete(f"{SM_ARN}:2")
        assert store.state_machines.next_version_number(SM_ARN) == 3
        assert [v.version_number for v in store.versions.list(SM_ARN)] == [1]
        latest = store.versions.latest(SM_ARN)
        assert latest is not None and latest.version_number == 1

        routing = [{"stateMachineVersionArn": f"{SM_ARN}:1", "weight": 100}]
        alias = store.aliases.create(
            StateMachineAlias(f"{SM_ARN}:prod", SM_ARN, "prod", routing, T0, T0)
        )
        with pytest.raises(AlreadyExists):
            store.aliases.create(replace(alias, arn=f"{SM_ARN}:prod2"))  # same (machine, name)
        assert store.aliases.referencing(f"{SM_ARN}:1") == [alias]
        saved = store.aliases.save(replace(alias, routing_configuration=[], updated=at(1)))
        assert store.aliases.get(alias.arn) == saved
        with pytest.raises(Conflict):
            store.aliases.save(alias)
        run = started(store)
        assert store.state_machines.delete(SM_ARN)
        assert store.aliases.list(SM_ARN) == [] and store.versions.list(SM_ARN) == []
        # The running execution can still load its definition, until it is purged.
        assert store.state_machines.revision(SM_ARN, run.revision_id).revision_id == "rev-1"
        store.executions.save(replace(run, status="SUCCEEDED", stop_date=at(1)))
        assert store.executions.purge_closed(before=at(2)) == 1
        with pytest.raises(NotFound):
            store.state_machines.revision(SM_ARN, run.revision_id)

    # -- executions -------------------------------------------------------------------------

    def test_duplicate_standard_execution_name_is_refused(self, store: Store) -> None:
        first = started(store, "nightly-20260301T0300Z")
        with pytest.raises(AlreadyExists):
            store.executions.create(
                execution("nightly-20260301T0300Z", arn=first.arn + "-other", input="{}")
            )
        assert store.executions.find_by_name(SM_ARN, first.name) == first
        # EXPRESS names may repeat (they are not unique on AWS either).
        for suffix in ("a", "b"):
            store.executions.create(execution("fast", arn=f"{first.arn}:{suffix}", type="EXPRESS"))

    def test_execution_duplicate_inside_a_transaction_leaves_it_usable(self, store: Store) -> None:
        original = started(store)
        with store.transaction() as tx:
            with pytest.raises(AlreadyExists):
                tx.executions.create(execution(arn=original.arn + "-2"))
            existing = tx.executions.find_by_name(SM_ARN, original.name)
            assert existing == original

    def test_execution_save_is_optimistic(self, store: Store) -> None:
        running = started(store)
        done = store.executions.save(
            replace(running, status="SUCCEEDED", output='{"ok": true}', stop_date=at(9))
        )
        assert store.executions.get(running.arn) == done
        assert done.version == running.version + 1
        with pytest.raises(Conflict):  # StopExecution read it before the engine finished it
            store.executions.save(replace(running, status="ABORTED"))
        assert store.executions.get(running.arn).status == "SUCCEEDED"

    def test_save_all_writes_a_batch_or_reports_a_conflict(self, store: Store) -> None:
        runs = [started(store, f"run-{i}") for i in range(3)]
        saved = store.executions.save_all([replace(r, status="SUCCEEDED") for r in runs])
        assert [store.executions.get(r.arn) for r in runs] == saved
        with pytest.raises(Conflict), store.transaction() as tx:
            tx.executions.save_all(
                [replace(saved[0], status="FAILED"), runs[1]]
            )  # runs[1] is stale
        assert [store.executions.get(r.arn).status for r in runs] == ["SUCCEEDED"] * 3
        assert store.executions.save_all([]) == []

    def test_fields_fixed_at_start_are_not_rewritten(self, store: Store) -> None:
        run = started(store, parent_execution_arn="arn:parent")
        saved = store.executions.save(replace(run, input="{}", parent_execution_arn=None))
        stored = store.executions.get(run.arn)
        assert (stored.input, stored.parent_execution_arn) == (run.input, "arn:parent")
        assert stored.version == saved.version

    def test_execution_listing_is_newest_first_filtered_and_paged(self, store: Store) -> None:
        for i in range(7):
            started(store, f"run-{i}", start=i, status="SUCCEEDED" if i % 2 else "RUNNING")
        started(
            store, "via-alias", start=9, status="ABORTED", state_machine_alias_arn=f"{SM_ARN}:prod"
        )
        by_alias = store.executions.list(alias_arn=f"{SM_ARN}:prod").items
        assert [e.name for e in by_alias] == ["via-alias"]
        assert store.executions.list(version_arn=f"{SM_ARN}:1").items == []
        names: list[str] = []
        token: str | None = None
        while True:
            page = store.executions.list(state_machine_arn=SM_ARN, limit=3, next_token=token)
            names += [e.name for e in page.items if e.name != "via-alias"]
            token = page.next_token
            if token is None:
                break
        assert names == [f"run-{i}" for i in reversed(range(7))]
        running = store.executions.list(state_machine_arn=SM_ARN, status="RUNNING").items
        assert [e.name for e in running] == ["run-6", "run-4", "run-2", "run-0"]
        store.executions.save(replace(running[0], redrive_count=1))
        redriven = store.executions.list(state_machine_arn=SM_ARN, redriven=True).items
        assert [e.name for e in redriven] == ["run-6"]
        assert len(store.executions.list(redriven=False).items) == 7

    def test_purge_closed_frees_the_name_and_drops_its_history(self, store: Store) -> None:
        old = started(store, "old")
        store.history.append(old.arn, events(old.arn, 1, 3))
        store.executions.save(replace(old, status="SUCCEEDED", stop_date=at(1)))
        started(store, "young")
        assert store.executions.purge_closed(before=at(2)) == 1
        assert store.executions.find(old.arn) is None
        assert store.history.count(old.arn) == 0
        started(store, "old")  # the name is free again

    # -- history ----------------------------------------------------------------------------

    def test_history_append_and_page_both_ways(self, store: Store) -> None:
        arn = started(store).arn
        store.history.append(arn, events(arn, 1, 10))
        assert [e.id for e in store.history.page(arn, limit=4)] == [1, 2, 3, 4]
        assert [e.id for e in store.history.page(arn, after_id=4, limit=4)] == [5, 6, 7, 8]
        assert [e.id for e in store.history.page(arn, after_id=8)] == [9, 10]
        assert [e.id for e in store.history.page(arn, reverse=True, limit=3)] == [10, 9, 8]
        assert [e.id for e in store.history.page(arn, reverse=True, after_id=3)] == [2, 1]
        assert store.history.all(arn) == events(arn, 1, 10)
        last = store.history.last(arn)
        assert last is not None and last.id == 10
        assert store.history.count(arn) == 10

    def test_history_details_round_trip_exactly(self, store: Store) -> None:
        arn = started(store).arn
        details = {
            "input": '{"name": "Zoë ✓", "n": 1.5}',
            "inputDetails": {"truncated": False},
            "nested": [1, None, "\u0000 and \\"],
        }
        batch = [
            HistoryEvent(arn, 1, 0, "ExecutionStarted", at(0.001), details),
            HistoryEvent(arn, 2, 1, "PassStateEntered", at(0.002), None),
        ]
        store.history.append(arn, batch)
        assert store.history.all(arn) == batch

    def test_duplicate_history_id_fails_the_whole_batch(self, store: Store) -> None:
        arn = started(store).arn
        store.history.append(arn, events(arn, 1, 3))
        with pytest.raises(AlreadyExists):
            store.history.append(arn, events(arn, 3, 4))  # 3 exists; 4..6 must not land
        assert [e.id for e in store.history.all(arn)] == [1, 2, 3]
        with pytest.raises(NotFound):
            store.history.append("arn:missing", events("arn:missing", 1, 1))
        with pytest.raises(ValueError):
            store.history.append(arn, events("arn:other", 4, 1))

    # -- timers -----------------------------------------------------------------------------

    def test_timers_come_due_in_order_and_fire_once(self, store: Store) -> None:
        a, b = started(store, "a").arn, started(store, "b").arn
        store.timers.set(a, "wait:W:2", at(30), {"event": 2})
        store.timers.set(b, "retry:T:1", at(10))
        store.timers.set(a, "heartbeat:T:4", at(20))
        store.timers.set(b, "timeout:T:1", at(99))
        assert store.timers.next_fire_at() == at(10)
        due = store.timers.due(at(30))
        assert [(t.execution_arn, t.key) for t in due] == [
            (b, "retry:T:1"),
            (a, "heartbeat:T:4"),
            (a, "wait:W:2"),
        ]
        assert due[2].payload == {"event": 2}
        assert store.timers.due(at(30), limit=1)[0].key == "retry:T:1"
        store.timers.set(b, "retry:T:1", at(40))  # setting again moves it
        assert [t.key for t in store.timers.due(at(30))] == ["heartbeat:T:4", "wait:W:2"]
        assert store.timers.delete(a, "wait:W:2") is True
        assert store.timers.delete(a, "wait:W:2") is False  # the second replica loses
        assert store.timers.delete_for_execution(b) == 2
        assert [t.key for t in store.timers.for_execution(a)] == ["heartbeat:T:4"]

    # -- callbacks and activities -----------------------------------------------------------

    def test_task_token_completes_exactly_once(self, store: Store) -> None:
        arn = started(store).arn
        store.task_tokens.create(
            TaskToken("tok-1", arn, "Callback", 5, "WAITING", T0, T0, heartbeat_seconds=60)
        )
        assert store.task_tokens.heartbeat("tok-1", now=at(10))
        assert store.task_tokens.heartbeat_expired(at(69)) == []
        assert [t.token for t in store.task_tokens.heartbeat_expired(at(70))] == ["tok-1"]
        assert store.task_tokens.complete("tok-1", "SUCCEEDED", output="{}", now=at(11))
        assert not store.task_tokens.complete("tok-1", "FAILED", error="late", now=at(12))
        assert not store.task_tokens.heartbeat("tok-1", now=at(13))
        token = store.task_tokens.get("tok-1")
        assert (token.status, token.output, token.error) == ("SUCCEEDED", "{}", None)

    def test_activity_task_is_delivered_to_one_poller(self, store: Store) -> None:
        arn = started(store).arn
        activity = store.activities.create(Activity("arn:activity:build", "build", T0))
        with pytest.raises(AlreadyExists):
            store.activities.create(activity)
        with store.transaction() as tx:
            for i in range(20):
                tx.task_tokens.create(TaskToken(f"t{i}", arn, "Build", i, "WAITING", T0, T0))
                tx.activities.enqueue(
                    ActivityTask(f"t{i}", activity.arn, f'{{"i": {i}}}', "QUEUED", at(i))
                )
        first = store.activities.poll(activity.arn, "w0", now=at(100))
        assert first is not None and (first.task_token, first.worker_name) == ("t0", "w0")
        got: list[str] = []
        lock = threading.Lock()

        def poller() -> None:
            while (task := store.activities.poll(activity.arn, "w")) is not None:
                with lock:
                    got.append(task.task_token)

        threads = [threading.Thread(target=poller) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(got) == sorted(f"t{i}" for i in range(1, 20))
        assert store.activities.poll(activity.arn) is None

    # -- map runs and tags ------------------------------------------------------------------

    def test_map_runs_and_tags(self, store: Store) -> None:
        arn = started(store).arn
        run = store.map_runs.create(
            MapRun(f"{arn}/map:1", arn, "Fan", "RUNNING", T0, T0, T0, item_counts={"total": 3})
        )
        saved = store.map_runs.save(replace(run, status="SUCCEEDED", stop_date=at(3)))
        assert store.map_runs.for_execution(arn) == [saved]
        with pytest.raises(Conflict):
            store.map_runs.save(run)
        store.tags.put(SM_ARN, {"team": "batch", "env": "dev"})
        store.tags.put(SM_ARN, {"env": "prod"})
        assert [(t.key, t.value) for t in store.tags.get(SM_ARN)] == [
            ("env", "prod"),
            ("team", "batch"),
        ]
        assert store.tags.remove(SM_ARN, ["env", "absent"]) == 1
        assert store.tags.clear(SM_ARN) == 1

    def test_map_run_put_inserts_then_updates_progress_only(self, store: Store) -> None:
        arn = started(store).arn
        first = MapRun(f"{arn}/map:2", arn, "Fan", "RUNNING", T0, T0, T0, max_concurrency=5)
        store.map_runs.put(first)
        assert store.map_runs.get(first.arn) == first
        # UpdateMapRun changes the configuration; the engine's next put keeps it.
        updated = store.map_runs.save(replace(first, max_concurrency=2))
        progress = replace(
            first,
            status="SUCCEEDED",
            stop_date=at(5),
            updated=at(5),
            item_counts={"succeeded": 4, "total": 4},
            execution_counts={"succeeded": 4, "total": 4},
        )
        store.map_runs.put(progress)
        got = store.map_runs.get(first.arn)
        assert got.max_concurrency == 2 and got.status == "SUCCEEDED"
        assert got.item_counts == {"succeeded": 4, "total": 4} and got.stop_date == at(5)
        assert got.version == updated.version + 1
        with pytest.raises(Conflict):
            store.map_runs.save(updated)

    # -- leases -----------------------------------------------------------------------------

    def test_lease_claim_renew_and_takeover_after_expiry(self, store: Store) -> None:
        for key in ("x1", "x2", "x3"):
            assert store.work.enqueue("execution", key, payload={"k": key}, now=T0)
        assert not store.work.enqueue("execution", "x1", now=T0)  # idempotent
        mine = store.work.claim("execution", "replica-a", 30, limit=2, now=at(1))
        assert [(c.key, c.payload, c.attempts) for c in mine] == [
            ("x1", {"k": "x1"}, 1),
            ("x2", {"k": "x2"}, 1),
        ]
        # Held items are invisible to others until their lease expires.
        others = store.work.claim("execution", "replica-b", 60, limit=5, now=at(2))
        assert [c.key for c in others] == ["x3"]
        renewed = store.work.renew(mine[0], 30, now=at(25))  # x1 held until 55, x2 until 31
        taken = store.work.claim("execution", "replica-b", 30, limit=5, now=at(40))
        assert [(c.key, c.owner, c.attempts) for c in taken] == [("x2", "replica-b", 2)]
        with pytest.raises(LeaseLost):  # replica-a paused past its lease: fenced off
            store.work.renew(mine[1], 30, now=at(41))
        with pytest.raises(LeaseLost):
            store.work.complete(mine[1], now=at(41))
        assert store.work.complete(taken[0], now=at(42))
        assert store.work.complete(others[0], now=at(42))
        store.work.release(renewed, available_at=at(100), now=at(43))
        assert store.work.claim("execution", "replica-b", 30, now=at(99)) == []
        assert [c.key for c in store.work.claim("execution", "replica-b", 30, now=at(100))] == [
            "x1"
        ]
        assert store.work.get("execution", "x2") is None

    def test_wake_while_held_is_not_lost(self, store: Store) -> None:
        store.work.enqueue("execution", "x", available_at=at(500), now=T0)
        assert store.work.wake("execution", "x", at(5))  # a callback arrived early
        (claim,) = store.work.claim("execution", "a", 60, now=at(5))
        assert store.work.wake("execution", "x", at(6))  # and another while we work
        assert not store.work.complete(claim, now=at(7))  # so the item stays
        (again,) = store.work.claim("execution", "a", 60, now=at(7))
        assert again.lease_version == claim.lease_version + 1
        assert store.work.complete(again, now=at(8))
        assert not store.work.wake("execution", "x")

    def test_notify_creates_or_wakes(self, store: Store) -> None:
        store.work.notify("execution", "x", at=at(50), payload={"first": True})
        store.work.notify("execution", "x", at=at(10), payload={"ignored": True})
        (claim,) = store.work.claim("execution", "a", 60, now=at(10))
        assert claim.payload == {"first": True}
        store.work.notify("execution", "x", at=at(11))  # while held: remembered
        store.work.release(claim, available_at=at(999), now=at(12))
        assert store.work.get("execution", "x") == (None, at(12))

    def test_concurrent_claimers_never_share_an_item(self, open_stores: StoreFactory) -> None:
        replicas = [open_stores(), open_stores()]
        keys = [f"item-{i:03d}" for i in range(120)]
        with replicas[0].transaction() as tx:
            for key in keys:
                tx.work.enqueue("slot", key, now=T0)
        claimed: list[Claim] = []
        lock = threading.Lock()

        def worker(store: Store, owner: str) -> None:
            while batch := store.work.claim("slot", owner, 300, limit=7, now=at(1)):
                with lock:
                    claimed.extend(batch)

        # Two replicas (separate engines and connections), two threads each.
        threads = [
            threading.Thread(target=worker, args=(replica, f"r{i}-t{j}"))
            for i, replica in enumerate(replicas)
            for j in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        counts = Counter(c.key for c in claimed)
        assert sorted(counts) == keys
        assert max(counts.values()) == 1

    # -- transactions -----------------------------------------------------------------------

    def test_transaction_rolls_back_every_table_on_error(self, store: Store) -> None:
        arn = started(store).arn

        class Boom(Exception):
            pass

        with pytest.raises(Boom), store.transaction() as tx:
            tx.history.append(arn, events(arn, 1, 2))
            tx.timers.set(arn, "wait", at(5))
            tx.work.enqueue("execution", arn, now=T0)
            tx.executions.save(replace(tx.executions.get(arn), status="SUCCEEDED"))
            raise Boom
        assert store.history.count(arn) == 0
        assert store.timers.for_execution(arn) == []
        assert store.work.get("execution", arn) is None
        assert store.executions.get(arn).status == "RUNNING"

    def test_transaction_commits_together(self, store: Store) -> None:
        arn = started(store).arn
        with store.transaction() as tx:
            tx.history.append(arn, events(arn, 1, 2))
            assert tx.timers.delete(arn, "none") is False
            tx.connection.execute(sa.text("SELECT 1"))
        assert store.history.count(arn) == 2
