"""The errors the Insights compiler raises; every one carries where it happened."""

from __future__ import annotations


class MalformedQueryException(Exception):
    """The query text is not valid Logs Insights QL.

    Named like the AWS error code (``MalformedQueryException``) so the API layer can map it
    one-to-one.  ``line`` and ``column`` are 1-based and always point inside the query text
    (or just past its end for "unexpected end of query"); ``text`` is the offending token.
    """

    def __init__(self, reason: str, *, line: int, column: int, text: str) -> None:
        self.reason = reason
        self.line = line
        self.column = column
        self.text = text
        shown = text if text else "<end of query>"
        super().__init__(f"{reason} at line {line}, column {column}: {shown!r}")


class UnsupportedQueryError(Exception):
    """A valid command or function that batchyard does not run (no sound implementation)."""

    def __init__(self, command: str, reason: str) -> None:
        self.command = command
        self.reason = reason
        super().__init__(f"{command}: {reason}")
