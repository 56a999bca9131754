"""Calling the learner's function: `call` (an exception it raises, or a result on another device
than its inputs, a failure naming the call) and `hinted` (a hint added to a failure)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .devices import expect_inputs_device
from .failures import ANSWERS_ASSERT, RAISED, CheckFailure, OutOfTime, answers_message, message_of


def call(impl: Callable, what: str, *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function, turning an exception it raises into a named failure.

    `NotImplementedError` (the starter) and any other exception become an `AssertionError`
    naming the call, so the learner sees which input broke their code. A tensor returned on
    another device than the tensor inputs' (a CPU tensor for CUDA inputs) fails too
    (`expect_inputs_device`).
    """
    result = _called(impl, what, *args, **kwargs)
    expect_inputs_device(what, (*args, *kwargs.values()), result)
    return result


def _called(impl: Callable, what: str, *args: Any, **kwargs: Any) -> Any:
    try:
        return impl(*args, **kwargs)
    except OutOfTime as exc:  # the innermost call names the input it was stuck on
        exc.what = exc.what or what
        raise
    except CheckFailure:
        raise
    except AssertionError as exc:  # the learner's own `assert`: which input tripped it
        said = answers_message(exc)
        said = f": {said}" if said else ""
        raise CheckFailure(f"{what}: {ANSWERS_ASSERT}{said}") from exc
    except NotImplementedError:
        raise CheckFailure(
            f"{what}: not implemented yet (the starter raises NotImplementedError)"
        ) from None
    except Exception as exc:
        raise CheckFailure(f"{what}{RAISED}{type(exc).__name__}: {answers_message(exc)}") from exc


@contextmanager
def hinted(hint: str, when: str = "") -> Iterator[None]:
    """Add `hint` to a failure in the block (what `call` or `expect` raised), on its own line;
    with `when`, only to a failure whose message holds it (an OverflowError, say).

        with hinted("n! overflows a float beyond n = 170: use math.comb", when="OverflowError"):
            got = call(impl, what, n, k)
    """
    try:
        yield
    except AssertionError as exc:
        said = message_of(exc)
        if not hint or when not in said:
            raise
        raise CheckFailure(f"{said}\n  hint: {hint}") from None
