"""`unscripted`: in a check's worker, TorchScript's compilers give back the learner's code and
Python runs no TorchScript, so that `forbid` and the cards' watches see each operation; torch's
own scripting (forward-mode autograd's decompositions) still works."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("torch")

# (a file of its own: TorchScript compiles only what it can read the source of)
ANSWER = """
import io

import torch


def softmax_of_rows(x):
    return torch.softmax(x, dim=-1)


class SoftmaxOfRows(torch.nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)


class Scripted(torch.jit.ScriptModule):
    @torch.jit.script_method
    def forward(self, x):
        return torch.softmax(x, dim=-1)


def loaded():
    compile = torch.jit._recursive
    made = compile.create_script_module(SoftmaxOfRows(), compile.infer_methods_to_compile)
    saved = io.BytesIO()
    torch.jit.save(made, saved)
    return torch.jit.load(io.BytesIO(saved.getvalue()))
"""

PROBE = """
import json, sys

import torch
from studycli.check import unscripted
from studycli.assertions import CheckFailure

unscripted.leave_answers_unscripted()
unscripted.leave_answers_unscripted()  # (a zygote prepares again: once is what counts)
sys.path.insert(0, sys.argv[1])
import answer

x = torch.randn(2, 3)
found = {}
found["script"] = torch.jit.script(answer.softmax_of_rows) is answer.softmax_of_rows
found["private script"] = (
    torch.jit._script.script(answer.softmax_of_rows) is answer.softmax_of_rows
)
found["trace"] = torch.jit.trace(answer.softmax_of_rows, (x,)) is answer.softmax_of_rows
module = answer.SoftmaxOfRows()
found["trace_module"] = torch.jit.trace_module(module, {"forward": (x,)}) is module
found["script_method"] = type(answer.Scripted().forward).__name__
runs = {
    "source": lambda: torch.jit.CompilationUnit("def f(x):\\n    return x.softmax(-1)\\n").f(x),
    "torch's module": lambda: torch.jit.script(torch.nn.Softmax(dim=-1))(x),
    "loaded": lambda: answer.loaded()(x),
    "graph": lambda: torch._C._jit_interpret_graph(
        torch.jit.CompilationUnit("def f(x):\\n    return x.softmax(-1)\\n").f.graph, (x,)
    ),
}
for name, run in runs.items():
    try:
        run()
        found[name] = "ran"
    except CheckFailure as failure:
        found[name] = str(failure)
# forward over reverse: jvp of a gradient, through torch's scripted decompositions
grad = torch.func.grad(lambda x: x.log_softmax(-1).sum())
found["jvp"] = torch.func.jvp(grad, (x[0],), (torch.ones(3),))[1].shape[0]
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("answer")
    (folder / "answer.py").write_text(textwrap.dedent(ANSWER), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(folder)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("compiler", ["script", "private script", "trace", "trace_module"])
def test_the_learners_code_is_given_back(found: dict, compiler: str) -> None:
    assert found[compiler] is True


def test_a_script_method_stays_a_python_method(found: dict) -> None:
    assert found["script_method"] == "method"


@pytest.mark.parametrize("way", ["source", "torch's module", "loaded", "graph"])
def test_torchscript_run_from_python_is_refused(found: dict, way: str) -> None:
    assert found[way].startswith("the answer runs TorchScript (")


def test_torchs_own_scripting_still_works(found: dict) -> None:
    assert found["jvp"] == 3
