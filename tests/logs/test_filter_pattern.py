"""Filter patterns, each syntax form, evaluated by DuckDB over a fixed set of messages."""

from __future__ import annotations

import json

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchyard.logs import InvalidParameterException
from batchyard.logs.filter_pattern import compile_pattern

MESSAGES = [
    "[ERROR 400] BAD REQUEST",  # 0
    "[ERROR 419] MISSING ARGUMENTS",  # 1
    "INFO all good",  # 2
    "NullPointerException at line 3",  # 3
    json.dumps({"eventType": "UpdateTrail", "latency": 1200, "user": {"id": 1}, "ok": True}),  # 4
    json.dumps({"eventType": "DescribeTrail", "latency": 50, "error": None, "ok": False}),  # 5
    json.dumps({"users": [{"email": "a@x.com"}], "code": "200", "ip": "123.123.1.1"}),  # 6
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',  # 7
    '10.0.0.2 - bob [10/Oct/2000:13:26:00 -0700] "GET /big.bin HTTP/1.0" 200 50000',  # 8
]


def matches(pattern: str) -> list[int]:
    con = duckdb.connect()
    con.execute("CREATE TABLE m (i INTEGER, message VARCHAR)")
    con.executemany("INSERT INTO m VALUES (?, ?)", list(enumerate(MESSAGES)))
    sql = f"SELECT i FROM m WHERE {compile_pattern(pattern)} ORDER BY i"
    return [row[0] for row in con.execute(sql).fetchall()]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("", list(range(9))),
        ("ERROR", [0, 1]),
        ("ERROR ARGUMENTS", [1]),
        ("?REQUEST ?good", [0, 2]),
        ("ERROR -ARGUMENTS", [0]),
        ('"BAD REQUEST"', [0]),
        ("error", [5]),  # case-sensitive: only the JSON key "error"
        ("Exception", []),  # a bare term matches whole words only
        ('"Exception"', [3]),  # a quoted phrase matches anywhere
        ("%Null[A-Za-z]+%", [3]),
        ("{ $.eventType = UpdateTrail }", [4]),
        ('{ $.eventType = "Describe*" }', [5]),
        ("{ $.eventType != UpdateTrail }", [5]),
        ("{ $.latency > 1000 }", [4]),
        ("{ $.latency <= 50 }", [5]),
        ("{ ($.latency > 1000) || ($.latency < 60) }", [4, 5]),
        ('{ $.user.id = 1 && $.eventType = "UpdateTrail" }', [4]),
        ("{ $.ok IS TRUE }", [4]),
        ("{ $.ok IS FALSE }", [5]),
        ("{ $.error IS NULL }", [5]),
        ("{ $.error NOT EXISTS }", [4, 6]),
        ('{ $.users[0].email = "a@x.com" }', [6]),
        ("{ $.code = 200 }", [6]),
        ("{ $.ip != 123.123.* }", []),
        ("{ $.ip = 123.123.* }", [6]),
        ("{ $.eventType = %Up.*Trail% }", [4]),
        ("[ip, user, username, timestamp, request, status_code = 404, bytes]", [7]),
        ("[ip, ..., status_code = 2*, bytes > 1000]", [8]),
        ("[ip, ..., status_code = 404 || status_code = 200, bytes]", [7, 8]),
        ('[ip, user, username, timestamp, request = "GET /index*", ...]', [7]),
        ("[w1, w2, w3]", [0, 1, 2]),  # "[ERROR 400]" is one field
    ],
)
def test_pattern(pattern: str, expected: list[int]) -> None:
    assert matches(pattern) == expected


@pytest.mark.parametrize(
    "pattern", ["{ $.a = }", "{ $.a > x }", "[a, , b]", "{ a = 1 }", "[a, b = ]"]
)
def test_malformed_patterns_raise_invalid_parameter(pattern: str) -> None:
    with pytest.raises(InvalidParameterException):
        compile_pattern(pattern)


_CON = duckdb.connect()
_CON.execute(
    "CREATE TABLE probe AS SELECT unnest(['x', '{\"a\": 1}', '[1]', 'a b \"c d\" [e]']) AS message"
)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='{}[]$.,=!<>&|()%*?-" aA1\\:@_', max_size=40) | st.text(max_size=30))
def test_any_text_compiles_to_runnable_sql_or_raises_invalid_parameter(pattern: str) -> None:
    try:
        sql = compile_pattern(pattern)
    except InvalidParameterException:
        return
    _CON.execute(f"SELECT count(*) FROM probe WHERE {sql}").fetchall()
