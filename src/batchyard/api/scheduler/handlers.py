"""Handlers of the twelve EventBridge Scheduler operations."""

from __future__ import annotations

from typing import Any

from batchyard.api.service import Handler, RequestContext, Service, coded_error
from batchyard.scheduler import ScheduleBook, SchedulerError

Params = dict[str, Any]
DEFAULT_PAGE = 100


def _tags(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or []}


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


class SchedulerApi:
    """Binds the operations to one :class:`ScheduleBook`."""

    def __init__(self, book: ScheduleBook) -> None:
        self.book = book

    # ------------------------------------------------------------------ schedules

    def create_schedule(self, params: Params, _: RequestContext) -> Params:
        return {"ScheduleArn": self.book.create(params)}

    def update_schedule(self, params: Params, _: RequestContext) -> Params:
        return {"ScheduleArn": self.book.update(params)}

    def get_schedule(self, params: Params, _: RequestContext) -> Params:
        return self.book.describe(self.book.get(params["Name"], params.get("GroupName")))

    def delete_schedule(self, params: Params, _: RequestContext) -> Params:
        self.book.delete(params["Name"], params.get("GroupName"))
        return {}

    def list_schedules(self, params: Params, _: RequestContext) -> Params:
        records, token = self.book.list(
            group=params.get("GroupName"),
            prefix=params.get("NamePrefix"),
            state=params.get("State"),
            token=params.get("NextToken"),
            limit=params.get("MaxResults") or DEFAULT_PAGE,
        )
        out: Params = {
            "Schedules": [
                {
                    "Arn": r.arn,
                    "CreationDate": r.created,
                    "GroupName": r.group_name,
                    "LastModificationDate": r.updated,
                    "Name": r.name,
                    "State": r.state,
                    "Target": {"Arn": r.target["Arn"]},
                }
                for r in records
            ]
        }
        if token:
            out["NextToken"] = token
        return out

    # ------------------------------------------------------------------ groups

    def create_schedule_group(self, params: Params, _: RequestContext) -> Params:
        return {
            "ScheduleGroupArn": self.book.create_group(params["Name"], _tags(params.get("Tags")))
        }

    def get_schedule_group(self, params: Params, _: RequestContext) -> Params:
        group = self.book.group(params["Name"])
        return {
            "Arn": group.arn,
            "CreationDate": group.created,
            "LastModificationDate": group.updated,
            "Name": group.name,
            "State": group.state,
        }

    def delete_schedule_group(self, params: Params, _: RequestContext) -> Params:
        self.book.delete_group(params["Name"])
        return {}

    def list_schedule_groups(self, params: Params, _: RequestContext) -> Params:
        groups, token = self.book.list_groups(
            params.get("NamePrefix"),
            params.get("NextToken"),
            params.get("MaxResults") or DEFAULT_PAGE,
        )
        out: Params = {
            "ScheduleGroups": [
                {
                    "Arn": g.arn,
                    "CreationDate": g.created,
                    "LastModificationDate": g.updated,
                    "Name": g.name,
                    "State": g.state,
                }
                for g in groups
            ]
        }
        if token:
            out["NextToken"] = token
        return out

    # ------------------------------------------------------------------ tags

    def tag_resource(self, params: Params, _: RequestContext) -> Params:
        self.book.tag(params["ResourceArn"], _tags(params["Tags"]))
        return {}

    def untag_resource(self, params: Params, _: RequestContext) -> Params:
        self.book.untag(params["ResourceArn"], list(params["TagKeys"]))
        return {}

    def list_tags_for_resource(self, params: Params, _: RequestContext) -> Params:
        return {"Tags": _tag_list(self.book.tags(params["ResourceArn"]))}

    # ------------------------------------------------------------------ service

    def handlers(self) -> dict[str, Handler]:
        return {
            "CreateSchedule": self.create_schedule,
            "UpdateSchedule": self.update_schedule,
            "GetSchedule": self.get_schedule,
            "DeleteSchedule": self.delete_schedule,
            "ListSchedules": self.list_schedules,
            "CreateScheduleGroup": self.create_schedule_group,
            "GetScheduleGroup": self.get_schedule_group,
            "DeleteScheduleGroup": self.delete_schedule_group,
            "ListScheduleGroups": self.list_schedule_groups,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
            "ListTagsForResource": self.list_tags_for_resource,
        }

    def service(self) -> Service:
        service = Service("scheduler", validation_error="ValidationException")
        service.register_all(self.handlers())
        service.translate(SchedulerError, coded_error)
        return service
