"""The CloudWatch Logs API (AWS JSON 1.1, ``Logs_20140328.*``) over ``batchyard.logs``.

Each handler maps the request members onto one ``LogStore`` call; the store already speaks
AWS's semantics (names, texts, pagination tokens), so this module only resolves log group
identifiers (a name or an ARN), keeps tags, and drives asynchronous Insights queries.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from batchyard.api.errors import AwsError
from batchyard.api.logs.queries import QueryManager
from batchyard.api.service import Handler, RequestContext, Service
from batchyard.logs import InvalidParameterException, LogsError, LogStore, MalformedQueryException
from batchyard.logs.errors import GROUP_NOT_FOUND, ResourceNotFoundException

Params = dict[str, Any]
Result = dict[str, Any] | None


def _malformed(exc: MalformedQueryException) -> AwsError:
    return AwsError(
        "MalformedQueryException",
        str(exc),
        fields={"queryCompileError": {"message": exc.reason}},
    )


class TagStore:
    """Tags per resource ARN, kept in a small JSON file (or in memory)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._tags: dict[str, dict[str, str]] = {}
        if path is not None and path.exists():
            self._tags = json.loads(path.read_text())

    def get(self, arn: str) -> dict[str, str]:
        with self._lock:
            return dict(self._tags.get(arn, {}))

    def update(self, arn: str, change: Callable[[dict[str, str]], None]) -> None:
        with self._lock:
            tags = self._tags.setdefault(arn, {})
            change(tags)
            if not tags:
                del self._tags[arn]
            self._save()

    def drop(self, arn: str) -> None:
        with self._lock:
            if self._tags.pop(arn, None) is not None:
                self._save()

    def _save(self) -> None:
        if self._path is not None:
            tmp = self._path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self._tags, sort_keys=True))
            tmp.replace(self._path)


