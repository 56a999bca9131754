"""The commands a message gives the learner to run later (check an attempt again, import
without --dry-run): `studycli` with the --content and --db the command line gave (or a
relative environment variable, or the content folder found from the current one), a relative
STUDYCLI_HOME or STUDYCLI_CONFIG given again absolute before it, and each path absolute and
quoted for a shell. A path as typed (`--db reviews.sqlite3`) named another file, or none,
once the learner changed directory; one with a space split in two."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import typer

from .app import given_on_command_line, options

# The variables of a folder or file whose contents a command run later reads (the database and
# attempt files under the home, the settings): set relative, they name others after a `cd`.
# STUDYCLI_CACHE is not among them: what the cache holds may be deleted at any time, and a
# command with another one does the same, only rebuilding it first.
_READ_AGAIN = ("STUDYCLI_HOME", "STUDYCLI_CONFIG")


def shell_path(path: Path) -> str:
    """`path` absolute (`~` expanded), quoted for a shell; as given where the current folder
    was removed (`paths.absolute`): a relative STUDYCLI_CONFIG, which names no file then,
    ended a dry run's summary in a traceback (FileNotFoundError of `Path.absolute`)."""
    from studycli.paths import absolute

    return shlex.quote(str(absolute(path.expanduser())))


def studycli_again(ctx: typer.Context, root: Path) -> str:
    """`studycli`, with the content folder `root` where another folder would find other
    content, and the --db the command line gave: pasted without them, the command found no
    card, or recorded in the default review database, not the one this command used.

    One from STUDYCLI_CONTENT or STUDYCLI_DB is not named, the environment giving it again,
    unless it is relative: after a `cd` it named another folder, and the pasted command
    imported into a new database there. Content found from the current folder (its cards/, or
    a clone's above it) is named unless it is the installed content, which any folder finds:
    pasted elsewhere, the command studied the installed cards. A relative STUDYCLI_HOME or
    STUDYCLI_CONFIG is given again, absolute, before the command (`STUDYCLI_HOME=/x studycli
    ...`): the environment's own named another home after a `cd`, and there another database,
    attempt file and settings (a --db alone would leave the attempt and the settings behind).
    """
    given = ""
    if (content := _content_named(ctx, root)) is not None:
        given += f" --content {shell_path(content)}"
    if (db := _named(ctx, "db")) is not None:
        given += f" --db {shell_path(db)}"
    return f"{_environment_again()}studycli{given}"


def studycli_content(ctx: typer.Context, root: Path) -> str:
    """`studycli`, with the content folder `root` where the command line gave it as --content
    (or a relative STUDYCLI_CONTENT gave it): for the commands that read the content alone
    (`lint`, `check`), run where the learner stands. `new --content DIR` said "`studycli
    check x-one`", which checked the content found from the current folder (the installed
    one) and found no card x-one. Content found from the current folder is found again
    there: from a clone, as in CONTRIBUTING's worked example, the lines are as before."""
    return "studycli" + (
        f" --content {shell_path(root)}" if _named(ctx, "content") is not None else ""
    )


def _content_named(ctx: typer.Context, root: Path) -> Path | None:
    """The content folder where the command to run later names it (`studycli_again`)."""
    from studycli.paths import installed_content

    if options(ctx).content is not None:
        return root if _named(ctx, "content") is not None else None
    return None if root == installed_content() else root


def _named(ctx: typer.Context, option: str) -> Path | None:
    """The app's `option` ("content", "db") where the command to run later names it: the
    command line gave it, or its environment variable gives it relative; else None."""
    value: Path | None = getattr(options(ctx), option)
    if value is None or (
        value.expanduser().is_absolute() and not given_on_command_line(ctx, option)
    ):
        return None
    return value


def _environment_again() -> str:
    """`NAME=/absolute/path ` for each variable of `_READ_AGAIN` set to a relative path."""
    said = ""
    for name in _READ_AGAIN:
        value = os.environ.get(name)
        if value and not Path(value).expanduser().is_absolute():
            said += f"{name}={shell_path(Path(value))} "
    return said
