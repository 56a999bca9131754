"""Dynamic loss scaling for mixed-precision training (the rule of torch.amp.GradScaler):
the reference, its checker and typical mistakes."""

import math

import numpy as np

from studycli.assertions import (
    ITEM_HINT,
    as_int,
    assert_close,
    assert_equal,
    call,
    describe,
    expect,
    expect_pair,
    fails_with,
)

FLOAT32_MAX = float(np.finfo(np.float32).max)  # about 3.4028e38


def update_scale(
    scale: float,
    found_inf: bool,
    growth_tracker: int,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
    growth_interval: int = 2000,
) -> tuple[float, int]:
    """One update of a dynamic loss scale after an optimizer step, as
    torch.amp.GradScaler.update does (the rule is stated in the card's
    prompt).

    Args:
        scale: the current loss scale (e.g. 65536.0); GradScaler keeps it
            in float32.
        found_inf: whether the unscaled gradients of this step contained
            inf or nan.
        growth_tracker: successful steps in a row so far,
            0 <= growth_tracker < growth_interval.
        growth_factor, backoff_factor, growth_interval: GradScaler's
            hyperparameters.

    Returns:
        (new_scale, new_growth_tracker): a Python float and int (the
        .item() of a 0-d tensor, where one holds them).
    """
    # Overflow: the step was skipped; back off and restart the count. Otherwise count this
    # step, and grow on the growth_interval-th good step in a row unless the grown scale would
    # not be a finite float32.
    if found_inf:
        return scale * backoff_factor, 0
    successful = growth_tracker + 1
    if successful == growth_interval:
        grown = scale * growth_factor
        return (grown if grown <= FLOAT32_MAX else scale), 0
    return scale, successful


# --- ground truth: GradScaler's rule, simulated in float32 ------------------------------------
# (Not tested: products less than half a float32 step above float32's max. torch's
# _amp_update_scale_ rounds the product to float32, so there it gets the max itself and grows,
# where the rule above, as the card states it, keeps the scale; an answer that rounds first, or
# keeps its scale in a float32 tensor, parts from both for factors such as 1.1. A learner is
# judged on neither: the cases keep clear of that band.)


def _expected(scale, found_inf, tracker, growth, backoff, interval):
    scale = np.float32(scale)
    if found_inf:
        return float(np.float32(scale * np.float32(backoff))), 0
    tracker += 1
    if tracker == interval:
        with np.errstate(over="ignore"):
            grown = np.float32(scale * np.float32(growth))
        return float(grown if np.isfinite(grown) else scale), 0
    return float(scale), tracker


def _unpack(out, what):
    """The answer's pair, a float and an int as the card asks: float() and int() of 0-d
    tensors passed, and an answer that kept both in tensors as GradScaler does (no .item())
    was taken for right. The tracker is read by as_int, as every card's promised int is."""
    scale, tracker = expect_pair(out, ("new_scale", "new_growth_tracker"), what)
    # (np.float64 is a float, and passes; np.float32, GradScaler's own precision kept in numpy,
    # was said to be "array(32768.0, dtype=float32)", with the hint about a tensor's .item())
    expect(
        not isinstance(scale, np.floating) or isinstance(scale, float),
        what,
        f"returned new_scale as np.{type(scale).__name__}({float(scale)!r}), a numpy float, "
        "expected a Python float",
        hint=NUMPY_FLOAT_HINT,
    )
    expect(
        isinstance(scale, (float, int)) and not isinstance(scale, bool),
        what,
        f"returned new_scale as {describe(scale)}, expected a float",
        hint=ITEM_HINT,
    )
    return float(scale), as_int(tracker, what + ": new_growth_tracker")


NUMPY_FLOAT_HINT = (
    "float(...) of a numpy float is the Python float (exactly: a float64 holds every float32 "
    "value), as the card's -> tuple[float, int] asks"
)
_HINT_BACKOFF = "on an inf/nan step the scale is multiplied by backoff_factor (0.5 halves it)"
_HINT_RESET = "the tracker restarts at 0 after an inf step and after each growth"
_HINT_GROWTH = (
    "growth happens on the growth_interval-th successful step in a row: count this step first "
    "(growth_tracker + 1 == growth_interval)"
)
_HINT_CAP = (
    "the scale lives in float32: a grown scale above float32's max (about 3.4028e38) is not "
    "finite there, so the old scale is kept (Python floats are float64 and do not overflow)"
)
_HINT_CAP_EXACT = (
    "a grown scale equal to float32's largest value is finite, so it is taken: compare with "
    "the exact value, torch.finfo(torch.float32).max (or numpy's), not a rounded literal such "
    "as 3.4028e38, and with <=, not <"
)


