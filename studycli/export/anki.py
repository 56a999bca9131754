"""Export cards to an Anki deck package (.apkg) with genanki, for study on a phone.

One Anki deck per studycli deck ("studycli::<deck>"), one note per card; a cloze card becomes a
note of Anki's cloze type, one Anki card per deletion number, as studycli studies it. Every id is derived,
never random: deck ids from the deck name, the note types' ids fixed (`MODEL_ID`), and each
note's GUID from the card's first id alone (the oldest of its `renamed_from`, else its id).
Anki matches notes by GUID on import, so importing a new export after a card's text changed,
or after it was renamed, updates the note (and keeps its Anki review history) instead of adding
a duplicate: the same principle as studycli's own history, keyed by id, not text.

Anki updates a note on import only when the package's note is newer than the collection's, so
each note is stamped with when its text last changed (`dated`), not with the export's time: a
re-export updates the notes of edited cards and leaves the others, and the edits a learner
made to them in Anki, alone. What counts is the note's text, kept in a record of the notes
exported on this machine (`anki_record`), not its files' modification times, which a fresh
clone, an upgrade or a checker's edit move for notes that did not change. A first export on a
machine, with no record yet, dates a note whose text is as shipped by the content's own record
(`anki_record.SHIPPED`: when its authors last changed it).
"""

from __future__ import annotations

import hashlib
import html
import itertools
import sqlite3
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import genanki
from markdown_it import MarkdownIt

from studycli.content.card import Card, Kind
from studycli.content.renamed_from import card_entries
from studycli.content.source import card_starter, module_path
from studycli.errors import StudyError
from studycli.paths import replacing
from studycli.records import Record

from . import anki_record
from .anki_record import Entry

DECK_PREFIX = "studycli::"
# The note types' ids must never change, nor may they be derived from a name that changes:
# Anki's import skips as "conflicting" a note whose GUID it holds under another note type, so a
# new id strands every note a learner imported before. (Renaming 'studycli card v1' to 'v2',
# when the Explanation field came, did that: see README.) A new field goes into the same note
# type, keeping its id: Anki's import merges the changed note type into the learner's when they
# tick "Merge note types" (else it adds a 'studycli card v2+' and skips the notes as
# conflicting), and the merge dates their notes at the import, so the new field is filled by
# an import with "Update notes: Always" (seen with the anki library, 26.9).
MODEL_NAME = "studycli card v2"
MODEL_ID = 1753197598  # stable_id("studycli card v2")
FIELDS = ("Id", "Kind", "Topic", "Title", "Prompt", "Answer", "Steps", "Code", "Explanation")
CLOZE_MODEL_NAME = "studycli cloze v1"
CLOZE_MODEL_ID = 1777041488  # stable_id("studycli cloze v1")
CLOZE_FIELDS = ("Text", "Back Extra", "Id", "Topic", "Title")

# Bump when the export's HTML rendering or note fields change (`markdown_html`, `card_fields`,
# `cloze_fields`, the templates): no note is stamped older than this (`card_modified`, `dated`),
# so the first import of an export with the new rendering updates every note once, the cards'
# files unchanged. (A change of the fields changes the notes' hashes too, which dates them at
# the export where there is a record; a change of the templates alone does not.)
RENDERED_SINCE = datetime(2026, 12, 5, tzinfo=UTC)

_FRONT = """\
<div class="meta">{{Kind}} · {{Topic}} · {{Id}}</div>
<h3>{{Title}}</h3>
<div class="prompt">{{Prompt}}</div>
{{#Code}}<div class="code">{{Code}}</div>{{/Code}}
"""
_BACK = """\
{{FrontSide}}
<hr id="answer">
{{#Steps}}<div class="steps">{{Steps}}</div>{{/Steps}}
{{#Answer}}<div class="answer">{{Answer}}</div>{{/Answer}}
{{#Code}}<p class="solve">answer it with: <code>studycli solve {{Id}}</code></p>{{/Code}}
{{#Explanation}}<div class="why">{{Explanation}}</div>{{/Explanation}}
"""
_CLOZE_FRONT = """\
<div class="meta">cloze · {{Topic}} · {{Id}}</div>
<h3>{{Title}}</h3>
<div class="prompt">{{cloze:Text}}</div>
"""
_CLOZE_BACK = """\
<div class="meta">cloze · {{Topic}} · {{Id}}</div>
<h3>{{Title}}</h3>
<div class="prompt">{{cloze:Text}}</div>
{{#Back Extra}}<hr id="answer"><div class="why">{{Back Extra}}</div>{{/Back Extra}}
"""
_CSS = """\
.card { font-family: sans-serif; font-size: 18px; text-align: left; }
.meta { color: #888; font-size: 13px; }
pre { background: #f4f4f4; padding: 8px; overflow-x: auto; font-size: 14px; }
.nightMode pre { background: #222; }
.solve { color: #2a7; }
.why { color: #666; font-size: 15px; margin-top: 8px; }
.cloze { font-weight: bold; color: #27a; }
"""

