"""Answers run as Python in a check, never as TorchScript: `leave_answers_unscripted`.

`forbid` and the cards' own watches (online-softmax's reductions, FlashAttention's live
tensors) are torch function modes: they see the torch calls Python makes. TorchScript's
interpreter calls its operators itself, out of their sight: a scripted torch.softmax answered
the softmax card, a traced two-pass softmax the online one (r1, fifty-sixth session). So in a
check worker, before the solution modules and every attempt load:

- the ways to compile the learner's own code into TorchScript give back what they are given,
  run by Python (torch.jit.script and trace, under their private names too, trace_module and
  script_method): a correct scripted answer gives the same numbers run so;
- and TorchScript code run from Python is refused with a checker's verdict, whoever compiled
  it: the other ways in give nothing back to run as Python (TorchScript source compiled by a
  CompilationUnit, a module loaded from bytes by torch.jit.load or the lite interpreter, one of
  torch's own modules or functions scripted, torch.jit.fork of any of those), and each one ran
  a scripted torch.softmax past `forbid` (h2, fifty-seventh session).

TorchScript itself stays on: torch scripts functions of its own and reads what it made
(forward-mode autograd's decompositions read each one's graph, run by C++, never called from
Python), which a switch for the whole process (PYTORCH_JIT=0) broke.
"""

from __future__ import annotations

import contextlib
from typing import Any

REFUSED = (
    "the answer runs TorchScript ({name}), whose operations the check cannot see: write it as "
    "Python (torch.jit.script and torch.jit.trace give back the function they are given here)"
)
# torch's own code, and that of its libraries, which torch.jit.script and trace compile
TORCHS = ("torch", "torchvision", "torchaudio")


def leave_answers_unscripted() -> None:
    """Have TorchScript's compilers give back the learner's code unchanged and its interpreters
    refuse to run code from Python, for the rest of the process (see the module's docstring).
    Once: a zygote prepares again for more cards (`fork_server`)."""
    with contextlib.suppress(ImportError, AttributeError):
        import torch.jit
        from torch.jit import _script, _trace

        if torch.jit.script_method is _given_back:
            return

        script = _eager_unless_torchs(_script.script)
        trace = _eager_unless_torchs(_trace.trace)
        trace_module = _eager_unless_torchs(_trace.trace_module)
        torch.jit.script = _script.script = script
        torch.jit.trace = _trace.trace = trace
        torch.jit.trace_module = _trace.trace_module = trace_module
        # (a ScriptModule with no script method is a Python module: its metaclass compiles
        # only the methods this marked)
        torch.jit.script_method = _script.script_method = _given_back
        _refuse_runs(torch._C)


def _eager_unless_torchs(compile: Any) -> Any:
    """`compile` (torch.jit.script, trace or trace_module) for torch's own functions and
    modules (and torchvision's, torchaudio's); for any other, what it was given, unchanged."""

    def eager(obj: Any, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(obj, "__module__", None) or type(obj).__module__ or ""
        if owner.split(".")[0] in TORCHS:
            return compile(obj, *args, **kwargs)
        return obj

    eager.__name__, eager.__doc__ = compile.__name__, compile.__doc__
    return eager


def _given_back(function: Any) -> Any:
    return function


def _refuse_runs(compiled: Any) -> None:
    """Make each way Python runs TorchScript code (a function's call, a method's, which a
    scripted module's forward is, the lite interpreter's, and the interpreter's of a graph,
    any compiled function's `.graph`) raise `CheckFailure`."""
    from studycli.assertions import CheckFailure

    def refuse(code: Any, *args: Any, **kwargs: Any) -> Any:
        name = getattr(code, "qualified_name", None) or getattr(code, "name", None)
        raise CheckFailure(REFUSED.format(name=name or type(code).__name__))

    for kind, entries in (
        (compiled.ScriptFunction, ("__call__",)),
        (compiled.ScriptMethod, ("__call__",)),
        (compiled.LiteScriptModule, ("forward", "run_method")),
    ):
        for entry in entries:
            setattr(kind, entry, refuse)
    compiled._jit_interpret_graph = refuse  # (torch calls it from no Python of its own)
