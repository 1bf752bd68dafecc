"""Schedules and schedule groups as EventBridge Scheduler manages them (the API's semantics).

``ScheduleBook`` takes and returns AWS's shapes (PascalCase dicts, ``datetime`` timestamps) so
that the API handlers only route; errors are :class:`SchedulerError` with AWS's code and text.
It validates what botocore's model cannot (expressions, time zones, dates, policy tags) and
computes each new or changed schedule's first slot.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from batchyard.scheduler import expressions
from batchyard.scheduler.policies import validate_tags
from batchyard.scheduler.records import DEFAULT_GROUP, ScheduleGroup, ScheduleRecord
from batchyard.scheduler.repository import SchedulerRepo
from batchyard.scheduler.service import first_slot
from batchyard.store import Store

DEFAULT_RETRY = {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
START_DATE_GRACE = timedelta(minutes=5)
Params = dict[str, Any]


class SchedulerError(Exception):
    """An AWS error of the scheduler API: ``code`` (``__type``) and ``message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def validation(message: str) -> SchedulerError:
    return SchedulerError("ValidationException", message)


def schedule_missing(name: str) -> SchedulerError:
    return SchedulerError("ResourceNotFoundException", f"Schedule {name} does not exist.")


def group_missing(name: str) -> SchedulerError:
    return SchedulerError("ResourceNotFoundException", f"Schedule group {name} does not exist.")