def _step(impl, state, found_inf, params, what, hint_scale="", hint_tracker=_HINT_RESET):
    scale, tracker = state
    args = (scale, found_inf, tracker) + tuple(params)
    got = _unpack(call(impl, what, *args), what)
    want = _expected(scale, found_inf, tracker, *(params + (2.0, 0.5, 2000)[len(params) :]))
    if not hint_scale:
        hint_scale = _HINT_BACKOFF if found_inf else _HINT_GROWTH
    assert_close(got[0], want[0], what + ": new_scale", atol=0, rtol=1e-5, hint=hint_scale)
    assert_equal(got[1], want[1], what + ": new_growth_tracker", hint=hint_tracker)
    return got


def check_update_scale(impl, device="cpu"):
    # Single calls with the defaults (growth 2, backoff 0.5, interval 2000).
    for args in [
        (65536.0, True, 5),
        (65536.0, False, 0),
        (65536.0, False, 1998),
        (65536.0, False, 1999),
        (1.0, True, 1999),
        (2.0**-10, False, 1999),
        (1e38, False, 1999),
    ]:
        what = f"update_scale{args}"
        _step(impl, args[::2], args[1], (), what)

    # The scale never grows past float32's largest value.
    for scale, growth in [(2.0**127, 2.0), (3e38, 2.0), (1e38, 4.0), (2.0**126, 2.0)]:
        what = f"update_scale({scale:g}, False, 9, growth_factor={growth:g}, growth_interval=10)"
        _step(impl, (scale, 9), False, (growth, 0.5, 10), what, hint_scale=_HINT_CAP)
    # A growth that lands exactly on float32's largest value is finite: it is taken (as
    # torch._amp_update_scale_ does).
    what = f"update_scale({FLOAT32_MAX / 2!r}, False, 1999) (doubled: float32's largest value)"
    _step(impl, (FLOAT32_MAX / 2, 1999), False, (), what, hint_scale=_HINT_CAP_EXACT)

    # Long sequences: the learner's own output is fed back each step.
    rng = np.random.default_rng(0)
    for growth, backoff, interval, p_inf, steps in [
        (2.0, 0.5, 3, 0.2, 120),
        (2.0, 0.5, 1, 0.3, 60),
        (4.0, 0.25, 5, 0.1, 150),
        (1.5, 0.3, 2, 0.25, 80),
        (2.0, 0.5, 10, 0.05, 200),
        (2.0, 0.5, 2, 0.0, 300),
    ]:
        state = (2.0**16, 0)
        flags = rng.random(steps) < p_inf
        history = []
        for t, found_inf in enumerate(flags):
            history.append("inf" if found_inf else "ok")
            recent = " ".join(history[-6:])
            what = (
                f"update_scale step {t} of a run (growth_factor={growth:g}, backoff_factor={backoff:g}, "
                f"growth_interval={interval}; last steps: ... {recent})"
            )
            state = _step(impl, state, bool(found_inf), (growth, backoff, interval), what)
        # The all-"ok" run at interval 2 climbs until it reaches the float32 ceiling.
        if p_inf == 0.0:
            expect(
                state[0] == 2.0**127,
                what,
                f"ended at scale {state[0]:g}, expected 2**127",
                hint=_HINT_CAP,
            )


# --- wrong answers ----------------------------------------------------------------------------


@fails_with("count this step first")
def _grow_one_step_late(
    scale: float,
    found_inf: bool,
    growth_tracker: int,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
    growth_interval: int = 2000,
) -> tuple[float, int]:
    """Compares the tracker with growth_interval before counting this step: grows one step late."""
    if found_inf:
        return scale * backoff_factor, 0
    if growth_tracker == growth_interval:
        grown = scale * growth_factor
        return (grown if grown <= FLOAT32_MAX else scale), 0
    return scale, growth_tracker + 1


@fails_with("restarts at 0 after an inf step")
def _no_reset_on_inf(
    scale: float,
    found_inf: bool,
    growth_tracker: int,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
    growth_interval: int = 2000,
) -> tuple[float, int]:
    """Backs off on inf but keeps the tracker, so growth comes too soon after an overflow."""
    if found_inf:
        return scale * backoff_factor, growth_tracker
    return update_scale(
        scale, False, growth_tracker, growth_factor, backoff_factor, growth_interval
    )


@fails_with("the scale lives in float32")
def _no_float32_cap(
    scale: float,
    found_inf: bool,
    growth_tracker: int,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
    growth_interval: int = 2000,
) -> tuple[float, int]:
    """Checks math.isfinite on the Python (float64) product, so the scale passes float32's max."""
    if found_inf:
        return scale * backoff_factor, 0
    successful = growth_tracker + 1
    if successful == growth_interval:
        grown = scale * growth_factor
        return (grown if math.isfinite(grown) else scale), 0
    return scale, successful


@fails_with("multiplied by backoff_factor")
def _backoff_divides(
    scale: float,
    found_inf: bool,
    growth_tracker: int,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
    growth_interval: int = 2000,
) -> tuple[float, int]:
    """Divides by backoff_factor on inf (so the scale doubles instead of halving)."""
    if found_inf:
        return scale / backoff_factor, 0
    return update_scale(
        scale, False, growth_tracker, growth_factor, backoff_factor, growth_interval
    )


