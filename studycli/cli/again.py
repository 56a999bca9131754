"""The commands a message gives the learner to run later (check an attempt again, import
without --dry-run): `studycli` with the --content and --db the command line gave, and each
path absolute and quoted for a shell. A path as typed (`--db reviews.sqlite3`) named another
file, or none, once the learner changed directory; one with a space split in two."""

from __future__ import annotations

import shlex
from pathlib import Path

import typer

from .app import content_given, given_on_command_line, options


def shell_path(path: Path) -> str:
    """`path` absolute (`~` expanded), quoted for a shell."""
    return shlex.quote(str(path.expanduser().absolute()))


def studycli_again(ctx: typer.Context, root: Path) -> str:
    """`studycli`, with the --content the command line gave (`root`, the content folder it
    named) and its --db: pasted without them, the command found no card, or recorded in the
    default review database, not the one this command used. One from STUDYCLI_CONTENT or
    STUDYCLI_DB is not named: the environment gives it again."""
    given = ""
    if content_given(ctx):
        given += f" --content {shell_path(root)}"
    if given_on_command_line(ctx, "db") and (db := options(ctx).db) is not None:
        given += f" --db {shell_path(db)}"
    return f"studycli{given}"
