"""AWS's request rules for the log store: limits, names, retention values, pagination tokens,
and which events of a PutLogEvents batch AWS rejects (``rejectedLogEventsInfo``)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from batchyard.logs import errors
from batchyard.logs.errors import InvalidParameterException

RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                  2557, 2922, 3288, 3653)  # fmt: skip
DAY_MS = 86_400_000
TOO_OLD_MS = 14 * DAY_MS
TOO_NEW_MS = 2 * 3_600_000
MAX_EVENTS_LIMIT = 10_000
GROUP_NAME_RE = re.compile(r"[\.\-_/#A-Za-z0-9]+")
STREAM_NAME_RE = re.compile(r"[^:*]*")


def encode_token(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def decode_token(token: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidParameterException(errors.INVALID_TOKEN) from exc


def check_limit(limit: int | None, maximum: int, default: int) -> int:
    if limit is None:
        return default
    if limit < 1:
        raise errors.validation_error(
            limit, "limit", "Member must have value greater than or equal to 1"
        )
    if limit > maximum:
        raise errors.validation_error(
            limit, "limit", f"Member must have value less than or equal to {maximum}"
        )
    return limit


def paginate(items: list[Any], limit: int, next_token: str | None) -> tuple[list[Any], str | None]:
    """Offset pagination behind an opaque token, as describe_* need."""
    start = 0
    if next_token is not None:
        decoded = decode_token(next_token)
        if not isinstance(decoded, dict) or not isinstance(decoded.get("o"), int):
            raise InvalidParameterException(errors.INVALID_TOKEN)
        start = decoded["o"]
    page = items[start : start + limit]
    more = start + limit < len(items)
    return page, (encode_token({"o": start + limit}) if more else None)


def validate_name(name: str, member: str, pattern: re.Pattern[str]) -> None:
    if len(name) > 512:
        raise InvalidParameterException(
            "Invalid LogGroup or LogStream, both must have length less than or equal to 512."
        )
    if (not name and member == "logStreamName") or not pattern.fullmatch(name):
        raise errors.validation_error(
            name, member, f"Member must satisfy regular expression pattern: {pattern.pattern}"
        )


def rejections(
    timestamps: list[int], ingestions: list[int], retention_days: int | None
) -> tuple[dict[str, int], int, int]:
    """AWS's rejectedLogEventsInfo and the accepted slice [first, last) of a sorted batch."""
    info: dict[str, int] = {}
    first, last = 0, len(timestamps)
    while first < last and timestamps[first] < ingestions[first] - TOO_OLD_MS:
        first += 1
    if first:
        info["tooOldLogEventEndIndex"] = first - 1
    if retention_days is not None:
        expired = first
        while (
            expired < last and timestamps[expired] < ingestions[expired] - retention_days * DAY_MS
        ):
            expired += 1
        if expired > first:
            info["expiredLogEventEndIndex"] = expired - 1
            first = expired
    while last > first and timestamps[last - 1] > ingestions[last - 1] + TOO_NEW_MS:
        last -= 1
    if last < len(timestamps):
        info["tooNewLogEventStartIndex"] = last
    return info, first, last
