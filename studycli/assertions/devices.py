"""`expect_inputs_device`: an answer's tensors on the device of its tensor inputs (`call` asks).

Comparisons go through numpy (`assert_close`), so they pass a CPU tensor returned for CUDA
inputs: on a GPU that is a real mistake (a silent copy to the host, and a later op that mixes
it with the inputs' tensors raises), made by `torch.tensor(list)` or `torch.zeros(n)` without
`device=`, or by a round trip through numpy.
"""

from __future__ import annotations

import sys
from typing import Any

from .failures import _fail


def expect_inputs_device(what: str, inputs: tuple[Any, ...], result: Any) -> None:
    """Fail where `result`, or a tensor in the tuple or list it returned, is on another device
    type than the tensor inputs (`call`'s arguments, and the tensors in a tuple or list among
    them), where all of those are on one device and it is not the CPU: an answer's result on
    the CPU always matches CPU inputs, and an answer given a mix of devices may return either.
    """
    torch = sys.modules.get("torch")
    if torch is None:  # (no tensor can exist: a card without torch pays nothing)
        return
    got = _placed(result, torch.Tensor)
    if not got:
        return
    kinds = {tensor.device.type for value in inputs for _, tensor in _placed(value, torch.Tensor)}
    if len(kinds) != 1 or kinds == {"cpu"}:
        return
    (kind,) = kinds
    for where, tensor in got:
        if tensor.device.type != kind:
            _fail(
                what,
                f"returned {where} on {tensor.device.type} for inputs on {kind}: the result must "
                "stay on the inputs' device (a tensor made on the CPU is a copy through the host)",
                DEVICE_HINT,
            )


DEVICE_HINT = (
    "make new tensors on the inputs' device: torch.zeros(n, device=x.device), "
    "torch.tensor(values, device=x.device), torch.zeros_like(x) or x.new_zeros(n); a result "
    "computed with numpy goes back with torch.from_numpy(a).to(x.device)"
)


def _placed(value: Any, tensor_type: type) -> list[tuple[str, Any]]:
    """(how a message names it, the tensor) for `value`, or for the tensors among the items of
    a tuple or list. A long one whose first item is no tensor is taken for one of numbers, not
    looked through: a list of a million ints took 350 ms a call to look through (isinstance of
    torch.Tensor is slow), where the call took 0.5 us."""
    if isinstance(value, tensor_type):
        return [("a tensor", value)]
    if not isinstance(value, (tuple, list)):
        return []
    if len(value) > LOOKED_THROUGH and not isinstance(value[0], tensor_type):
        return []
    kind = "list" if isinstance(value, list) else "tuple"  # (torch.max's named tuple too)
    return [
        (f"a {kind} whose item {index} is a tensor", item)
        for index, item in enumerate(value)
        if isinstance(item, tensor_type)
    ]


LOOKED_THROUGH = 256  # items of a tuple or list looked through whatever its first item is
