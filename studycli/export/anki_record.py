"""What each note of this machine's Anki exports was: per card id, a hash of what Anki sees of
the note and the modification time it was given.

Anki's import ("Update notes: if newer") overwrites a note in the learner's collection, and
their edits to it in Anki, whenever the package's note is newer. A note dated by its card's
files was newer after anything that moved a file's time without changing the note: a fresh
`git clone`, `pip install --upgrade`, an edit of a solution module's checker, `touch`. With
this record, a re-export keeps a note's time while its hash stays the same (`anki.dated`).

The file is small JSON in the data folder: {"format": 1, "notes": {card id: {"hash": sha256
hex, "modified": Unix time}}}. One that cannot be read is reported, not trusted: the export
then dates notes as a first export does, and writes the record afresh.

A content folder ships one too, in the same format (`SHIPPED`, in its cards/): each note as
its authors last changed it, so that the first export on a machine (a fresh clone, a second
computer) dates a note whose text is as shipped by when that text last changed, not by its
files, which the clone made new: dated by its files, it was newer than the edits the learner
had made to it in Anki from another machine's exports, and the import overwrote them.
`scripts/anki_notes.py` writes it; a test fails while it is out of date.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from studycli.paths import FileTooLarge, NotRegularFile, read_regular, replace_regular_file
from studycli.records import Record

from . import record_lock

FORMAT = 1
# Far over any record (a card's entry takes ~110 bytes), and it keeps a stray huge file out
# of memory
MAX_BYTES = 64 << 20
SHIPPED = "anki-notes.json"  # a content folder's record of its notes, in its cards/
# What each record is called where it cannot be read, and what the export then does
PAST_EXPORTS = ("the record of past Anki exports", "notes are dated by their files this time")
# ... beside a content's record of its notes, which then dates them as a first export does
PAST_EXPORTS_BESIDE_CONTENTS = (
    PAST_EXPORTS[0],
    "notes are dated as on a first export this time (by the content's record of its notes "
    "where their text is as shipped, else by their files)",
)
CONTENTS = (
    "the content's record of its notes",
    "notes not exported here before are dated by their files this time",
)
# ... read fine at the export's start, but not under the lock when it is written
CHANGED = (
    PAST_EXPORTS[0],
    "it changed while this export ran, and a fresh record is written with this export's notes "
    "alone (the other cards' notes are dated as on a first export at their next export)",
)
LATEST = 1e12  # a Unix time past it (the year 33658), NaN or infinity is no note's time


class Entry(Record):
    """One exported note: the hash of what Anki saw of it, and the time it was given."""

    digest: str
    modified: float


def note_digest(model_id: int, fields: Sequence[str], tags: Sequence[str]) -> str:
    """The sha256 of what Anki's import compares of a note: its note type, fields and tags
    (canonical JSON: no spaces, Unicode as itself)."""
    text = json.dumps(
        [model_id, list(fields), list(tags)], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load(path: Path, what: tuple[str, str] = PAST_EXPORTS) -> tuple[dict[str, Entry], str | None]:
    """The record at `path`, and None; or, when it cannot be read, no entries and a line that
    says so (naming the file as `what` does, and what the export does then). A missing file is
    an empty record (no export yet, or a content folder that ships none): no problem.
    """
    try:
        found = json.loads(read_regular(path, MAX_BYTES).decode("utf-8"))
    except FileNotFoundError:
        return {}, None
    except NotRegularFile:
        return {}, _unreadable(path, what, "it is not a regular file")
    except FileTooLarge:
        return {}, _unreadable(path, what, f"it is over {MAX_BYTES >> 20} MiB")
    except OSError as exc:
        return {}, _unreadable(path, what, exc.strerror or str(exc))
    except ValueError:  # (UnicodeDecodeError is one)
        return {}, _unreadable(path, what, "it is not JSON")
    except RecursionError:  # lists in lists, thousands deep
        found = None
    entries = _entries(found)
    if entries is None:
        return {}, _unreadable(path, what, f"it is not a format-{FORMAT} record of Anki exports")
    return entries, None


def _entries(found: object) -> dict[str, Entry] | None:
    """The entries of a record's JSON, or None where its shape is not the record's."""
    if not isinstance(found, dict) or found.get("format") != FORMAT:
        return None
    notes = found.get("notes")
    if not isinstance(notes, dict):
        return None
    entries = {}
    for card_id, entry in notes.items():
        if not isinstance(entry, dict):
            return None
        digest, modified = entry.get("hash"), entry.get("modified")
        if not isinstance(digest, str) or isinstance(modified, bool):  # (True is an int)
            return None
        if not isinstance(modified, (int, float)) or not 0 <= modified < LATEST:
            return None
        entries[card_id] = Entry(digest, float(modified))
    return entries


def _unreadable(path: Path, what: tuple[str, str], why: str) -> str:
    return f"{what[0]} {path} cannot be read ({why}): {what[1]}"


def merge_into(path: Path, entries: Mapping[str, Entry]) -> str | None:
    """Write to the record at `path` its entries as they are now (another export's since this
    one read it included) with `entries` in their place, under the record's lock
    (`record_lock`): two exports at once keep both's notes. One that cannot be read is
    written afresh.

    Returns:
        None; or, where the record cannot be read now, a line that says so and that the
        other cards' entries are gone (`CHANGED`): the export says it where it read the
        record fine at its start (another program wrote into it meanwhile), else it said so
        then.

    Raises:
        OSError: as `save`; TimeoutError (one) where another export held the lock past its
            wait (`record_lock.locked`; where there can be no lock, it writes unlocked).
    """
    with record_lock.locked(path):
        now, unreadable = load(path, CHANGED)
        save(path, {**now, **entries})
    return unreadable


def save(path: Path, entries: Mapping[str, Entry]) -> None:
    """Write the record in one step (a temporary file in its folder, renamed over it).

    Raises:
        OSError: the folder cannot be made or written (the old record is left as it was).
        NotRegularFile: `path` is a named pipe, a device, a socket or a folder
            (`replace_regular_file`: a named pipe held the export for ever).
    """
    notes = {
        card_id: {"hash": entry.digest, "modified": entry.modified}
        for card_id, entry in sorted(entries.items())
    }
    text = json.dumps({"format": FORMAT, "notes": notes}, ensure_ascii=False, indent=1)
    replace_regular_file(path, (text + "\n").encode("utf-8"))
