"""torch._dynamo imported when something compiles, not when torch turns it off.

torch wraps some of its own functions (an optimizer's `add_param_group` and `step`, the
decompositions behind `torch.func.jvp`) in `torch._compile._disable_dynamo`, which imports
torch._dynamo on the first call only to tell it not to trace that function. Nothing can be
tracing where torch._dynamo was never imported: `torch.compile` imports it before it traces.
So the first AdamW step or `jvp` of a check cost 1.2-1.6 s of imports (sympy among them) that
did nothing: every check of AdamW's or the directional derivative's cards waited for a worker
that had imported torch._dynamo on top of torch, the longest chain of a whole `check` run
(bench/README.md). Installed before torch is imported (`install`), the wrapper calls the
function itself while torch._dynamo is not imported, and torch's own wrapper once it is.

Only the check workers install it; where torch has no `torch._compile._disable_dynamo` (a
version that changed it), nothing is changed.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

TARGET = "torch._compile"
DYNAMO = "torch._dynamo"


def install() -> bool:
    """Wrap `torch._compile._disable_dynamo` as it is imported; False where torch is imported
    already (the functions it wraps are wrapped at their modules' import: too late)."""
    if "torch" in sys.modules:
        return False
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
    return True


class _Finder(importlib.abc.MetaPathFinder):
    """Finds `torch._compile` as the path finder does, and has its loader wrap the module's
    `_disable_dynamo` once it has run."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != TARGET:
            return None
        sys.meta_path.remove(self)  # once: torch is imported once
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            wrap(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def wrap(module: ModuleType) -> None:
    """Replace `module._disable_dynamo` (see the module's docstring)."""
    original = getattr(module, "_disable_dynamo", None)
    if not callable(original):
        return

    @functools.wraps(original)
    def _disable_dynamo(fn: Callable | None = None, recursive: bool = True) -> Any:
        if fn is None:  # as a decorator with arguments: @_disable_dynamo(recursive=False)
            return functools.partial(_disable_dynamo, recursive=recursive)
        disabled = original(fn, recursive)

        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if DYNAMO not in sys.modules:  # nothing can be tracing: nothing to turn off
                return fn(*args, **kwargs)
            return disabled(*args, **kwargs)

        return inner

    module._disable_dynamo = _disable_dynamo  # type: ignore[attr-defined]
