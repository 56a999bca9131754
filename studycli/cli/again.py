"""The commands a message gives the learner to run later (check an attempt again, import
without --dry-run): `studycli` with the --content and --db the command line gave (or a
relative environment variable), and each path absolute and quoted for a shell. A path as
typed (`--db reviews.sqlite3`) named another file, or none, once the learner changed
directory; one with a space split in two."""

from __future__ import annotations

import shlex
from pathlib import Path

import typer

from .app import given_on_command_line, options


def shell_path(path: Path) -> str:
    """`path` absolute (`~` expanded), quoted for a shell."""
    return shlex.quote(str(path.expanduser().absolute()))


def studycli_again(ctx: typer.Context, root: Path) -> str:
    """`studycli`, with the --content the command line gave (`root`, the content folder it
    named) and its --db: pasted without them, the command found no card, or recorded in the
    default review database, not the one this command used. One from STUDYCLI_CONTENT or
    STUDYCLI_DB is not named, the environment giving it again, unless it is relative: after a
    `cd` it named another folder, and the pasted command imported into a new database there."""
    given = ""
    if _named(ctx, "content") is not None:
        given += f" --content {shell_path(root)}"
    if (db := _named(ctx, "db")) is not None:
        given += f" --db {shell_path(db)}"
    return f"studycli{given}"


def _named(ctx: typer.Context, option: str) -> Path | None:
    """The app's `option` ("content", "db") where the command to run later names it: the
    command line gave it, or its environment variable gives it relative; else None."""
    value: Path | None = getattr(options(ctx), option)
    if value is None or (
        value.expanduser().is_absolute() and not given_on_command_line(ctx, option)
    ):
        return None
    return value
