"""Where things live: the content folder, the review database, the config and attempt files.

One resolver per location, each with an environment override, so tests never touch `~`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .errors import ContentError

APP_NAME = "studycli"


def content_dir(option: str | Path | None = None, cwd: Path | None = None) -> Path:
    """The folder holding `cards/` and `solutions/`.

    In order: the `--content` option, `STUDYCLI_CONTENT`, the current directory when it holds
    content (`cards/` with a card in a deck folder, or `cards/` and `solutions/`: a project of
    another kind with a `cards/` folder of its own took the place of every card, and `review`
    said "no cards match those filters"), the nearest folder above it with both `cards/` and
    `solutions/` (an author in cards/math of a clone works on that clone, not on the content
    installed elsewhere), then the content installed with the package.
    """
    chosen = option or os.environ.get("STUDYCLI_CONTENT")
    if chosen:
        path = Path(chosen).expanduser().resolve()
        if not (path / "cards").is_dir():
            what = "has no cards/ folder" if path.exists() else "does not exist"
            raise ContentError(
                f"{path} {what}: point --content (or STUDYCLI_CONTENT) at the folder that "
                "holds cards/ and solutions/"
            )
        return path
    try:
        here = (cwd or Path.cwd()).resolve()
    except FileNotFoundError:  # (a traceback: `due` in a folder removed while the shell was in it)
        raise ContentError(
            "the current folder no longer exists (removed or moved), so no content is found from "
            "it: cd to another folder, or pass --content DIR"
        ) from None
    cards = here / "cards"
    if cards.is_dir() and (
        (here / "solutions").is_dir() or next(cards.glob("*/*.yaml"), None) is not None
    ):
        return here
    for folder in here.parents:
        if (folder / "cards").is_dir() and (folder / "solutions").is_dir():
            return folder
    installed = installed_content()
    if installed is None:
        raise ContentError("no cards found: run from a folder with cards/, or pass --content DIR")
    return installed


def installed_content() -> Path | None:
    """The content installed with the package (`content_dir`'s last resort): what a command
    finds from any folder without content of its own, nor one above; None where there is none.
    """
    package = Path(__file__).resolve().parent
    for candidate in (package / "_content", package.parent):
        if (candidate / "cards").is_dir():
            return candidate
    return None


def data_dir() -> Path:
    """The user's data folder (database, attempt files); `STUDYCLI_HOME` overrides it."""
    home = studycli_home()
    return home / "data" if home else _user_folder("data")


def config_dir() -> Path:
    """The user's config folder (settings.toml); `STUDYCLI_HOME` overrides it."""
    home = studycli_home()
    return home / "config" if home else _user_folder("config")


def cache_dir() -> Path:
    """The user's cache folder (the content index): `STUDYCLI_CACHE`, then `<STUDYCLI_HOME>/cache`,
    then the platform's user cache folder. Anything in it may be deleted at any time."""
    override = os.environ.get("STUDYCLI_CACHE")
    if override:
        return absolute(Path(override).expanduser())
    home = studycli_home()
    return home / "cache" if home else _user_folder("cache")


def studycli_home() -> Path | None:
    """`STUDYCLI_HOME`, absolute (`~` expanded); None where it is unset or empty.

    A relative one is made absolute here, where it is read, so that every path under it is:
    `STUDYCLI_HOME=home studycli doctor` said "no review database at home/data/..." and the
    commands that name the database named another one, or none, from another folder. The
    files are where they were (the current folder's `home`).
    """
    home = os.environ.get("STUDYCLI_HOME")
    return absolute(Path(home).expanduser()) if home else None


def absolute(path: Path) -> Path:
    """`path` absolute (made from the current folder, not resolved: a link stays a link), as
    studycli says it: a relative one named another file, or none, once the learner changed
    directory. As given where there is no current folder (removed): it names nothing then,
    which opening it says later."""
    try:
        return path.absolute()
    except OSError:
        return path


def from_here(path: Path) -> Path:
    """`path` as a message names a file for the learner to open: relative to the current
    folder where it lies in it (`cards/math/x.yaml` from a clone's top), else absolute.
    Relative to another folder (the content folder's top), it named another file, or none,
    where the learner stood: `new` run in cards/math of a clone, or given --content, said
    "wrote cards/math/x.yaml"."""
    whole = absolute(path)
    try:
        return whole.relative_to(Path.cwd().resolve())
    except (ValueError, OSError):  # (not under it; no current folder)
        return whole


# Where the XDG base directory specification puts a user's folders of each kind (Linux)
_XDG = {
    "data": ("XDG_DATA_HOME", "~/.local/share"),
    "config": ("XDG_CONFIG_HOME", "~/.config"),
    "cache": ("XDG_CACHE_HOME", "~/.cache"),
}


def _user_folder(kind: str) -> Path:
    """studycli's folder of `kind` ("data", "config", "cache") among the user's: platformdirs'
    `user_<kind>_path("studycli")`.

    Importing platformdirs cost every command 12 M instructions (3% of `review`'s start to its
    first card, bench/instructions.py) for these three paths. On Linux, where the answer is
    the same from every platformdirs release, it is worked out here instead: the kind's XDG
    variable when it holds an absolute path, else, with the variable unset or empty and HOME
    an absolute path, the specification's default under HOME (`~/.cache`). Anything else
    (another system, Android, a relative or blank XDG variable, no HOME or a relative one) is
    left to platformdirs, as before.
    """
    variable, default = _XDG[kind]
    chosen = os.environ.get(variable, "")
    linux = sys.platform == "linux" and not hasattr(sys, "getandroidapilevel")
    if linux and "ANDROID_DATA" not in os.environ:
        if chosen.startswith("/"):
            return Path(chosen, APP_NAME)
        if not chosen and os.environ.get("HOME", "").startswith("/"):
            return Path(os.path.expanduser(default), APP_NAME)
    import platformdirs

    found: Path = getattr(platformdirs, f"user_{kind}_path")(APP_NAME)
    return found


def content_index_path(content: Path) -> Path:
    """Where the index of the content folder `content` is cached (one file per folder).

    The name is two checksums of the folder's path: zlib is loaded anyway to read the index,
    hashlib would load OpenSSL (a few ms of every command). Two folders whose paths collided
    would only take turns rebuilding the file: it records the folder it indexes.
    """
    import zlib

    path = os.fsencode(content.resolve())  # (a folder's name need not be UTF-8)
    return cache_dir() / f"content-{zlib.crc32(path):08x}{zlib.adler32(path):08x}.index"


def check_times_path() -> Path:
    """How long each check took last time it ran (`check` starts the longest first)."""
    return cache_dir() / "check-times.json"


def contracts_cache_path() -> Path:
    """Coding cards' contracts, kept between commands (`content.contract_cache`)."""
    return cache_dir() / "contracts"


def database_path(option: str | Path | None = None) -> Path:
    """The review database: `--db`, then `STUDYCLI_DB`, then `<data dir>/reviews.sqlite3`.
    A relative one is made absolute: the commands a message names with it (`studycli doctor
    --db ...`, `cp ...`) named another file, or none, once the learner changed directory."""
    chosen = option or os.environ.get("STUDYCLI_DB")
    if not chosen:
        return data_dir() / "reviews.sqlite3"
    return absolute(Path(chosen).expanduser())


def config_path() -> Path:
    """The settings file: `STUDYCLI_CONFIG` (absolute, as `database_path` makes the database),
    then `<config dir>/settings.toml`."""
    chosen = os.environ.get("STUDYCLI_CONFIG")
    return absolute(Path(chosen).expanduser()) if chosen else config_dir() / "settings.toml"


def anki_notes_path() -> Path:
    """What each note of the Anki exports made here was (`studycli.export.anki_record`): with
    the user's data, not in the cache, as deleting it dates the next export's notes by their
    files again."""
    return data_dir() / "anki-notes.json"


def attempts_dir() -> Path:
    """Where `solve` keeps the learner's attempt files between sessions."""
    return data_dir() / "attempts"


def replace_file(path: Path, data: bytes) -> None:
    """Write `data` as the file `path` in one step (see `replacing`).

    Raises:
        OSError: the folder cannot be made or written (the old file is left as it was).
    """
    with replacing(path, "wb") as handle:
        handle.write(data)


def replace_regular_file(path: Path, data: bytes) -> None:
    """`replace_file` for a file of studycli's own (a record, a cache), refusing a path there
    that is no regular file: `replace_file` writes such a path in place, and a named pipe with
    no reader held the command for ever.

    Raises:
        NotRegularFile: a named pipe, a device, a socket or a folder at `path`.
        OSError: as `replace_file`.
    """
    if path.exists() and not path.is_file():
        raise NotRegularFile(0, "it is not a regular file")
    replace_file(path, data)


@contextlib.contextmanager
def replacing(path: Path, mode: str = "w", **options: Any) -> Iterator[IO[Any]]:
    """A file open to write (`open`'s `mode` and `options`) that becomes `path` in one step
    when the block ends: a crash, a power cut, or an exception out of the block leaves the old
    file as it was and no temporary file behind (made in the same folder, written to the disk,
    then renamed over it). A temporary file left by a process killed outright is removed by
    the next replacing of the same file.

    Where `path` is a symbolic link, the file it points to is replaced and the link kept (a
    settings file linked from a dotfiles folder, an export into a synced folder); an existing
    file keeps its permissions. Where it is not a regular file (a named pipe, a terminal,
    /dev/stdout), it is written in place: it cannot be replaced.

    Raises:
        OSError: the folder cannot be made or written (the old file is left as it was).
    """
    import stat

    target = Path(os.path.realpath(path))
    try:
        old = target.stat()
    except FileNotFoundError:
        old = None
    if old is not None and not stat.S_ISREG(old.st_mode):
        with target.open(mode, **options) as handle:
            yield handle
        return
    with _beside(target, mode, **options) as (handle, temporary):
        yield handle
    try:
        os.chmod(temporary, stat.S_IMODE(old.st_mode) if old else 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    sync_folder(target.parent)


def create_file(path: Path, data: bytes) -> bool:
    """Write `data` as the new file `path` in one step, never over a file there: written to a
    temporary file in the same folder (as `replacing` does), then linked to its name, which
    fails where the name is taken. A crash or a full disk leaves no file at `path`, rather
    than one cut short that the next call would take for a file of the learner's. Where
    `path` is a symbolic link to nothing, the file it points to is made.

    Returns:
        True; False where a file was at `path` already (it is left as it was).

    Raises:
        OSError: the folder cannot be made or written.
    """
    path = Path(os.path.realpath(path))
    with _beside(path, "wb") as (handle, temporary):
        handle.write(data)
    try:
        os.chmod(temporary, 0o666 & ~_umask())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links (FAT): the name, unless taken
            if os.path.lexists(path):
                return False
            os.replace(temporary, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    sync_folder(path.parent)
    return True


@contextlib.contextmanager
def _beside(target: Path, mode: str, **options: Any) -> Iterator[tuple[IO[Any], str]]:
    """A temporary file in `target`'s folder (made if missing), open to write, and its path:
    named for `target` and this process, so that `_remove_abandoned` finds it where the
    process is killed; on the disk once the block ends, removed where the block raises.
    What `replacing` and `create_file` write before they give it `target`'s name."""
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(target)
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, mode, **options) as handle:
            yield handle, temporary
            handle.flush()
            os.fsync(handle.fileno())  # its data on the disk before its name
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _remove_abandoned(target: Path) -> None:
    """Remove the temporary files that `replacing` made for `target` in processes that are
    gone (killed outright, or the machine stopped): their names carry the process's id. Left
    alone: one whose process still runs; one written to in the last `ABANDONED_AFTER` seconds
    (a writer on another machine sharing the folder, whose process id means nothing here);
    every other name (another file's temporary files among them). Not on Windows, where
    there is no asking whether a process exists with a signal."""
    if os.name != "posix":
        return
    import re
    import time

    shape = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.[a-z0-9_]{{8}}\.tmp")
    for leftover in target.parent.iterdir():
        found = shape.fullmatch(leftover.name)
        if found is None or _running(int(found.group(1))):
            continue
        with contextlib.suppress(OSError):
            if time.time() - leftover.stat().st_mtime > ABANDONED_AFTER:
                leftover.unlink()


ABANDONED_AFTER = 3600.0  # seconds without a write after which a dead process's file goes


def _running(pid: int) -> bool:
    """Whether a process with this id exists (another user's too). (POSIX: signal 0.)"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # (PermissionError: another user's)
        pass
    return True


def sync_folder(folder: Path) -> None:
    """Write the folder's entries (a rename in it) to the disk, where the system allows it."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _umask() -> int:
    """The process's umask (which a new file's permissions leave out); reading it sets it."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class NotRegularFile(OSError):
    """A path that names a named pipe, a device or a socket, not a file (`read_regular`)."""


class FileTooLarge(OSError):
    """A file over the bytes its reader takes (`read_regular`)."""


def read_regular(path: str | Path, limit: int) -> bytes:
    """The bytes of the regular file at `path`, of at most `limit` bytes, opened without
    waiting: a named pipe with no writer held the read for ever, and /dev/zero never ends.

    Raises:
        NotRegularFile: a named pipe, a device, a socket.
        FileTooLarge: a file over `limit` bytes.
        IsADirectoryError, FileNotFoundError, OSError: as opening it would.
    """
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(descriptor, "rb") as handle:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(mode):
            raise NotRegularFile(f"{path} is not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(f"{path} is over {limit} bytes")
    return data
