"""Functions, operators, aggregations and sort order, executed in DuckDB."""

from __future__ import annotations

import ipaddress
import math
import statistics

import pytest

from batchyard.logs.insights import UnsupportedQueryError

from .conftest import Events


def one(expr: str, message: str | dict[str, object] = "x") -> str | None:
    events = Events([message])
    return events.query(f"fields {expr} as v | display v")[0].get("v")


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('ltrim("xyZxyfooxyZ", "xyZ")', "fooxyZ"),
        ('rtrim("xyZfooxyxyZ", "xyZ")', "xyZfoo"),
        ('trim("xyZxyfooxyxyZ", "xyZ")', "foo"),
        ('trim("  \tpad ")', "pad"),
        ('substr("xyZfooxyZ", 3, 3)', "foo"),
        ('substr("xyZfooxyZ", 3)', "fooxyZ"),
        ('replace("foo", "o", "0")', "f00"),
        ('strlen("héllo")', "5"),
        ('toupper("abc")', "ABC"),
        ('tolower("ABC")', "abc"),
        ('concat("a", 1, "b")', "a1b"),
        ('strcontains("Init Duration", "Init")', "1"),
        ('strcontains("abc", "z")', "0"),
        ('isempty("")', "true"),
        ("isempty(missing)", "true"),
        ('isblank("  ")', "true"),
        ('isblank(" a ")', "false"),
        ("ispresent(@message)", "true"),
        ("ispresent(missing)", "false"),
        ('coalesce(missing, "b")', "b"),
        ("abs(-3.5)", "3.5"),
        ("ceil(2.1)", "3"),
        ("floor(2.9)", "2"),
        ("greatest(1, 7, 3)", "7"),
        ("least(4, 2, 9)", "2"),
        ("log(1)", "0"),
        ("sqrt(16)", "4"),
        ("2 ^ 3", "8"),
        ("10 % 3", "1"),
        ("7 / 2", "3.5"),
        ("1 + 2 * 3 ^ 2", "19"),
        ("(1 + 2) * 3", "9"),
        ("-2 ^ 2", "4"),
        ("1 / 0", None),
        ("sqrt(-1)", None),
        ("fromMillis(1700000000123)", "2023-11-14 22:13:20.123"),
        ("toMillis(@timestamp)", "1700000000000"),
        ("datefloor(@timestamp, 1h)", "2023-11-14 22:00:00.000"),
        ("dateceil(@timestamp, 1h)", "2023-11-14 23:00:00.000"),
        ("dateceil(datefloor(@timestamp, 1h), 1h)", "2023-11-14 22:00:00.000"),
        ("datefloor(@timestamp, 1mo)", "2023-11-01 00:00:00.000"),
        ("datefloor(@timestamp, 1q)", "2023-10-01 00:00:00.000"),
        ("dateceil(@timestamp, 1y)", "2024-01-01 00:00:00.000"),
        ("datefloor(@timestamp, 1w)", "2023-11-09 00:00:00.000"),  # epoch weeks start on Thursday
        ("bin(30s)", "2023-11-14 22:13:00.000"),
        ("@timestamp - fromMillis(1699999999000)", "1000"),
        ("jsonStringify(jsonParse('{\"a\": [1, 2]}'))", '{"a":[1,2]}'),
        ("unmask(@message)", "x"),
    ],
)
def test_scalar_functions(expr: str, expected: str | None) -> None:
    assert one(expr) == expected


def test_now_is_query_start_in_seconds() -> None:
    events = Events(["x"])
    assert events.query("fields now() as t | display t", now_ms=1_700_000_123_456) == [
        {"t": "1700000123"}
    ]


def test_numeric_text_in_arithmetic_and_comparisons() -> None:
    events = Events([{"code": 200, "ms": "12.5"}, {"code": 404, "ms": "x"}, {"code": 500}])
    assert events.values("filter code = 200 | fields ms * 2 as d", "d") == ["25"]
    assert events.values("filter code in [404, 500] | sort code | fields code", "code") == [
        "404",
        "500",
    ]
    assert events.values("filter code >= 404 | sort code desc | fields code", "code") == [
        "500",
        "404",
    ]
    assert events.values("filter code = '404' | fields code", "code") == ["404"]


