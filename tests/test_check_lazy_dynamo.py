"""`lazy_dynamo`: a check's worker imports torch._dynamo when something compiles, not when
torch turns it off; what torch computes stays the same, and torch.compile still works."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import types

import pytest

from studycli.check import lazy_dynamo

pytest.importorskip("torch")

JVP = (
    "x = torch.linspace(-1, 1, 5, dtype=torch.float64)\n"
    "value, tangent = torch.func.jvp(lambda x: (2 * x).sin().exp(), (x,), (torch.ones_like(x),))\n"
    "found['jvp'] = tangent.tolist()\n"
)
COMPILED = (
    "f = torch.compile(lambda x: (x * 3).cos(), backend='eager')\n"
    "found['compiled'] = f(torch.linspace(0, 1, 4, dtype=torch.float64)).tolist()\n"
)


def run(code: str, install: bool) -> dict:
    """Run `code` in a new interpreter, `lazy_dynamo` installed before torch or not; what it
    put in `found`, and whether torch._dynamo was imported after each step. (One interpreter
    for each `install` runs every code of the module, each in a child it forks once torch is
    imported, as a check's worker forks its checks: 2 imports of torch, not 4.)"""
    return _interpreter(install)[CODES.index(code)]


@functools.cache
def _interpreter(install: bool) -> list[dict]:
    script = (
        "import json, os, sys\n"
        "from studycli.check import lazy_dynamo\n"
        f"installed = lazy_dynamo.install() if {install} else None\n"
        "import torch\n"
        "for code in json.loads(sys.argv[1]):\n"
        "    read, write = os.pipe()\n"
        "    if os.fork() == 0:\n"
        "        try:\n"
        "            found = {'installed': installed}\n"
        "            exec(code)\n"
        "            found['dynamo'] = 'torch._dynamo' in sys.modules\n"
        "            os.write(write, json.dumps(found).encode() + b'\\n')\n"
        "        except BaseException:\n"
        "            import traceback\n"
        "            traceback.print_exc()\n"
        "            os._exit(1)\n"
        "        os._exit(0)\n"
        "    os.close(write)\n"
        "    with os.fdopen(read) as said:\n"
        "        print(said.read(), end='', flush=True)\n"
        "    assert os.wait()[1] == 0\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(CODES)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_forward_mode_gives_the_same_numbers_without_importing_dynamo():
    plain, lazy = run(JVP, install=False), run(JVP, install=True)
    assert plain["dynamo"] and not lazy["dynamo"]  # (torch's own imports it: 1.2-1.6 s)
    assert lazy["installed"] is True
    assert lazy["jvp"] == plain["jvp"]


COUNTED = (  # torch's wrapper asks torch._dynamo.disable for each function on its first call
    "import torch._dynamo\n"
    "asked, disable = [], torch._dynamo.disable\n"
    "torch._dynamo.disable = lambda *a, **k: asked.append(1) or disable(*a, **k)\n"
)


COMPILED_THEN_JVP = COMPILED + COUNTED + JVP + "found['asked'] = len(asked)\n"
CODES = [JVP, COMPILED_THEN_JVP]  # what `run` runs


def test_torch_compile_still_works_and_turns_dynamo_off_where_torch_does_after():
    """Once something compiles (torch._dynamo imported by torch.compile), the functions torch
    wraps go through its own wrapper again: it turns torch._dynamo off for them."""
    plain = run(COMPILED_THEN_JVP, install=False)
    lazy = run(COMPILED_THEN_JVP, install=True)
    assert lazy["dynamo"] and lazy["compiled"] == plain["compiled"]
    assert lazy["jvp"] == plain["jvp"]
    assert lazy["asked"] == plain["asked"] > 0


def test_installed_after_torch_it_does_nothing():
    script = (
        "import torch, sys\n"
        "from studycli.check import lazy_dynamo\n"
        "print(lazy_dynamo.install(), any(isinstance(f, lazy_dynamo._Finder)"
        " for f in sys.meta_path))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_a_torch_without_the_function_is_left_as_it_is():
    module = types.ModuleType("torch._compile")
    lazy_dynamo.wrap(module)
    assert not hasattr(module, "_disable_dynamo")
