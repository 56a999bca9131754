"""What a check's code will import, read from its sources without running it: whether it may
use torch at all (`uses_torch`), and what its checkers import the first time one of their
functions is called (`LAZY_IMPORTS`, `lazy_modules`).

`plan` reads them for each check (its `Job.torch` and `Job.lazy`), and `pool` then has the
check run by a worker that imported those modules beforehand (`pool.preload`), or by one without
torch; a torchless zygote reads `uses_torch` to load only the solution modules that never name
torch (`zygote._names_torch`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

# Modules that a library (or a checker) imports the first time one of its functions is
# called, by a pattern of what the code a check may run uses (`plan.plan`: its modules'
# code, docstrings and the other answers' own functions left out; a match in a comment only
# makes the check start later). Each child would import them
# again; the worker does once. Those of a package that is not installed are left out
# (`lazy_modules`). (Each pattern starts with a literal: the search then skips to it, 40x
# faster over the shipped modules than one starting with \b.) As of torch 2.13:
LAZY_IMPORTS = {
    # an optimizer object, made (torch.optim.AdamW(...)) or imported by its class's name, and
    # its step(): 1.4 s; not torch.optim's functional updates (torch.optim.adamw.adamw)
    r"optim(?:\.[A-Z]\w*\(| import [^\n]*\b[A-Z])": ("torch._dynamo", "torch.profiler"),
    # torch.func's transforms but jvp. Forward-mode autograd (torch.func.jvp, forward_ad)
    # went through decompositions that imported it only to turn it off: not in a check's
    # worker since `lazy_dynamo`
    r"torch\.func\b(?!\.jvp\b)": ("torch._dynamo",),
    r"torch\.compile\b": ("torch._dynamo",),
    # forward-mode autograd: the decompositions it runs for a product, a sum or a scalar
    # factor find their dtypes through torch._prims_common.elementwise_dtypes, which imports
    # sympy on its first call (0.5 s on the 2-core box; 3.6-4.0 s in a check on a 16-core
    # host whose every core was busy, the last check of the CPU run and of the CUDA run)
    r"torch\.func\.jvp\b": ("sympy",),
    r"forward_ad\b": ("sympy",),
    # torch.testing.assert_close, on its first call, imports sympy too (520 modules, 0.7 s of
    # CPU; 1.9 s on the busy 2-core box): an answer that checks its own result with it (a
    # correct variant of online-softmax) had its card said slow
    r"torch\.testing\b": ("sympy",),
}


def uses_torch(sources: Iterable[str]) -> bool:
    """Whether code with these sources may use torch: whether any names it. (A checker that
    names it nowhere may still reach it through a library; its check then imports torch
    itself: slower, never wrong.)"""
    return any("torch" in source for source in sources)


def lazy_modules(sources: Iterable[str]) -> list[str]:
    """The modules checkers with these solution-module sources import on first use (of the
    packages installed here). Comments are no use: a checker's comment naming torch.func had
    all 32 checks of its module wait for a worker with torch._dynamo imported. (From a `#` to
    the line's end, even in a string: a use that follows one on its line is missed, and its
    check imports the module itself, slower, never wrong.)"""
    return [module for module in first_use_modules(sources) if _installed(module)]


def first_use_modules(sources: Iterable[str]) -> list[str]:
    """The modules of `LAZY_IMPORTS` that code with these sources imports on first use,
    installed here or not."""
    found: dict[str, None] = {}
    for source in sources:
        source = _COMMENT.sub("", source)
        for used, modules in _lazy_patterns():
            if used.search(source):
                found.update(dict.fromkeys(modules))
    return list(found)


_COMMENT = re.compile(r"#[^\n]*")


@functools.cache
def _lazy_patterns() -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    return [(re.compile(pattern), modules) for pattern, modules in LAZY_IMPORTS.items()]


@functools.cache
def _installed(module: str) -> bool:
    """Whether the package of `module` is there to import (a pattern's package may be missing:
    sympy comes with torch, not with this project); it is not imported."""
    import importlib.util

    return importlib.util.find_spec(module.partition(".")[0]) is not None
