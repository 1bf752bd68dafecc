"""IP address functions, in plain SQL (DuckDB's inet extension is not assumed to be installed).

Validity follows RFC 3986's grammar (IPv4 without leading zeros, IPv6 with ``::`` compression and
an embedded IPv4 tail), the same as Python's :mod:`ipaddress`.  Subnets must be string literals;
they are parsed at compile time, so the per-row work is a regex test and integer/bit-string
comparisons.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from . import ast
from .errors import UnsupportedQueryError
from .spec import FunctionSpec
from .values import Kind, Sql, as_str, literal

if TYPE_CHECKING:
    from .expressions import ExprCompiler

_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
V4 = rf"{_OCTET}(\.{_OCTET}){{3}}"
_H16 = "[0-9a-fA-F]{1,4}"
_LS32 = f"({_H16}:{_H16}|{V4})"


def _ipv6_regex() -> str:
    def rep(n: int) -> str:
        return f"({_H16}:){{{n}}}" if n else ""

    def head(n: int) -> str:  # [ *n( h16 ":" ) h16 ]
        return f"(({_H16}:){{0,{n}}}{_H16})?"

    forms = [f"{rep(6)}{_LS32}", f"::{rep(5)}{_LS32}", f"({_H16})?::{rep(4)}{_LS32}"]
    forms += [f"{head(k)}::{rep(3 - k)}{_LS32}" for k in (1, 2, 3)]
    forms += [f"{head(4)}::{_LS32}", f"{head(5)}::{_H16}", f"{head(6)}::"]
    return "(" + "|".join(f"({f})" for f in forms) + ")"


V6 = _ipv6_regex()


def _valid(pattern: str, value: Sql) -> str:
    return f"coalesce(regexp_full_match({value}, '{pattern}'), false)"


def _v4_int(value: str) -> str:
    return " + ".join(
        f"(TRY_CAST(split_part({value}, '.', {i + 1}) AS BIGINT) << {24 - 8 * i})" for i in range(4)
    )


def _v6_bits(value: str) -> str:
    """128-character bit string of a valid IPv6 address (``a`` is bound once via a lambda)."""
    tail = "regexp_extract(a, '([0-9.]+)$', 1)"
    octet = [f"TRY_CAST(split_part({tail}, '.', {i}) AS INTEGER)" for i in range(1, 5)]
    hexed = (
        f"CASE WHEN contains(a, '.') THEN regexp_extract(a, '^(.*:)', 1) || "
        f"printf('%x:%x', {octet[0]} * 256 + {octet[1]}, {octet[2]} * 256 + {octet[3]}) ELSE a END"
    )
    groups = (
        "CASE WHEN contains(h, '::') THEN list_concat("
        "CASE WHEN split_part(h, '::', 1) = '' THEN [] ELSE string_split(split_part(h, '::', 1), ':') END, "
        "list_transform(range(8 - length(string_split(replace(h, '::', ':'), ':')) + "
        "(CASE WHEN starts_with(h, '::') THEN 1 ELSE 0 END) + (CASE WHEN ends_with(h, '::') THEN 1 ELSE 0 END)), "
        "lambda i: '0'), "
        "CASE WHEN split_part(h, '::', 2) = '' THEN [] ELSE string_split(split_part(h, '::', 2), ':') END) "
        "ELSE string_split(h, ':') END"
    )
    bits = (
        f"array_to_string(list_transform({groups}, "
        "lambda g: lpad(bin(TRY_CAST('0x' || g AS INTEGER)), 16, '0')), '')"
    )
    return f"list_transform([{value}], lambda a: list_transform([{hexed}], lambda h: {bits})[1])[1]"


def _subnet(c: ExprCompiler, node: ast.Expr) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if not isinstance(node, ast.String):
        raise UnsupportedQueryError("isIpInSubnet", "the subnet must be a string literal")
    try:
        return ipaddress.ip_network(node.value, strict=False)
    except ValueError:
        raise c.error(node, "invalid subnet") from None


def _in_v4(value: Sql, net: ipaddress.IPv4Network) -> str:
    shift = 32 - net.prefixlen
    network = int(net.network_address) >> shift
    return f"({_valid(V4, value)} AND (({_v4_int(value.text)}) >> {shift}) = {network})"


def _in_v6(value: Sql, net: ipaddress.IPv6Network) -> str:
    prefix = format(int(net.network_address), "0128b")[: net.prefixlen]
    check = f"left({_v6_bits(value.text)}, {net.prefixlen}) = {literal(prefix)}"
    return f"({_valid(V6, value)} AND coalesce({check}, false))"


def _in_subnet(version: int | None) -> FunctionSpec:
    def compile(c: ExprCompiler, call: ast.Call) -> Sql:
        value = as_str(c.compile(call.args[0]))
        net = _subnet(c, call.args[1])
        if version is not None and net.version != version:
            return Sql("false", Kind.BOOL)
        if isinstance(net, ipaddress.IPv4Network):
            return Sql(_in_v4(value, net), Kind.BOOL)
        return Sql(_in_v6(value, net), Kind.BOOL)

    return FunctionSpec(2, 2, compile)


def _is_valid(*patterns: str) -> FunctionSpec:
    def compile(c: ExprCompiler, call: ast.Call) -> Sql:
        value = as_str(c.compile(call.args[0]))
        return Sql("(" + " OR ".join(_valid(p, value) for p in patterns) + ")", Kind.BOOL)

    return FunctionSpec(1, 1, compile)


IP_FUNCTIONS: dict[str, FunctionSpec] = {
    "isvalidip": _is_valid(V4, V6),
    "isvalidipv4": _is_valid(V4),
    "isvalidipv6": _is_valid(V6),
    "isipinsubnet": _in_subnet(None),
    "isipv4insubnet": _in_subnet(4),
    "isipv6insubnet": _in_subnet(6),
}
