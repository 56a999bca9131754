"""A checker's failure message read as its parts: the call, where in its output the answer
went wrong, the expected and the actual value (`failing_case`, for the outcome's table)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from studycli.assertions import ANSWERS_ASSERT, RAISED

_EXPECTED_GOT = re.compile(
    r"expected (?P<expected>.+?),? got (?P<actual>.+?)"
    r"(?: \((?P<detail>\d+ of \d+ values off[^)]*)\))?$"
)


@dataclass(frozen=True)
class FailingCase:
    """A checker's message split into the call, where in its output the answer went wrong (a
    label the checker gave it, an element's index: "" when the whole value is compared), the
    expected and the actual value, and what follows them ("4 of 9 values off; atol=...")."""

    what: str
    expected: str
    actual: str
    where: str = ""
    detail: str = ""


def failing_case(message: str) -> FailingCase | None:
    """Parse "add_one(3): expected 4, got 5" and "f(x): out: at index (1,): expected 0.5, got
    0.25 (1 of 4 values off; atol=1e-05, rtol=1e-05)" (the shapes `assertions` writes); None
    otherwise.

    Only a checker's verdict is a case: the message of an exception the answer raised, or of
    an `assert` of its own, is the learner's text, "expected 3, got 4" as they wrote it.
    Only the first line is the case: the lines after it (the hint `assertions` adds) are not
    part of the actual value, and the outcome view shows them below the case.
    """
    first = message.partition("\n")[0]
    match = _EXPECTED_GOT.search(first)
    if match is None:
        return None
    head = first[: match.start()]
    if RAISED in head or ANSWERS_ASSERT in head:  # the answer's own words follow
        return None
    what, where = _call_and_rest(head)
    if not what:
        return None
    return FailingCase(
        what=what,
        expected=match["expected"].strip(),
        actual=match["actual"].strip(),
        where=where.strip().removesuffix(":").strip(),
        detail=match["detail"] or "",
    )


def _call_and_rest(head: str) -> tuple[str, str]:
    """ "call(a, {'k': 1}): label: " -> the call (up to the first ": " outside brackets, so a
    dict or a slice in the call stays whole) and the rest."""
    depth = 0
    for i, char in enumerate(head):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif char == ":" and depth == 0 and head[i + 1 : i + 2] in (" ", ""):
            return head[:i], head[i + 1 :]
    return "", head
