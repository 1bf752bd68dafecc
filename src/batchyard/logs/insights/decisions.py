"""Where the AWS documentation is silent, batchyard decided — one list for the docs to cite.

Each entry is ``(topic, decision)``; the module named in brackets implements it.  The first
group are the decisions of GitHub issue #3, the rest were taken while building the compiler.
"""

from __future__ import annotations

DECISIONS: tuple[tuple[str, str], ...] = (
    # -- issue #3 ------------------------------------------------------------------------------
    ("parse glob", "Each `*` stops at the first occurrence of the text that follows it; a "
     "trailing `*` takes the rest (newlines included); the pattern may match anywhere in the "
     "value; events that do not match keep flowing without the new fields. [regex]"),
    ("pct", "Nearest-rank percentile: the value at rank ceil(p/100 * n) of the sorted values. [aggregates]"),
    ("stddev", "Sample standard deviation (n - 1). [aggregates]"),
    ("min/max", "Over text values, compare numerically when any value reads as a number (the "
     "others are ignored) and return its original text; otherwise compare as text. [aggregates]"),
    ("unnest", "An empty list, or a missing field, gives no rows; a non-list value is a "
     "one-item list. [generator]"),
    ("precedence", "`^` (right-associative) > unary `-` > `* / %` > `+ -` > comparisons, "
     "`like`, `=~`, `in` > `not` > `and` > `or`. [parser]"),
    ("arithmetic", "Computed in doubles, like the documentation's numbers: `/` is float "
     "division, `0.1 + 0.2` is 0.30000000000000004, integers never overflow; dividing by zero "
     "gives a missing value. [expressions]"),
    ("time", "Timestamp arithmetic is in milliseconds; fixed-length bins (ms to weeks) align "
     "to the Unix epoch in UTC (weeks start on Thursday); months, quarters and years align to "
     "calendar boundaries in UTC. [datetimes]"),
    ("column names", "Unaliased columns are named by the expression's source text, as written "
     "(`count(*)`, `bin(5m)`), and later commands may refer to them by that text. [parser]"),
    ("sort", "Natural order of the Sort page, compared run by run (a non-digit run that is a "
     "prefix of another sorts first); values shaped like JSON numbers (`-1`, `2.5`) "
     "count as numbers and sort numerically after all other values; missing values sort last "
     "in both directions. [natural]"),
    # -- compiler ------------------------------------------------------------------------------
    ("missing fields", "A field that does not exist is missing (NULL), never an error. "
     "Comparisons with a missing operand are not true; the explicit negations `not like`, "
     "`not in` and `not (...)` treat a missing operand as not matching, so they keep the "
     "event. [expressions]"),
    ("coercion", "Text that reads as a number is a number in arithmetic, aggregates and "
     "comparisons with numbers; text compared with a string literal compares as text; two "
     "text fields compare numerically when both read as numbers. [expressions]"),
    ("output columns", "Without fields/stats/display: @timestamp, @message, then fields created "
     "by parse/unnest/lookup. Each `fields` adds its fields. `stats` shows its by-fields then "
     "its aggregates until a later `fields` chooses anew. The last `display` wins. [generator]"),
    ("default order", "Without `sort`: events newest first (@timestamp desc, as `dedup` "
     "assumes); stats rows in plain (code point or numeric) order of their by-fields. [generator]"),
    ("stats on nothing", "`stats` without `by` over no events returns no row. [generator]"),
    ("pipeline", "At most two `stats` per query; only `limit` may follow `dedup`. [parser]"),
    ("recordsMatched", "Events that pass the event-level stages before the first `stats`; "
     "`limit` and `dedup` do not reduce it. [generator]"),
    ("earliest/latest", "The value from the earliest/latest event that has the field. [aggregates]"),
    ("count", "`count(f)` counts events where f is present; `count_distinct` is exact. [aggregates]"),
    ("strings", "`concat` treats a missing argument as empty text; `log`/`sqrt` outside their "
     "domain give a missing value; `trim` functions without a second argument strip all "
     "whitespace. [functions]"),
    ("now()", "The query's start time in epoch seconds. [datetimes]"),
    ("IP functions", "RFC 3986 address grammar (as Python's ipaddress); the subnet must be a "
     "string literal. [ip]"),
    ("regex", "Run by RE2: `(?<name>...)` becomes `(?P<name>...)`; lookaround, backreferences, "
     "atomic groups and possessive quantifiers are rejected (UnsupportedQueryError). [regex]"),
    ("unsupported", "`pattern`, `anomaly`, `diff`, `logcompare`, `join`, `addtotals`, `tail` "
     "and subqueries raise UnsupportedQueryError naming the command; `filterIndex` runs as "
     "`filter`; `head` is `limit`; `unmask` returns the value (nothing is masked). [commands]"),
    ("presentation", "Whole numbers print without a fraction, others in the shortest form "
     "that reads back to the same double; timestamps as `YYYY-MM-DD HH:MM:SS.mmm` UTC; "
     "booleans as true/false; missing values are left out of the row. [render]"),
)  # fmt: skip