# Card text parsed as the terminal parses it (Rich's Markdown: CommonMark with tables and
# strikethrough), so a card has the same lines in Anki as in `studycli show`: a single newline is
# a soft break (the card files are hard-wrapped, and a phone reflows the paragraph), while code
# blocks, lists, tables and hard breaks (a line ending in two spaces or a backslash) keep
# theirs. Raw HTML is off, so `<`, `>` and `&` in card text are escaped, not interpreted.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"])


def stable_id(name: str) -> int:
    """A 31-bit Anki id derived from `name` (genanki suggests ids in [2**30, 2**31))."""
    digest = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    return (1 << 30) + digest % (1 << 30)


def deck_name(deck: str) -> str:
    return DECK_PREFIX + deck


def note_model() -> genanki.Model:
    """The note type every exported card uses: the fields of `FIELDS`, one card template."""
    return genanki.Model(
        MODEL_ID,
        MODEL_NAME,
        fields=[{"name": name} for name in FIELDS],
        templates=[{"name": "Card 1", "qfmt": _FRONT, "afmt": _BACK}],
        css=_CSS,
        sort_field_index=FIELDS.index("Title"),
    )


def cloze_model() -> genanki.Model:
    """Anki's cloze note type for cloze cards: Anki makes one card per deletion number."""
    return genanki.Model(
        CLOZE_MODEL_ID,
        CLOZE_MODEL_NAME,
        fields=[{"name": name} for name in CLOZE_FIELDS],
        templates=[{"name": "Cloze", "qfmt": _CLOZE_FRONT, "afmt": _CLOZE_BACK}],
        css=_CSS,
        model_type=genanki.Model.CLOZE,
        sort_field_index=CLOZE_FIELDS.index("Title"),
    )


def markdown_html(text: str) -> str:
    """Card Markdown as simple HTML: escaped, paragraphs reflowed (see `_MARKDOWN`), code spans
    and blocks, lists."""
    rendered = _MARKDOWN.render(text).strip()
    # A single paragraph needs no <p> wrapper (it would add a margin inside list items).
    if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
        return rendered[3:-4]
    return rendered


def steps_html(steps: tuple[str, ...]) -> str:
    """Derivation steps as an ordered list, or "" when there are none."""
    if not steps:
        return ""
    return "<ol>" + "".join(f"<li>{markdown_html(step)}</li>" for step in steps) + "</ol>"


def code_html(source: str) -> str:
    return f'<pre><code class="language-python">{html.escape(source, quote=False)}</code></pre>'


def card_fields(card: Card, starter: str | None) -> list[str]:
    """The note's field values, in the order of `FIELDS`."""
    return [
        card.id,
        card.kind.value,
        card.topic,
        html.escape(card.title),
        markdown_html(card.prompt),
        markdown_html(card.answer),
        steps_html(card.steps),
        code_html(starter) if starter is not None else "",
        markdown_html(card.explanation),
    ]


def cloze_fields(card: Card) -> list[str]:
    """A cloze note's field values, in the order of `CLOZE_FIELDS`. The deletions keep Anki's
    own syntax, which Markdown leaves alone."""
    return [
        markdown_html(card.prompt),
        markdown_html(card.explanation),
        card.id,
        card.topic,
        html.escape(card.title),
    ]


def card_modified(card: Card, solutions_dir: Path) -> float:
    """When the card's note last changed as far as its files tell, as a Unix time: the newest
    of its file's modification time, for a runnable card its solution module's (the note shows
    the starter made from it), and `RENDERED_SINCE`. Only a note with no record of an earlier
    export on this machine is dated so (`dated`): a fresh clone, an upgrade, `touch` or an edit
    of the module's checker moves these times for notes whose text did not change. A file that
    is gone (the module of a card with its own starter) is left out: lint reports it."""
    paths = [card.path]
    if card.solution is not None:
        paths.append(module_path(solutions_dir, card.solution.module))
    return max([RENDERED_SINCE.timestamp()] + [p.stat().st_mtime for p in paths if p.exists()])


