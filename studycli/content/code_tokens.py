"""A checker's code as the tokens its contract's hash is made of (`contract.checker_code`): what
it does, without what a reader or a formatter changes and leaves the code as it was.

Left out: comments, line breaks within a statement, docstrings and the texts of strings, and
what `ruff format` (which CI requires of the solution modules) adds or takes away as a line
grows or shrinks: a trailing comma where the call, list, set or dict is split one item a line,
and the parentheses it puts around a whole expression too long for its line (a right-hand side,
an argument, a message, a condition). A message reworded past its line's length was laid out
again with both, and the checker flagged for every learner as one that may fail a pass.

Kept, where they change what runs: the comma of a 1-tuple, `(x,)`, and of a tuple index,
`a[i,]`; parentheses that hold a tuple, and those before or after an operator, which group an
operation before another (`(a + b) * c`, `a and (b or c)`). Parentheses are left out only
between the start of a whole expression (`=`, an opening bracket, `,`, `:`, `return`, `assert`,
`if`, `elif`, `while`, `del`, a statement's start) and its end (a closing bracket, `,`, `:`, the
statement's end), where they change nothing.
"""

from __future__ import annotations

import keyword

Token = tuple[str, str]  # (kind, text): kind "op", "str", "end", "indent", "dedent" or "word"

_CLOSING = {"(": ")", "[": "]", "{": "}"}
# what a whole expression follows, and is followed by (see the module's docstring)
_STARTS = {
    *("=", "(", "[", "{", ",", ":", ";", "+=", "-=", "*=", "/=", "//=", "%=", "**=", "@="),
    *("&=", "|=", "^=", ">>=", "<<=", "return", "yield", "assert", "if", "elif", "while"),
    *("del", "with"),
}
_ENDS = {")", "]", "}", ",", ":", ";"}
# what a tuple, whole right-hand side of a statement, follows (`x = (a, b)` is `x = a, b`)
_TUPLE_STARTS = {"=", "+=", "-=", "*=", "/=", "//=", "%=", "**=", "@=", "&=", "|=", "^="}
_TUPLE_STARTS |= {">>=", "<<=", "return", "yield"}
_SHOWN = {"str": '""', "end": ";", "indent": ">", "dedent": "<"}
_EDGE: Token = ("end", "")  # before the first token, after the last: a statement's end


def code_tokens(code: str) -> str:
    """`code`'s tokens, one a line, less what the module's docstring says: a statement's end
    as `;`, an indent and a dedent as `>` and `<`, each string (an f-string with what it
    holds; strings side by side, which are one) as `""`. `code` as it is where it does not
    tokenize. (Tokens alone: a second parse of the code, to find its docstrings, took 5 ms
    more.)"""
    found = _read(code)
    if found is None:
        return code
    tokens = _without_docstrings(found)
    while dropped := _formatting(tokens):  # (`((x))`: a pair a round)
        tokens = [token for at, token in enumerate(tokens) if at not in dropped]
    return "\n".join(_SHOWN.get(kind, text) for kind, text in tokens)


def _read(code: str) -> list[Token] | None:
    """The tokens of `code` that count (see `code_tokens`), or None where it does not
    tokenize."""
    import io
    import tokenize

    skipped = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
    starts = {getattr(tokenize, "FSTRING_START", -1), getattr(tokenize, "TSTRING_START", -1)}
    ends = {getattr(tokenize, "FSTRING_END", -1), getattr(tokenize, "TSTRING_END", -1)}
    kinds = {tokenize.NEWLINE: "end", tokenize.INDENT: "indent", tokenize.DEDENT: "dedent"}
    found: list[Token] = []
    depth = 0  # inside an f-string (Python 3.12 splits it into tokens)
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            depth += (token.type in starts) - (token.type in ends)
            if token.type == tokenize.STRING or (token.type in starts and depth == 1):
                if not found or found[-1][0] != "str":  # ("a" "b": one string)
                    found.append(("str", ""))
            elif not depth and token.type not in skipped and token.type not in ends:
                kind = "op" if token.type == tokenize.OP else kinds.get(token.type, "word")
                found.append((kind, token.string))
    except (tokenize.TokenError, SyntaxError):
        return None
    return found


def _statement_start(token: Token) -> bool:
    """Whether `token` ends a statement, or begins a block: a statement starts after it."""
    return token[0] in ("end", "indent", "dedent") or token == ("op", ";")