class LogsApi:
    """Handlers of the CloudWatch Logs operations batchyard serves."""

    def __init__(self, store: LogStore, *, tags_path: Path | None = None) -> None:
        self.store = store
        self.queries = QueryManager(store)
        self.tags = TagStore(tags_path)

    def service(self) -> Service:
        service = Service(
            "logs",
            validation_error="InvalidParameterException",
            # Over-long names get the store's own text ("Invalid LogGroup or LogStream, both
            # must have length less than or equal to 512."), not the generic model message.
            relaxed={("LogGroupName", "max"), ("LogStreamName", "max")},
        )
        service.register_all(self.handlers())
        service.translate(LogsError)
        service.translate(MalformedQueryException, _malformed)
        return service

    def handlers(self) -> dict[str, Handler]:
        return {
            "CreateLogGroup": self.create_log_group,
            "DeleteLogGroup": self.delete_log_group,
            "DescribeLogGroups": self.describe_log_groups,
            "CreateLogStream": self.create_log_stream,
            "DeleteLogStream": self.delete_log_stream,
            "DescribeLogStreams": self.describe_log_streams,
            "PutLogEvents": self.put_log_events,
            "GetLogEvents": self.get_log_events,
            "FilterLogEvents": self.filter_log_events,
            "PutRetentionPolicy": self.put_retention_policy,
            "DeleteRetentionPolicy": self.delete_retention_policy,
            "StartQuery": self.start_query,
            "GetQueryResults": self.get_query_results,
            "StopQuery": self.stop_query,
            "DescribeQueries": self.describe_queries,
            "GetLogRecord": self.get_log_record,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
            "ListTagsForResource": self.list_tags_for_resource,
            "TagLogGroup": self.tag_log_group,
            "UntagLogGroup": self.untag_log_group,
            "ListTagsLogGroup": self.list_tags_log_group,
            "CreateLookupTable": self.create_lookup_table,
        }

    # ------------------------------------------------------------------ helpers

    def _arn(self, group: str) -> str:
        return f"arn:aws:logs:{self.store.region}:{self.store.account_id}:log-group:{group}"

    @staticmethod
    def _group(params: Params, name_key: str = "logGroupName") -> str:
        """The log group a request names: ``logGroupName`` or ``logGroupIdentifier`` (name/ARN)."""
        name, identifier = params.get(name_key), params.get("logGroupIdentifier")
        if name is not None and identifier is not None:
            raise AwsError(
                "ValidationException",
                "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
            )
        if identifier is not None:
            return _name_of(identifier)
        if name is None:
            raise InvalidParameterException("Should provide either name or ARN of the log group.")
        return str(name)

    def _require_group(self, name: str) -> None:
        if name not in self.store.group_names():
            raise ResourceNotFoundException(GROUP_NOT_FOUND)

    # ------------------------------------------------------------------ groups and streams

    def create_log_group(self, params: Params, ctx: RequestContext) -> Result:
        name = params["logGroupName"]
        self.store.create_log_group(name)
        if params.get("tags"):
            self.tags.update(self._arn(name), lambda t: t.update(params["tags"]))
        return None

    def delete_log_group(self, params: Params, ctx: RequestContext) -> Result:
        self.store.delete_log_group(params["logGroupName"])
        self.tags.drop(self._arn(params["logGroupName"]))
        return None

    def describe_log_groups(self, params: Params, ctx: RequestContext) -> Result:
        prefix, pattern = params.get("logGroupNamePrefix"), params.get("logGroupNamePattern")
        if prefix is not None and pattern is not None:
            raise InvalidParameterException(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
            )
        identifiers = params.get("logGroupIdentifiers")
        if pattern is None and identifiers is None:
            return self.store.describe_log_groups(
                prefix, limit=params.get("limit"), next_token=params.get("nextToken")
            )
        # Pattern and identifier filters: narrow the full listing, then page it.
        wanted = {_name_of(i) for i in identifiers} if identifiers else None
        groups = []
        token: str | None = None
        while True:
            page = self.store.describe_log_groups(None, next_token=token)
            groups += [
                g
                for g in page["logGroups"]
                if (pattern is None or pattern.lower() in g["logGroupName"].lower())
                and (wanted is None or g["logGroupName"] in wanted)
            ]
            token = page.get("nextToken")
            if token is None:
                break
        return {"logGroups": groups[: params.get("limit") or 50]}

    def create_log_stream(self, params: Params, ctx: RequestContext) -> Result:
        self.store.create_log_stream(params["logGroupName"], params["logStreamName"])
        return None

    def delete_log_stream(self, params: Params, ctx: RequestContext) -> Result:
        self.store.delete_log_stream(params["logGroupName"], params["logStreamName"])
        return None

    def describe_log_streams(self, params: Params, ctx: RequestContext) -> Result:
        return self.store.describe_log_streams(
            self._group(params),
            log_stream_name_prefix=params.get("logStreamNamePrefix"),
            order_by=params.get("orderBy") or "LogStreamName",
            descending=bool(params.get("descending")),
            limit=params.get("limit"),
            next_token=params.get("nextToken"),
        )

    def put_retention_policy(self, params: Params, ctx: RequestContext) -> Result:
        self.store.put_retention_policy(params["logGroupName"], params["retentionInDays"])
        return None

    def delete_retention_policy(self, params: Params, ctx: RequestContext) -> Result:
        self.store.delete_retention_policy(params["logGroupName"])
        return None

    # ------------------------------------------------------------------ events

    def put_log_events(self, params: Params, ctx: RequestContext) -> Result:
        return self.store.put_log_events(
            params["logGroupName"], params["logStreamName"], params["logEvents"], aws_rules=True
        )

    def get_log_events(self, params: Params, ctx: RequestContext) -> Result:
        return self.store.get_log_events(
            self._group(params),
            params["logStreamName"],
            start_time=params.get("startTime"),
            end_time=params.get("endTime"),
            start_from_head=bool(params.get("startFromHead")),
            limit=params.get("limit"),
            next_token=params.get("nextToken"),
        )

    def filter_log_events(self, params: Params, ctx: RequestContext) -> Result:
        return self.store.filter_log_events(
            self._group(params),
            filter_pattern=params.get("filterPattern"),
            start=params.get("startTime"),
            end=params.get("endTime"),
            stream_names=params.get("logStreamNames"),
            stream_name_prefix=params.get("logStreamNamePrefix"),
            limit=params.get("limit"),
            next_token=params.get("nextToken"),
        )

    # ------------------------------------------------------------------ Insights

    def start_query(self, params: Params, ctx: RequestContext) -> Result:
        given = [k for k in ("logGroupName", "logGroupNames", "logGroupIdentifiers") if k in params]
        if len(given) > 1:
            raise InvalidParameterException(
                "Exactly one of logGroupName, logGroupNames or logGroupIdentifiers may be "
                "specified."
            )
        groups: list[str] = []
        if "logGroupName" in params:
            groups = [params["logGroupName"]]
        elif given:
            groups = [_name_of(g) for g in params[given[0]]]
        if params["endTime"] < params["startTime"]:
            raise InvalidParameterException("End time should not be before the start time")
        query_id = self.queries.submit(
            params["queryString"],
            groups,
            params["startTime"],
            params["endTime"],
            params.get("limit"),
        )
        return {"queryId": query_id}

    def get_query_results(self, params: Params, ctx: RequestContext) -> Result:
        run = self.queries.get(params["queryId"])
        result: dict[str, Any] = {
            "queryLanguage": "CWLI",
            "results": [[{"field": k, "value": v} for k, v in row.items()] for row in run.results],
            "statistics": run.statistics
            or {"recordsMatched": 0.0, "recordsScanned": 0.0, "bytesScanned": 0.0},
            "status": run.status,
        }
        return result

    def stop_query(self, params: Params, ctx: RequestContext) -> Result:
        return {"success": self.queries.stop_query(params["queryId"])}

    def describe_queries(self, params: Params, ctx: RequestContext) -> Result:
        runs = self.queries.describe(params.get("logGroupName"), params.get("status"))
        limit = params.get("maxResults") or 1000
        return {"queries": [r.info() for r in runs[:limit]]}

    def get_log_record(self, params: Params, ctx: RequestContext) -> Result:
        return {"logRecord": self.store.get_log_record(params["logRecordPointer"])}

    def create_lookup_table(self, params: Params, ctx: RequestContext) -> Result:
        name = params["lookupTableName"]
        self.store.create_lookup_table(name, params["tableBody"])
        arn = f"arn:aws:logs:{self.store.region}:{self.store.account_id}:lookup-table:{name}"
        return {"lookupTableArn": arn, "createdAt": self.store.now_ms()}

    # ------------------------------------------------------------------ tags

    def _tagged_group(self, arn: str) -> str:
        name = _name_of(arn)
        self._require_group(name)
        return self._arn(name)

    def tag_resource(self, params: Params, ctx: RequestContext) -> Result:
        arn = self._tagged_group(params["resourceArn"])
        self.tags.update(arn, lambda t: t.update(params["tags"]))
        return None

    def untag_resource(self, params: Params, ctx: RequestContext) -> Result:
        arn = self._tagged_group(params["resourceArn"])

        def remove(tags: dict[str, str]) -> None:
            for key in params["tagKeys"]:
                tags.pop(key, None)

        self.tags.update(arn, remove)
        return None

    def list_tags_for_resource(self, params: Params, ctx: RequestContext) -> Result:
        return {"tags": self.tags.get(self._tagged_group(params["resourceArn"]))}

    def tag_log_group(self, params: Params, ctx: RequestContext) -> Result:
        return self.tag_resource({"resourceArn": params["logGroupName"], **params}, ctx)

    def untag_log_group(self, params: Params, ctx: RequestContext) -> Result:
        return self.untag_resource(
            {"resourceArn": params["logGroupName"], "tagKeys": params["tags"]}, ctx
        )

    def list_tags_log_group(self, params: Params, ctx: RequestContext) -> Result:
        return self.list_tags_for_resource({"resourceArn": params["logGroupName"]}, ctx)


def _name_of(identifier: str) -> str:
    """A log group name from a name or an ARN (``arn:aws:logs:r:a:log-group:NAME[:*]``)."""
    if identifier.startswith("arn:"):
        name = identifier.split(":log-group:", 1)[-1]
        return name[:-2] if name.endswith(":*") else name
    return identifier