@fails_with("a grown scale equal to float32's largest value")
def _cap_excludes_max(
    scale: float,
    found_inf: bool,
    growth_tracker: int,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
    growth_interval: int = 2000,
) -> tuple[float, int]:
    """Grows only when the grown scale is strictly below float32's max, refusing the growth
    that lands exactly on it (a finite float32)."""
    if found_inf:
        return scale * backoff_factor, 0
    successful = growth_tracker + 1
    if successful == growth_interval:
        grown = scale * growth_factor
        return (grown if grown < FLOAT32_MAX else scale), 0
    return scale, successful


@fails_with("expected a pair (new_scale, new_growth_tracker)")
def _scale_only(
    scale: float,
    found_inf: bool,
    growth_tracker: int,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
    growth_interval: int = 2000,
) -> float:
    """Returns the new scale alone, without the growth tracker that the next call needs."""
    return update_scale(
        scale, found_inf, growth_tracker, growth_factor, backoff_factor, growth_interval
    )[0]


@fails_with("returned new_scale as tensor(32768.0, dtype=float32), expected a float")
def _tensors_as_gradscaler_keeps_them(
    scale: float,
    found_inf: bool,
    growth_tracker: int,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
    growth_interval: int = 2000,
) -> tuple[float, int]:
    """Keeps the scale in a float32 tensor and the tracker in an int32 one, as GradScaler
    does, and returns those tensors (no .item()): not the float and int the card asks for."""
    import torch

    s = torch.tensor(scale, dtype=torch.float32)
    tracker = torch.tensor(growth_tracker, dtype=torch.int32)
    if found_inf:
        return s * backoff_factor, torch.zeros_like(tracker)
    if growth_tracker + 1 < growth_interval:
        return s, tracker + 1
    grown = s * growth_factor
    return (grown if torch.isfinite(grown) else s), torch.zeros_like(tracker)


@fails_with("new_growth_tracker: returned tensor(0, dtype=int32), expected an int")
def _tracker_as_tensor(
    scale: float,
    found_inf: bool,
    growth_tracker: int,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
    growth_interval: int = 2000,
) -> tuple[float, int]:
    """Returns the scale as a float but the tracker as the int32 tensor GradScaler keeps it
    in: not the int the card asks for."""
    import torch

    new_scale, tracker = update_scale(
        scale, found_inf, growth_tracker, growth_factor, backoff_factor, growth_interval
    )
    return new_scale, torch.tensor(tracker, dtype=torch.int32)


@fails_with("new_growth_tracker: returned np.int64(0), a numpy integer, expected a Python int")
def _tracker_numpy_int(
    scale: float,
    found_inf: bool,
    growth_tracker: int,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
    growth_interval: int = 2000,
) -> tuple[float, int]:
    """Returns the tracker as numpy's np.int64, not the Python int the card asks for."""
    new_scale, tracker = update_scale(
        scale, found_inf, growth_tracker, growth_factor, backoff_factor, growth_interval
    )
    return new_scale, np.int64(tracker)


@fails_with("np.float32(32768.0), a numpy float, expected a Python float")
def _scale_numpy_float32(
    scale: float,
    found_inf: bool,
    growth_tracker: int,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
    growth_interval: int = 2000,
) -> tuple[float, int]:
    """Keeps the scale in np.float32, GradScaler's precision, and returns it so: numpy's
    scalar, not the Python float the card asks for."""
    s = np.float32(scale)
    if found_inf:
        return s * np.float32(backoff_factor), 0
    if growth_tracker + 1 < growth_interval:
        return s, growth_tracker + 1
    with np.errstate(over="ignore"):
        grown = s * np.float32(growth_factor)
    return (grown if np.isfinite(grown) else s), 0


# --- correct variants -------------------------------------------------------------------------


def _with_torch_tensors(
    scale: float,
    found_inf: bool,
    growth_tracker: int,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
    growth_interval: int = 2000,
) -> tuple[float, int]:
    """Keeps the scale in a float32 tensor, as GradScaler does, and checks torch.isfinite."""
    import torch

    s = torch.tensor(scale, dtype=torch.float32)
    if found_inf:
        return (s * backoff_factor).item(), 0
    if growth_tracker + 1 < growth_interval:
        return s.item(), growth_tracker + 1
    grown = s * growth_factor
    return (grown if torch.isfinite(grown) else s).item(), 0


WRONG_ANSWERS = {
    "update_scale": [
        _grow_one_step_late,
        _no_reset_on_inf,
        _no_float32_cap,
        _backoff_divides,
        _cap_excludes_max,
        _scale_only,
        _tensors_as_gradscaler_keeps_them,
        _tracker_as_tensor,
        _tracker_numpy_int,
        _scale_numpy_float32,
    ],
}

CORRECT_VARIANTS = {"update_scale": [_with_torch_tensors]}