def test_like_regex_and_negations() -> None:
    events = Events([{"m": "Exception here"}, {"m": "an exception"}, {"other": 1}])
    by_ts = "| sort @timestamp asc | fields m"
    assert events.values(f"filter m like 'Exception' {by_ts}", "m") == ["Exception here"]
    assert events.values(f"filter m like /(?i)exception/ {by_ts}", "m") == [
        "Exception here",
        "an exception",
    ]
    assert events.values(f"filter m =~ /^an/ {by_ts}", "m") == ["an exception"]
    # Explicit negations keep events without the field; plain comparisons with it do not.
    assert events.values(f"filter m not like /Exc/ {by_ts}", "m") == ["an exception", None]
    assert events.values(f"filter m not in ['an exception'] {by_ts}", "m") == [
        "Exception here",
        None,
    ]
    assert events.values(f"filter m != 'an exception' {by_ts}", "m") == ["Exception here"]
    assert events.values(f"filter not (m = 'an exception') {by_ts}", "m") == [
        "Exception here",
        None,
    ]


def test_backticks_and_at_fields() -> None:
    events = Events([{"foo-bar": "x", "@odd": "y", "a": {"b.c": "z"}}])
    assert events.query("fields `foo-bar`, `@@odd`, a.`b.c`") == [
        {"foo-bar": "x", "@@odd": "y", "a.b.c": "z"}
    ]


def test_ip_functions_agree_with_ipaddress() -> None:
    samples = ["192.168.1.7", "10.0.0.1", "256.1.1.1", "01.2.3.4", "2001:db8::1", "::1", "::", "fe80::1:2",
               "2001:db8:0:0:1:0:0:1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "::ffff:10.1.2.3", "2001:db9::1",
               "1::2::3", "abc", ""]  # fmt: skip
    events = Events([{"ip": s} for s in samples])
    rows = events.query(
        "sort @timestamp asc | fields ip, isValidIp(ip) as any, isValidIpV4(ip) as v4, isValidIpV6(ip) as v6, "
        "isIpInSubnet(ip, '192.168.0.0/16') as lan, isIpv4InSubnet(ip, '10.0.0.0/8') as ten, "
        "isIpv6InSubnet(ip, '2001:db8::/32') as doc, isIpInSubnet(ip, '::ffff:10.0.0.0/104') as mapped"
    )
    for sample, row in zip(samples, rows, strict=True):
        try:
            address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(
                sample
            )
        except ValueError:
            address = None
        v4 = isinstance(address, ipaddress.IPv4Address)
        v6 = isinstance(address, ipaddress.IPv6Address)
        expected = {
            "any": address is not None, "v4": v4, "v6": v6,
            "lan": v4 and address in ipaddress.ip_network("192.168.0.0/16"),
            "ten": v4 and address in ipaddress.ip_network("10.0.0.0/8"),
            "doc": v6 and address in ipaddress.ip_network("2001:db8::/32"),
            "mapped": v6 and address in ipaddress.ip_network("::ffff:10.0.0.0/104"),
        }  # fmt: skip
        got = {k: row[k] == "true" for k in expected}
        assert got == expected, sample


def test_aggregations_against_python() -> None:
    values = [7, 1, 13, 2, 8, 5, 3, 21, 1, 34, 9]
    events = Events([{"n": v, "s": f"v{v}"} for v in values] + [{"s": "none"}])
    row = events.query(
        "stats avg(n) as a, sum(n) as t, count(n) as c, count(*) as all, count_distinct(n) as d, "
        "min(n) as lo, max(n) as hi, stddev(n) as sd, pct(n, 50) as p50, pct(n, 90) as p90, "
        "pct(n, 0) as p0, earliest(n) as first, latest(s) as last, sortsFirst(s) as sf, sortsLast(s) as sl"
    )[0]
    ordered = sorted(values)

    def nearest_rank(p: float) -> int:
        return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]

    assert row == {
        "a": repr(sum(values) / len(values)), "t": str(sum(values)), "c": "11", "all": "12", "d": "10",
        "lo": "1", "hi": "34", "sd": repr(statistics.stdev(values)), "p50": str(nearest_rank(50)),
        "p90": str(nearest_rank(90)), "p0": "1", "first": "7", "last": "none", "sf": "none", "sl": "v34",
    }  # fmt: skip


