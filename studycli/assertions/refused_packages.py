"""`without_package`: an answer that must not use a library (scipy in the assignment card,
torchvision in NMS) is refused when it does, whether the library is installed or not."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .failures import CheckFailure


def without_package(impl: Callable, package: str, *, reason: str) -> Callable:
    """Wrap the learner's function so that using `package` fails, naming what was used and
    `reason` ("the answer uses scipy.optimize.linear_sum_assignment: <reason>").

    Its module may not have bound anything of the package at import time (`from torchvision.ops
    import nms` at the top); while the function runs, `package` and its submodules import as
    stand-ins whose every attribute refuses. The same on a machine without the package, where
    an answer that imports it in its body would otherwise fail for an ImportError, not for the
    rule (and a wrong answer in WRONG_ANSWERS could not prove the rule).
    """

    def guarded(*args: Any, **kwargs: Any) -> Any:
        bound = _bound_from(impl, package)
        if bound:
            # (used or not: which of its globals the function reaches, through its helpers or
            # getattr, is not told apart; the learner loses nothing by taking it out)
            raise CheckFailure(
                f"the answer's module imports {bound}: {reason} (take the import out, used or not)"
            )
        with _refused(package, reason):
            return impl(*args, **kwargs)

    guarded.__name__ = getattr(impl, "__name__", "impl")
    return guarded


def _bound_from(impl: Callable, package: str) -> str:
    """The name of a module or object of `package` that the answer's module holds, or ""."""
    for value in list(getattr(impl, "__globals__", {}).values()):
        try:
            name = value.__name__ if isinstance(value, types.ModuleType) else value.__module__
        except Exception:  # (any object may sit in a module's globals)
            continue
        if isinstance(name, str) and _within(name, package):
            qualified = getattr(value, "__qualname__", None)
            return f"{name}.{qualified}" if isinstance(qualified, str) else name
    return ""


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


class _Refusing(types.ModuleType):
    """A stand-in for a module of the refused package: reading any of its attributes (bar the
    dunders that the import system and `hasattr` probes read) raises the refusal."""

    _reason = ""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        raise CheckFailure(f"the answer uses {self.__name__}.{name}: {self._reason}")


class _StandIns(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `package` and its submodules first, as refusing stand-ins."""

    def __init__(self, package: str, reason: str) -> None:
        self.package, self.reason = package, reason

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not _within(fullname, self.package):
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: Any) -> types.ModuleType:
        module = _Refusing(spec.name)
        module._reason = self.reason
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


@contextmanager
def _refused(package: str, reason: str) -> Iterator[None]:
    """Within the block, importing `package` or a submodule gives a refusing stand-in; the
    modules of it already imported are set aside and put back afterwards, whatever the block
    did to sys.meta_path (a device worker runs the next check in the same process). A block
    that took the stand-ins' finder out, to import the package itself, is refused."""
    saved = _set_aside(package)
    finder = _StandIns(package, reason)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        _set_aside(package)  # (the stand-ins the answer imported)
        sys.modules.update(saved)
        taken_out = finder not in sys.meta_path
        if not taken_out:
            sys.meta_path.remove(finder)
    if taken_out:
        raise CheckFailure(
            f"the answer took the finder that refuses {package} out of sys.meta_path: {reason}"
        )


def _set_aside(package: str) -> dict[str, types.ModuleType]:
    """Take `package` and its submodules out of sys.modules, and return them. None is there
    without the package itself (an import makes its parents first), which is most often
    missing: sys.modules' thousand or more names, with torch imported, went unread. Read at
    each of the answer's calls, they were 0.29 s of the reference checks on a GPU host."""
    if package not in sys.modules:
        return {}
    names = [name for name in sys.modules if _within(name, package)]
    return {name: sys.modules.pop(name) for name in names}