def _without_docstrings(found: list[Token]) -> list[Token]:
    """`found` less each string alone between two statements' ends (a docstring)."""
    kept: list[Token] = []
    at = 0
    while at < len(found):
        alone = at + 1 < len(found) and _statement_start(found[at + 1])
        if found[at][0] == "str" and alone and _statement_start(kept[-1] if kept else _EDGE):
            at += 2
            continue
        kept.append(found[at])
        at += 1
    return kept


def _formatting(tokens: list[Token]) -> set[int]:
    """The places in `tokens` of the commas and parentheses a formatter adds or takes away
    without changing the code (see the module's docstring)."""
    pairs, commas, for_in = _brackets(tokens)
    dropped: set[int] = set()
    for opening, closing in pairs.items():
        before = tokens[opening - 1] if opening else _EDGE
        after = tokens[closing + 1] if closing + 1 < len(tokens) else _EDGE
        bracket, count = tokens[opening][1], commas[opening]
        applied = _ends_value(before)  # a call, an index
        listed = before[1] in ("import", "with")  # (names, context managers: no tuple)
        # `(x,)` is a tuple, `a[i,]` a tuple index: their comma stays
        one_tuple = count == 1 and (bracket == "(") != applied and not listed
        if tokens[closing - 1] == ("op", ",") and not one_tuple:
            dropped.add(closing - 1)
        loop = (opening - 1 in for_in, closing + 1 in for_in)
        grouping = bracket == "(" and closing > opening + 1 and not applied  # not `()`
        if grouping and _layout(before, after, count, loop):
            dropped |= {opening, closing}
    return dropped


def _brackets(tokens: list[Token]) -> tuple[dict[int, int], dict[int, int], set[int]]:
    """The places of `tokens`' brackets, each opening's with its closing's; the commas of
    each opening bracket (its own, not those of the brackets in it); and the places of the
    `in` of each `for` (a loop's, or a comprehension's: not a test `x in y`)."""
    pairs: dict[int, int] = {}
    commas: dict[int, int] = {}
    open_at: list[int] = []
    loops: set[int] = set()  # the bracket depths of each `for` not yet given its `in`
    for_in: set[int] = set()
    for at, (kind, text) in enumerate(tokens):
        if kind == "word" and text == "for":
            loops.add(len(open_at))
        elif kind == "word" and text == "in" and len(open_at) in loops:
            loops.discard(len(open_at))  # (`x in y` within a target's brackets is deeper)
            for_in.add(at)
        elif kind == "op" and text in _CLOSING:
            open_at.append(at)
            commas[at] = 0
        elif kind == "op" and open_at and text == _CLOSING[tokens[open_at[-1]][1]]:
            pairs[open_at.pop()] = at
        elif kind == "op" and open_at and text == ",":
            commas[open_at[-1]] += 1
    return pairs, commas, for_in


def _layout(before: Token, after: Token, count: int, loop: tuple[bool, bool]) -> bool:
    """Whether parentheses between `before` and `after`, with `count` commas of their own,
    are layout alone. `loop`: whether they follow a loop's `in` (its iterable), and whether
    they come before it (its targets, after its `for`)."""
    first, then = before[1], after[1]
    if first in ("import", "with"):  # `from m import (a, b)`, `with (a, b):`
        return first == "import" or then == ":"
    if then == "=" and (first == "=" or _statement_start(before)):
        return True  # an assignment's targets, `(a, b) = c`
    if loop[0]:  # then `:` (a statement), or the comprehension goes on
        return then == ":" or (count == 0 and (then in _ENDS or then in ("if", "for")))
    if loop[1]:
        return first == "for"
    ends = _statement_start(after)
    if count == 0:  # a whole expression
        return _starts_whole(before) and (ends or then in _ENDS)
    return ends and first in _TUPLE_STARTS  # a tuple, a statement's whole right-hand side


def _ends_value(token: Token) -> bool:
    """Whether `token` ends a value, so that a bracket after it calls or indexes it."""
    kind, text = token
    if kind == "op":
        return text in (")", "]", "}")
    if kind == "word":
        return not keyword.iskeyword(text) or text in ("None", "True", "False")
    return kind == "str"


def _starts_whole(token: Token) -> bool:
    """Whether a whole expression may follow `token` (see the module's docstring)."""
    return _statement_start(token) or token[1] in _STARTS
