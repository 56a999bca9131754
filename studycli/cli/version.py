"""`studycli --version`, read before Typer parses anything (`studycli.cli.run`)."""

from __future__ import annotations


def print_version() -> int:
    """`studycli --version`: the installed studycli's version (the database's messages speak of
    newer and older studycli versions). Read here, not as an option of every command line: a
    Typer option costs each command's start 2 M instructions (`review` to its first card was
    408 M against its floor line's 327 M with it, 1.25x allowed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("studycli")
    except PackageNotFoundError:  # run from a checkout that was never installed
        found = "unknown (not installed: pip install -e .)"
    print(f"studycli {found}")
    return 0