def dated(before: Entry | None, digest: str, files: float, now: float) -> float:
    """A note's modification time, as a Unix time, given its record from the last export made
    on this machine (`before`) and the hash of what it is now (`digest`).

    The same hash: the time it was given then (no older than `RENDERED_SINCE`), so the note is
    no newer than the edits the learner made to it in Anki since, whatever its files' times
    did. Another hash: `now`, the export's time (its text changed since that export, and
    updates the note), or a second after the time it was given then where that is ahead of
    the clock: dated at `now`, it was older than the note Anki holds, which kept the old
    text. No record: `files`, its files' time (`card_modified`), as a first export on this
    machine can tell no better.
    """
    if before is None:
        return files
    if before.digest == digest:
        return max(before.modified, RENDERED_SINCE.timestamp())
    return max(now, before.modified + 1)  # (Anki keeps whole seconds)


class DatedNote(genanki.Note):
    """A note written with its own modification time, where genanki gives every note the
    package's: Anki's import ("update notes if newer") compares it with the note's time in the
    collection, which an edit made in Anki moves on."""

    def __init__(self, modified: float, **note: object) -> None:
        super().__init__(**note)
        self.modified = modified

    def write_to_db(self, cursor: object, timestamp: float, deck_id: int, id_gen: object) -> None:
        super().write_to_db(cursor, self.modified, deck_id, id_gen)


def card_note(card: Card, models: dict[bool, genanki.Model], solutions_dir: Path) -> DatedNote:
    """One card as a note whose GUID depends on the card's first id only (`first_id`), stamped
    with when its files last changed (`build_package` dates it by its record); `models` maps
    "is cloze" to the note type."""
    tags = [tag.replace(" ", "_") for tag in card.tags]  # Anki tags cannot hold spaces
    if card.kind == Kind.CLOZE:
        fields = cloze_fields(card)
    else:
        fields = card_fields(card, card_starter(card, solutions_dir) if card.runnable else None)
    return DatedNote(
        card_modified(card, solutions_dir),
        model=models[card.kind == Kind.CLOZE],
        fields=fields,
        tags=tags,
        guid=genanki.guid_for(first_id(card)),
    )


def first_id(card: Card) -> str:
    """The id a card's note was first exported under, which its GUID keeps: the oldest of the
    ids it had before (`renamed_from`), else its id. Anki updates the note whose GUID a note of
    the package has (genanki: "the new note will overwrite the old one"); a GUID of the new id
    made a second note, the old one left with its reviews. An entry of one study item (a
    cloze deletion split off, `renamed_from.card_entries`) names no note of this card: Anki
    keeps that deletion's reviews with the old card's note."""
    ids = card_entries(card.renamed_from)
    return ids[0] if ids else card.id


class Built(Record):
    """A package to write, and the record of its notes (per card id) for the next export."""

    package: genanki.Package
    notes: dict[str, Entry]


def build_package(
    cards: list[Card], solutions_dir: Path, recorded: dict[str, Entry], now: float
) -> Built:
    """A package with one deck per studycli deck among `cards`, each note under its deck and
    dated by `recorded`, the record of the last exports (see `dated`; `now` is the export's
    time).

    Raises:
        StudyError: when `cards` is empty.
        ContentError: when a runnable card's solution module cannot be read for its starter.
    """
    if not cards:
        raise StudyError(
            "no cards to export: loosen --deck, --topic, --kind or --tag "
            "(`studycli list` shows what there is)"
        )
    models = {False: note_model(), True: cloze_model()}
    decks: dict[str, genanki.Deck] = {}
    notes: dict[str, Entry] = {}
    for card in sorted(cards, key=lambda c: (c.deck, c.id)):
        if card.deck not in decks:
            name = deck_name(card.deck)
            decks[card.deck] = genanki.Deck(stable_id(name), name)
        note = card_note(card, models, solutions_dir)
        digest = anki_record.note_digest(note.model.model_id, note.fields, note.tags)
        note.modified = dated(recorded.get(card.id), digest, note.modified, now)
        notes[card.id] = Entry(digest, note.modified)
        decks[card.deck].add_note(note)
    return Built(genanki.Package(list(decks.values())), notes)


class Exported(Record):
    """What `export_anki` did: per Anki deck name, (cards, the Anki cards they make); and the
    lines to tell the user about the record of exports (it could not be read or written)."""

    decks: dict[str, tuple[int, int]]
    said: list[str]


