"""`counting_ints`: ints that count the comparisons an answer makes on them, and stop it past a
budget (`OverBudget`, `over_budget`); `PAST_INT64`, for numpy's comparisons to be counted too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class OverBudget(BaseException):
    """Stops an answer past its comparison budget (see `counting_ints`): a BaseException, so
    that neither `call` nor an `except Exception` in the answer takes it for the answer's own
    error."""


def counting_ints(values: Any, budget: int) -> list[int]:
    """`values` as ints that count the order comparisons (<, <=, >, >=) made on them, also after
    a negation (a heap of -x). The comparison past `budget` raises `OverBudget`, so an answer
    that compares too much is stopped as soon as that is known: exact where timing cannot tell
    a log factor from a busy machine, and immediate where an O(n^2) answer would run on."""
    made = 0

    def counting(name: str) -> Callable[[int, Any], Any]:
        compare = getattr(int, name)

        def method(self: int, other: Any) -> Any:
            nonlocal made
            made += 1
            if made > budget:
                raise OverBudget
            return compare(self, other)

        return method

    methods: dict[str, Any] = {
        name: counting(name) for name in ("__lt__", "__le__", "__gt__", "__ge__")
    }
    methods["__neg__"] = lambda self: counted(int.__neg__(self))
    methods["spent"] = staticmethod(lambda: made > budget)  # (see `over_budget`)
    counted: type[int] = type("CountedInt", (int,), methods)
    return [counted(value) for value in values]


def over_budget(values: list[int]) -> bool:
    """Whether the comparisons made on `values` (from `counting_ints`) went past its budget.
    A checker asks once the answer has returned: one that catches everything (a bare
    `except:` around a comparison) swallowed the `OverBudget` and returned as if within it,
    and an O(n^2) answer passed the count."""
    return bool(values) and type(values[0]).spent()  # type: ignore[attr-defined]


PAST_INT64 = 2**64
"""Where `counting_ints` values start for numpy's comparisons to be counted too: np.asarray
makes int64 of smaller ints, whose comparisons in C no one sees (numpy's max of every window,
O(n k), passed for O(n)), but keeps larger ones as the Python ints they are (dtype object).
Ask for such values in a case of their own first, with PAST_INT64_HINT: an answer that casts
them to int64 raises OverflowError, one that makes floats of them gets them rounded."""

PAST_INT64_HINT = (
    "nums holds Python ints, here beyond 64 bits: numpy's int64 cannot hold them and a float "
    "rounds them; compare the ints themselves"
)