class ScheduleBook:
    """CRUD of schedules and groups over the store, in AWS's terms."""

    def __init__(
        self,
        store: Store,
        *,
        region: str = "us-east-1",
        account: str = "123456789012",
        clock: Callable[[], datetime] | None = None,
        on_change: Callable[[], None] | None = None,
        allow_second_rates: bool | None = None,
    ) -> None:
        self.store = store
        self.region = region
        self.account = account
        self.clock = clock or (lambda: datetime.now(UTC))
        self.on_change = on_change or (lambda: None)
        self.allow_second_rates = allow_second_rates

    @property
    def repo(self) -> SchedulerRepo:
        return SchedulerRepo(self.store.db)

    def schedule_arn(self, group: str, name: str) -> str:
        return f"arn:aws:scheduler:{self.region}:{self.account}:schedule/{group}/{name}"

    def group_arn(self, name: str) -> str:
        return f"arn:aws:scheduler:{self.region}:{self.account}:schedule-group/{name}"

    # ------------------------------------------------------------------ groups

    def group(self, name: str) -> ScheduleGroup:
        found = self.repo.find_group(name)
        if found is not None:
            return found
        if name == DEFAULT_GROUP:
            return self._default_group()
        raise group_missing(name)

    def _default_group(self) -> ScheduleGroup:
        """The default group exists from the start, as on AWS (created on first use)."""
        now = self.clock()
        group = ScheduleGroup(DEFAULT_GROUP, self.group_arn(DEFAULT_GROUP), "ACTIVE", {}, now, now)
        self.repo.insert_group(group)
        found = self.repo.find_group(DEFAULT_GROUP)
        assert found is not None
        return found

    def create_group(self, name: str, tags: dict[str, str]) -> str:
        self._check_tags(tags)
        if name == DEFAULT_GROUP:
            self._default_group()
            raise SchedulerError("ConflictException", f"Schedule group {name} already exists.")
        now = self.clock()
        group = ScheduleGroup(name, self.group_arn(name), "ACTIVE", dict(tags), now, now)
        if not self.repo.insert_group(group):
            raise SchedulerError("ConflictException", f"Schedule group {name} already exists.")
        return group.arn

    def delete_group(self, name: str) -> None:
        if name == DEFAULT_GROUP:
            raise validation("Cannot delete the default schedule group.")
        self.group(name)
        self.repo.delete_group(name)
        self.on_change()

    def list_groups(
        self, prefix: str | None, token: str | None, limit: int
    ) -> tuple[list[ScheduleGroup], str | None]:
        self.group(DEFAULT_GROUP)
        try:
            return self.repo.list_groups(prefix, token, limit)
        except ValueError:
            raise validation("Invalid NextToken.") from None

    def _group_of_arn(self, arn: str) -> ScheduleGroup:
        prefix = self.group_arn("")
        if not arn.startswith(prefix):
            raise SchedulerError("ResourceNotFoundException", f"Resource {arn} does not exist.")
        return self.group(arn[len(prefix) :])

    def tags(self, arn: str) -> dict[str, str]:
        return dict(self._group_of_arn(arn).tags)

    def tag(self, arn: str, tags: dict[str, str]) -> None:
        group = self._group_of_arn(arn)
        self._check_tags(tags)
        self.repo.set_group_tags(group.name, {**group.tags, **tags}, self.clock())

    def untag(self, arn: str, keys: list[str]) -> None:
        group = self._group_of_arn(arn)
        left = {k: v for k, v in group.tags.items() if k not in set(keys)}
        self.repo.set_group_tags(group.name, left, self.clock())

    @staticmethod
    def _check_tags(tags: dict[str, str]) -> None:
        message = validate_tags(tags)
        if message is not None:
            raise validation(message)

    # ------------------------------------------------------------------ schedules

    def get(self, name: str, group: str | None) -> ScheduleRecord:
        group_name = group or DEFAULT_GROUP
        self.group(group_name)
        found = self.repo.find_schedule(group_name, name)
        if found is None:
            raise schedule_missing(name)
        return found

    def create(self, params: Params) -> str:
        group_name = params.get("GroupName") or DEFAULT_GROUP
        self.group(group_name)
        now = self.clock()
        record = self._record(params, group_name, now, schedule_id=uuid.uuid4().hex, created=now)
        if not self.repo.insert_schedule(record):
            existing = self.repo.find_schedule(group_name, params["Name"])
            token = params.get("ClientToken")
            if existing is not None and token and existing.client_token == token:
                return existing.arn  # a retry of the request that created it
            raise SchedulerError("ConflictException", f"Schedule {params['Name']} already exists.")
        self.on_change()
        return record.arn

    def update(self, params: Params) -> str:
        # UpdateSchedule replaces the whole schedule, so a version that moved on meanwhile
        # (a scheduler claimed the next slot) only means: read it again and replace that.
        for _ in range(20):
            current = self.get(params["Name"], params.get("GroupName"))
            now = self.clock()
            record = self._record(
                params, current.group_name, now, schedule_id=current.id, created=current.created
            )
            record = replace(record, version=current.version + 1)
            if self.repo.replace_schedule(record, current.version):
                self.on_change()
                return record.arn
        raise SchedulerError(
            "ConflictException", f"Schedule {params['Name']} is being changed; try again."
        )

    def delete(self, name: str, group: str | None) -> None:
        record = self.get(name, group)
        if not self.repo.delete_schedule(record.id):
            raise schedule_missing(name)
        self.on_change()

    def list(
        self,
        *,
        group: str | None,
        prefix: str | None,
        state: str | None,
        token: str | None,
        limit: int,
    ) -> tuple[list[ScheduleRecord], str | None]:
        if group is not None:
            self.group(group)
        try:
            return self.repo.list_schedules(
                group=group, prefix=prefix, state=state, token=token, limit=limit
            )
        except ValueError:
            raise validation("Invalid NextToken.") from None

    def _record(
        self, params: Params, group: str, now: datetime, *, schedule_id: str, created: datetime
    ) -> ScheduleRecord:
        text = params["ScheduleExpression"]
        start, end = params.get("StartDate"), params.get("EndDate")
        try:
            expr = expressions.parse(
                text,
                params.get("ScheduleExpressionTimezone"),
                start=start,
                end=end,
                allow_seconds=self.allow_second_rates,
            )
        except expressions.ExpressionError as exc:
            raise validation(str(exc)) from None
        if not expr.one_time:
            if start is not None and start < now - START_DATE_GRACE:
                raise validation("The StartDate you specify cannot be earlier than 5 minutes ago.")
            if start is not None and end is not None and end <= start:
                raise validation("The EndDate must be later than the StartDate.")
            if end is not None and end <= now:
                raise validation("The EndDate you specify cannot be earlier than the current time.")
        window = dict(params["FlexibleTimeWindow"])
        if window.get("Mode") == "FLEXIBLE" and "MaximumWindowInMinutes" not in window:
            raise validation(
                "MaximumWindowInMinutes must be specified when the FlexibleTimeWindow Mode is FLEXIBLE."
            )
        if window.get("Mode") == "OFF" and "MaximumWindowInMinutes" in window:
            raise validation(
                "MaximumWindowInMinutes must not be specified when the FlexibleTimeWindow Mode is OFF."
            )
        target = dict(params["Target"])
        target.setdefault("RetryPolicy", dict(DEFAULT_RETRY))
        record = ScheduleRecord(
            id=schedule_id,
            group_name=group,
            name=params["Name"],
            arn=self.schedule_arn(group, params["Name"]),
            description=params.get("Description"),
            expression=text,
            timezone=params.get("ScheduleExpressionTimezone") or "UTC",
            start_date=start if not expr.one_time else None,
            end_date=end if not expr.one_time else None,
            state=params.get("State") or "ENABLED",
            flexible_window=window,
            action_after_completion=params.get("ActionAfterCompletion") or "NONE",
            kms_key_arn=params.get("KmsKeyArn"),
            client_token=params.get("ClientToken"),
            target=target,
            anchor=start or now.replace(microsecond=0),
            next_slot=None,
            version=1,
            created=created,
            updated=now,
        )
        return replace(record, next_slot=first_slot(record, now.replace(microsecond=0)))

    # ------------------------------------------------------------------ wire shapes

    def describe(self, record: ScheduleRecord) -> Params:
        """GetSchedule's output."""
        out: Params = {
            "ActionAfterCompletion": record.action_after_completion,
            "Arn": record.arn,
            "CreationDate": record.created,
            "Description": record.description,
            "EndDate": record.end_date,
            "FlexibleTimeWindow": record.flexible_window,
            "GroupName": record.group_name,
            "KmsKeyArn": record.kms_key_arn,
            "LastModificationDate": record.updated,
            "Name": record.name,
            "ScheduleExpression": record.expression,
            "ScheduleExpressionTimezone": record.timezone,
            "StartDate": record.start_date,
            "State": record.state,
            "Target": record.target,
        }
        return {k: v for k, v in out.items() if v is not None}
