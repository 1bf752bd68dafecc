"""Recursive-descent parser: tokens → :class:`ast.Query`.

Commands are dispatched through :data:`commands.COMMANDS` (keyword → parse function); this
module holds the expression grammar shared by all of them.  Precedence, lowest first:
``or`` < ``and`` < ``not`` < comparison / ``like`` / ``=~`` / ``in`` < ``+ -`` < ``* / %`` <
``^`` (right-associative) < unary ``-`` < call / index.
"""

from __future__ import annotations

from collections.abc import Callable

from . import ast
from .errors import MalformedQueryException
from .tokens import CALENDAR_UNITS_MONTHS, FIXED_UNITS_MS, T, Token, position, tokenize

COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})
# Words that end an expression inside a command (never read as field names there).
CLAUSE_WORDS = frozenset({"as", "by", "asc", "desc", "into", "output"})


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- token helpers ----------------------------------------------------------------------
    @property
    def peek(self) -> Token:
        return self.tokens[self.i]

    def at(self, type_: T) -> bool:
        return self.peek.type is type_

    def peek_at(self, ahead: int) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        if tok.type is not T.EOF:
            self.i += 1
        return tok

    def error(self, expecting: str, tok: Token | None = None) -> MalformedQueryException:
        tok = tok or self.peek
        shown = self.text[tok.start : tok.end]
        if tok.type is T.EOF:
            reason = f"unexpected end of query, expecting {expecting}"
        else:
            reason = f"mismatched input '{shown}' expecting {expecting}"
        line, col = position(self.text, tok.start)
        return MalformedQueryException(reason, line=line, column=col, text=shown)

    def expect(self, type_: T, what: str | None = None) -> Token:
        if self.peek.type is not type_:
            raise self.error(what or f"'{type_.value}'")
        return self.next()

    def accept_keyword(self, *words: str) -> Token | None:
        if self.peek.is_keyword(*words):
            return self.next()
        return None

    def expect_keyword(self, word: str) -> Token:
        tok = self.accept_keyword(word)
        if tok is None:
            raise self.error(f"'{word}'")
        return tok

    def field_name(self, what: str = "a field name") -> Token:
        tok = self.peek
        if tok.type is not T.IDENT or (not tok.quoted and tok.value.lower() in CLAUSE_WORDS):
            raise self.error(what)
        return self.next()

    def node_text(self, start: int) -> str:
        """Source text from ``start`` to the end of the last consumed token."""
        return self.text[start : self.tokens[self.i - 1].end]

    # -- query ------------------------------------------------------------------------------
    def parse_query(self) -> ast.Query:
        from .commands import COMMANDS, parse_source

        query = ast.Query(text=self.text)
        if self.peek.is_keyword("source"):
            query.source = parse_source(self)
            if self.peek.type is not T.EOF:
                self.expect(T.PIPE, "'|'")
        expect_command = True
        while self.peek.type is not T.EOF:
            if not expect_command:
                self.expect(T.PIPE, "'|'")
            tok = self.peek
            if tok.type is not T.IDENT or tok.quoted or tok.value.lower() not in COMMANDS:
                raise self.error("a command (fields, filter, stats, sort, limit, parse, ...)")
            self.next()
            query.commands.append(COMMANDS[tok.value.lower()](self, tok))
            expect_command = False
        if expect_command and query.source is None:
            raise self.error("a command (fields, filter, stats, sort, limit, parse, ...)")
        self.check_pipeline(query)
        return query

    def check_pipeline(self, query: ast.Query) -> None:
        """Rules of the command sequence: at most two ``stats`` (the second aggregates the
        first's rows), and only ``limit`` may follow ``dedup``."""
        stats = 0
        after_dedup = False
        for cmd in query.commands:
            if after_dedup and not isinstance(cmd, ast.Limit):
                raise self.command_error(cmd, "only 'limit' may follow 'dedup'")
            if isinstance(cmd, ast.Stats):
                stats += 1
                if stats > 2:
                    raise self.command_error(
                        cmd, "a query may contain at most two 'stats' commands"
                    )
            after_dedup = after_dedup or isinstance(cmd, ast.Dedup)

    def command_error(self, cmd: ast.Command, reason: str) -> MalformedQueryException:
        line, col = position(self.text, cmd.start)
        return MalformedQueryException(reason, line=line, column=col, text=cmd.keyword)

    # -- expressions ------------------------------------------------------------------------
    def projection_list(self, *, allow_alias: bool = True) -> tuple[ast.Projection, ...]:
        items = [self.projection(allow_alias=allow_alias)]
        while self.peek.type is T.COMMA:
            self.next()
            items.append(self.projection(allow_alias=allow_alias))
        return tuple(items)

    def projection(self, *, allow_alias: bool = True) -> ast.Projection:
        expr = self.expression()
        alias = None
        if allow_alias and self.accept_keyword("as"):
            alias = self.field_name("an alias").value
        return ast.Projection(expr, alias)

    def expression(self) -> ast.Expr:
        return self._or()

    def _binary_chain(self, words: tuple[str, ...], operand: Callable[[], ast.Expr]) -> ast.Expr:
        start = self.peek.start
        left = operand()
        while self.peek.is_keyword(*words):
            op = self.next().value.lower()
            right = operand()
            left = ast.Binary(self.node_text(start), start, op, left, right)
        return left

    def _or(self) -> ast.Expr:
        return self._binary_chain(("or",), self._and)

    def _and(self) -> ast.Expr:
        return self._binary_chain(("and",), self._not)

    def _not(self) -> ast.Expr:
        if self.peek.is_keyword("not"):
            start = self.next().start
            operand = self._not()
            return ast.Unary(self.node_text(start), start, "not", operand)
        return self._comparison()

    def _comparison(self) -> ast.Expr:
        start = self.peek.start
        left = self._additive()
        tok = self.peek
        negated = False
        if tok.is_keyword("not") and self.peek_at(1).is_keyword("like", "in"):
            self.next()
            tok = self.peek
            negated = True
        if tok.type is T.OP and tok.value in COMPARISONS:
            self.next()
            right = self._additive()
            return ast.Binary(self.node_text(start), start, tok.value, left, right)
        if (tok.type is T.OP and tok.value == "=~") or tok.is_keyword("like"):
            self.next()
            pattern = self._additive()
            return ast.Like(self.node_text(start), start, left, pattern, negated)
        if tok.is_keyword("in"):
            self.next()
            items = self._in_list()
            return ast.In(self.node_text(start), start, left, items, negated)
        return left

    def _in_list(self) -> tuple[ast.Expr, ...]:
        if self.peek.type is T.LPAREN and self.peek_at(1).is_keyword("source"):
            from .errors import UnsupportedQueryError

            raise UnsupportedQueryError(
                "subquery", "subqueries (in (SOURCE ...)) are not supported"
            )
        self.expect(T.LBRACKET, "'['")
        items: list[ast.Expr] = []
        if self.peek.type is not T.RBRACKET:
            items.append(self.expression())
            while self.peek.type is T.COMMA:
                self.next()
                items.append(self.expression())
        self.expect(T.RBRACKET, "']'")
        return tuple(items)

    def _arith(self, ops: tuple[str, ...], operand: Callable[[], ast.Expr]) -> ast.Expr:
        start = self.peek.start
        left = operand()
        while self.peek.type is T.OP and self.peek.value in ops:
            op = self.next().value
            right = operand()
            left = ast.Binary(self.node_text(start), start, op, left, right)
        return left

    def _additive(self) -> ast.Expr:
        return self._arith(("+", "-"), self._multiplicative)

    def _multiplicative(self) -> ast.Expr:
        return self._arith(("*", "/", "%"), self._power)

    def _power(self) -> ast.Expr:
        start = self.peek.start
        base = self._unary()
        if self.peek.type is T.OP and self.peek.value == "^":
            self.next()
            exponent = self._power()  # right-associative: 2 ^ 3 ^ 2 = 2 ^ 9
            return ast.Binary(self.node_text(start), start, "^", base, exponent)
        return base

    def _unary(self) -> ast.Expr:
        if self.peek.type is T.OP and self.peek.value in ("-", "+"):
            tok = self.next()
            operand = self._unary()
            if tok.value == "+":
                return operand
            return ast.Unary(self.node_text(tok.start), tok.start, "-", operand)
        return self._postfix()

    def _postfix(self) -> ast.Expr:
        start = self.peek.start
        expr = self._primary()
        while self.peek.type is T.LBRACKET:
            self.next()
            index = self.expression()
            self.expect(T.RBRACKET, "']'")
            expr = ast.Index(self.node_text(start), start, expr, index)
        return expr

    def _primary(self) -> ast.Expr:
        tok = self.peek
        if tok.type is T.LPAREN:
            self.next()
            inner = self.expression()
            self.expect(T.RPAREN, "')'")
            return inner
        if tok.type is T.STRING:
            self.next()
            return ast.String(self.node_text(tok.start), tok.start, tok.value)
        if tok.type is T.REGEX:
            self.next()
            return ast.Regex(self.node_text(tok.start), tok.start, tok.value)
        if tok.type is T.NUMBER:
            self.next()
            is_int = "." not in tok.value
            return ast.Number(tok.value, tok.start, float(tok.value), is_int)
        if tok.type is T.PERIOD:
            self.next()
            return _period(tok, self.node_text(tok.start))
        if tok.type is T.LBRACKET:
            self.next()
            items: list[ast.Expr] = []
            if self.peek.type is not T.RBRACKET:
                items.append(self.expression())
                while self.peek.type is T.COMMA:
                    self.next()
                    items.append(self.expression())
            self.expect(T.RBRACKET, "']'")
            return ast.ListLit(self.node_text(tok.start), tok.start, tuple(items))
        if tok.type is T.IDENT and not (
            not tok.quoted
            and tok.value.lower() in CLAUSE_WORDS | {"and", "or", "not", "like", "in"}
        ):
            self.next()
            if not tok.quoted and self.peek.type is T.LPAREN:
                return self._call(tok)
            return ast.Field(self.node_text(tok.start), tok.start, tok.value, tok.parts)
        raise self.error("an expression")

    def _call(self, name: Token) -> ast.Call:
        self.expect(T.LPAREN)
        if self.peek.type is T.OP and self.peek.value == "*" and self.peek_at(1).type is T.RPAREN:
            self.next()
            self.next()
            return ast.Call(self.node_text(name.start), name.start, name.value, (), star=True)
        args: list[ast.Expr] = []
        if self.peek.type is not T.RPAREN:
            args.append(self.expression())
            while self.peek.type is T.COMMA:
                self.next()
                args.append(self.expression())
        self.expect(T.RPAREN, "')' or ','")
        return ast.Call(self.node_text(name.start), name.start, name.value, tuple(args))


def _period(tok: Token, text: str) -> ast.Period:
    digits = "".join(c for c in tok.value if c.isdigit())
    unit = tok.value[len(digits) :]
    amount = int(digits)
    if unit in FIXED_UNITS_MS:
        return ast.Period(text, tok.start, millis=amount * FIXED_UNITS_MS[unit])
    return ast.Period(text, tok.start, months=amount * CALENDAR_UNITS_MONTHS[unit])


def parse(text: str) -> ast.Query:
    """Parse a Logs Insights query; raises :class:`MalformedQueryException` on bad input."""
    parser = Parser(text)
    try:
        return parser.parse_query()
    except RecursionError:
        raise parser.error("a less deeply nested expression") from None