def test_min_max_numeric_over_text_else_textual() -> None:
    events = Events([{"n": "9"}, {"n": "10"}, {"n": "abc"}, {"w": "b"}, {"w": "a"}])
    assert events.query("stats min(n) as lo, max(n) as hi, min(w) as wl, max(w) as wh") == [
        {"lo": "9", "hi": "10", "wl": "a", "wh": "b"}
    ]


DOC_ORDER = [
    "!:",
    "#",
    "*%04",
    "0#",
    "5A",
    "111A",
    "2345_",
    "@",
    "@_",
    "A",
    "A9876fghj",
    "a12345hfh",
    "0",
]


def test_natural_sort_matches_the_documented_example() -> None:
    shuffled = DOC_ORDER[5:] + DOC_ORDER[:5]
    events = Events([{"v": v} for v in shuffled])
    assert events.values("fields v | sort v asc", "v") == DOC_ORDER
    assert events.values("fields v | sort v desc", "v") == DOC_ORDER[::-1]
    assert events.query("stats sortsFirst(v) as f, sortsLast(v) as l") == [{"f": "!:", "l": "0"}]


def test_numbers_sort_numerically_after_text() -> None:
    events = Events([{"v": v} for v in ["10", "9", "x2", "x10", "-3", "2.5"]])
    assert events.values("fields v | sort v", "v") == ["x2", "x10", "-3", "2.5", "9", "10"]


def test_render_formats() -> None:
    events = Events([{"n": 1}, {"n": 2}])
    assert events.query("stats avg(n) as a, sum(n) as s, max(@timestamp) as t") == [
        {"a": "1.5", "s": "3", "t": "2023-11-14 22:13:21.000"}
    ]


def test_natural_sort_compares_run_by_run() -> None:
    events = Events([{"v": v} for v in ["Jul  1 b", "Jul 10 a", "ab1", "ab", "a b"]])
    assert events.values("fields v | sort v", "v") == ["Jul 10 a", "Jul  1 b", "a b", "ab", "ab1"]


def test_regex_features_of_re2() -> None:
    events = Events([{"m": "Ünïcode line\n"}, {"m": "ascii only"}])
    assert events.values("filter m like /^\\p{Lu}/ | fields m", "m") == ["Ünïcode line\n"]
    assert events.values("filter m like /line\\Z/ | fields m", "m") == ["Ünïcode line\n"]
    assert events.values("filter m like /[[:digit:]]/ | fields m", "m") == []


@pytest.mark.parametrize(
    "pattern", ["(?=a)b", "(?<!a)b", "(a)\\1", "(?P<x>a)(?P=x)", "(?>a)", "a++"]
)
def test_regex_features_re2_lacks_are_refused(pattern: str) -> None:
    with pytest.raises(UnsupportedQueryError):
        Events(["x"]).query(f"filter @message like /{pattern}/")


def test_arithmetic_is_in_doubles_without_overflow() -> None:
    row = Events(["x"]).query(
        "fields 0.1 + 0.2 as a, 100000 * 100000 as b, 2147483647 + 1 as c, @timestamp * 1000 as d "
        "| display a, b, c, d"
    )[0]
    assert row == {
        "a": "0.30000000000000004",
        "b": "10000000000",
        "c": "2147483648",
        "d": "1700000000000000",
    }


def test_render_timestamps_before_the_epoch_and_far_ahead() -> None:
    from batchyard.logs.insights.render import format_timestamp

    assert format_timestamp(-1) == "1969-12-31 23:59:59.999"
    assert format_timestamp(0) == "1970-01-01 00:00:00.000"
    assert format_timestamp(1_700_000_000_123) == "2023-11-14 22:13:20.123"
