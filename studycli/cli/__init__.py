"""The command line: parse, call one core function, render. No SQL or scheduling here.

Each command lives in the module that `app.COMMANDS` names, and a command line imports only
its own (`app.invoked`); `help_panels.whole_app()` is the app with every command registered. Here:
the console script, and the command line's words as they come, before Typer (imported by
`main` only, after a `check` has started its first worker) parses them.
"""

from __future__ import annotations

import gc
import os
import sys

__all__ = ["main"]

# The collector's youngest generation is looked at every 700 new objects by default: a
# command's start (its imports, the cards, the first card shown) makes hundreds of thousands
# that live as long as it does, and `review` spent 6% of its instructions to its first card in
# collections that found nothing (bench/instructions.py); every 50,000 here (`main`).
GC_THRESHOLD = (50_000, 10, 10)


def main() -> None:
    """The console script. A `check` starts its first worker before anything else: the
    worker's import of torch (1-2 s) is the longest step before the first check can run, and
    Typer, Rich and the app take 0.1-0.2 s to import and parse the command line
    (bench/check_all.py). A command line that fails to parse leaves it unused; it ends with
    the command."""
    gc.set_threshold(*GC_THRESHOLD)  # before any command's module is imported
    args = sys.argv[1:]
    try:
        if (
            named_command(args) == "check"
            and not asks_for_help(args)
            and "_STUDYCLI_COMPLETE" not in os.environ  # a Tab press runs nothing
        ):
            from studycli.check import pool

            pool.warm_up()
        from .app import main as run

        run()
    except KeyboardInterrupt:  # a Ctrl-C while the command's modules load: no traceback
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None


GLOBAL_OPTIONS = ("--content", "--db")  # the app's options that take a value
WITH_VALUE = tuple(f"{option}=" for option in GLOBAL_OPTIONS)  # (--db=FILE)
HELP = ("--help", "-h")


def named_command(args: list[str]) -> str | None:
    """The command `args` name plainly: the first word that is not a global option or its
    value (None where there is none). It may be no command at all (a typo, an option)."""
    rest = iter(args)
    for arg in rest:
        if arg in GLOBAL_OPTIONS:
            next(rest, None)
        elif not arg.startswith(WITH_VALUE):
            return arg
    return None


def asks_for_help(args: list[str]) -> bool:
    """Whether `args` ask for help, which runs nothing (before any `--`)."""
    before = args[: args.index("--")] if "--" in args else args
    return any(arg in HELP for arg in before)


def hoisted(args: list[str]) -> list[str]:
    """`args` with `--content` and `--db` given after the command's name moved before it,
    where they belong (`studycli due --db X` was "No such option: --db"). Nothing after `--`
    moves."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest += args[index:]
            break
        if arg in GLOBAL_OPTIONS and index + 1 < len(args):
            front += args[index : index + 2]
            index += 2
            continue
        (front if arg.startswith(WITH_VALUE) else rest).append(arg)
        index += 1
    return front + rest
