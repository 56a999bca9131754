"""Helpers for writing checkers in `solutions/`: the card authors' API.

A checker calls a learner's function on many inputs and raises `AssertionError` with a message
that teaches: which input failed, what was expected, what came back. These helpers produce such
messages, so every checker reads the same way:

    from studycli.assertions import assert_close, describe

    def check_softmax(impl, device="cpu"):
        x = torch.randn(3, 5, device=device)
        assert_close(impl(x), x.softmax(-1), f"softmax({describe(x)})")

Authors import every helper from here; each lives in the module named for what it does:
comparisons.py (`assert_close`, `assert_equal`, `expect`, `likely_mistake`), answer_types.py
(`expect_tensor`, `as_int`, `plain_ints`, ...), calls.py (`call`, `hinted`), in_place.py
(`call_unchanged`), described.py (`describe`), devices.py (`expect_inputs_device`, which `call`
applies: an answer's tensors on its inputs' device), torch_watch.py (`watch_torch`, `forbid`,
`gpu_memory_budget`), refused_packages.py (`without_package`: a library the answer must not
use), comparison_budget.py (`counting_ints`), timing.py (`paired_times`: two calls' CPU
times, where an answer must be timed) and failures.py (`CheckFailure`, `fails_with`, what a
failure says of the answer's exception).

This package is only imported by solution modules (inside an isolated check process), so it may
import numpy and torch lazily without slowing the CLI down.
"""

from __future__ import annotations

from .answer_types import (
    GRAPH_HINT,
    ITEM_HINT,
    ITEMS_HINT,
    NOT_LISTS,
    NUMPY_FLOAT_HINT,
    NUMPY_INT_HINT,
    TENSOR_HINT,
    TENSOR_OR_FLOAT,
    as_int,
    as_number,
    expect_pair,
    expect_tensor,
    plain_ints,
    tensor_or_float,
)
from .calls import call, hinted
from .comparison_budget import PAST_INT64, PAST_INT64_HINT, OverBudget, counting_ints, over_budget
from .comparisons import assert_close, assert_equal, dtype_name, expect, likely_mistake
from .described import describe
from .devices import DEVICE_HINT, expect_inputs_device
from .failures import (
    ANSWERS_ASSERT,
    MESSAGE_LINES,
    MESSAGE_SHOWN,
    RAISED,
    CheckFailure,
    OutOfTime,
    answers_message,
    fails_with,
    message_of,
)
from .in_place import IN_PLACE_HINT, call_unchanged
from .refused_packages import without_package
from .timing import paired_times
from .torch_watch import (
    ATTENTIONS,
    CONVOLUTIONS,
    SOFTMAXES,
    TorchWatch,
    bare_name,
    forbid,
    gpu_memory_budget,
    watch_torch,
)

__all__ = [
    "ANSWERS_ASSERT",
    "ATTENTIONS",
    "CONVOLUTIONS",
    "DEVICE_HINT",
    "GRAPH_HINT",
    "IN_PLACE_HINT",
    "ITEMS_HINT",
    "ITEM_HINT",
    "MESSAGE_LINES",
    "MESSAGE_SHOWN",
    "NOT_LISTS",
    "NUMPY_FLOAT_HINT",
    "NUMPY_INT_HINT",
    "PAST_INT64",
    "PAST_INT64_HINT",
    "RAISED",
    "SOFTMAXES",
    "TENSOR_HINT",
    "TENSOR_OR_FLOAT",
    "CheckFailure",
    "OutOfTime",
    "OverBudget",
    "TorchWatch",
    "answers_message",
    "as_int",
    "as_number",
    "assert_close",
    "assert_equal",
    "bare_name",
    "call",
    "call_unchanged",
    "counting_ints",
    "describe",
    "dtype_name",
    "expect",
    "expect_inputs_device",
    "expect_pair",
    "expect_tensor",
    "fails_with",
    "forbid",
    "gpu_memory_budget",
    "hinted",
    "likely_mistake",
    "message_of",
    "over_budget",
    "paired_times",
    "plain_ints",
    "tensor_or_float",
    "watch_torch",
    "without_package",
]