def export_anki(
    cards: list[Card],
    solutions_dir: Path,
    out: Path,
    now: datetime,
    record: Path,
    shipped: Path | None = None,
) -> Exported:
    """Write `cards` to the Anki package `out`, and what their notes were to `record`.

    Args:
        cards: the cards to export (any decks).
        solutions_dir: the content's `solutions/`, for the starters of runnable cards.
        out: the .apkg file to write (replaced if it exists).
        now: the package's own time (its note and card ids are counted from it), and the
            modification time of the notes whose text changed since the last export. The
            others keep the time that export gave them (`dated`): Anki's import updates a
            note it holds only when the package's is newer, and an export that stamped every
            note `now` (or with its files' times, which a fresh clone or an upgrade moves)
            overwrote notes, and the learner's edits to them in Anki, on each re-import.
        record: the record of the notes exported on this machine (`anki_record`). The
            exported cards' entries are replaced, the others' kept (an export of one deck
            forgets no other, nor does one running at the same time: `merge_into`). One that
            cannot be read (at the start, or only when it is written) is written afresh, and
            one that cannot be written leaves the export done: each is said in
            `Exported.said`.
        shipped: the content's own record of its notes (`anki_record.SHIPPED`), for the
            notes `record` has no entry of: one whose text is as shipped is dated by when
            that text last changed, not by its files (a first export on this machine).

    Returns:
        Per Anki deck name: (cards, the Anki cards they make). Anki makes a cloze note one
        card per deletion number, as studycli studies it, so a deck of cloze cards holds
        more Anki cards than studycli cards. And the lines to tell the user (`said`).

    Raises:
        StudyError: no cards, a path that is not .apkg, or a file that cannot be written.
    """
    if out.suffix != ".apkg":
        raise StudyError(f"{out} must end in .apkg: Anki imports .apkg files")
    if not out.parent.is_dir():
        raise StudyError(f"the folder {out.parent} does not exist: create it first")
    authored, broken = (
        anki_record.load(shipped, anki_record.CONTENTS) if shipped is not None else ({}, None)
    )
    recorded, unreadable = anki_record.load(
        record, anki_record.PAST_EXPORTS_BESIDE_CONTENTS if authored else anki_record.PAST_EXPORTS
    )
    built = build_package(cards, solutions_dir, {**authored, **recorded}, now.timestamp())
    try:
        write_package(built.package, out, now.timestamp())
    except OSError as exc:
        raise StudyError(f"cannot write {out}: {exc.strerror or exc}") from None
    said = [broken] if broken else []
    try:
        # (another export's since kept; one unreadable now, where it read fine at first: said)
        unreadable_now = anki_record.merge_into(record, built.notes)
        if unreadable:
            said.append(f"{unreadable}, and a fresh record is written")
        elif unreadable_now:
            said.append(unreadable_now)
    except OSError as exc:
        said += [unreadable] if unreadable else []  # (not "a fresh record is written")
        said.append(
            f"the record of this export cannot be written to {record} "
            f"({exc.strerror or exc}): {out} is written, but the next export may date notes "
            "anew that did not change since this one"
        )
    notes = Counter(deck_name(card.deck) for card in cards)
    made = Counter(deck_name(card.deck) for card in cards for _ in card.study_items())
    return Exported({name: (notes[name], made[name]) for name in sorted(notes)}, said)


def write_package(package: genanki.Package, out: Path, timestamp: float) -> None:
    """What genanki's `Package.write_to_file` does (0.13), in one step and with nothing left
    behind.

    The collection is built in memory, not in a file of the temporary folder (genanki never
    deletes its own; a folder removed at the end stayed behind a killed export, a copy of the
    cards each time; only an SQLite without the serialize API still copies it through one,
    see `_serialized`), and the package replaces `out` whole (`replacing`): written in place,
    a kill or a full disk midway left a truncated package where the earlier one had been.

    Raises:
        OSError: `out` cannot be written (an earlier package there is left as it was).
    """
    connection = sqlite3.connect(":memory:")
    try:
        package.write_to_db(connection.cursor(), timestamp, itertools.count(int(timestamp * 1000)))
        connection.commit()
        collection = _serialized(connection)
    finally:
        connection.close()
    with replacing(out, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
        archive.writestr("collection.anki2", collection)
        archive.writestr("media", "{}")  # no media files: an empty index


def _serialized(connection: sqlite3.Connection) -> bytes:
    """The database of `connection` as the bytes of its file. `Connection.serialize` exists
    only where Python's SQLite has the serialize API (3.36 and later: RHEL 9's python3.11 has
    3.34, and every export ended in an AttributeError); there the database is copied into a
    file of a temporary folder that is removed, and read back."""
    if hasattr(connection, "serialize"):
        return connection.serialize()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="studycli-anki-") as scratch:
        path = Path(scratch) / "collection.anki2"
        copy = sqlite3.connect(path)
        try:
            connection.backup(copy)
        finally:
            copy.close()
        return path.read_bytes()
