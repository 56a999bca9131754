"""Write the content's record of its Anki notes, cards/anki-notes.json (`anki_record.SHIPPED`):
each card's note as `studycli export-anki` makes it (a hash of what Anki sees) and when that
last changed. A first export on a machine dates a note whose text is as shipped by this time,
not by its files' times, which a fresh clone makes new (and an import would then overwrite the
learner's edits to the note in Anki).

Run it after changing a card's text, a coding card's starter (made from its solution module),
or the export's rendering; `tests/test_export_anki.py` fails while the record is out of date.
A note whose hash is unchanged keeps its time; a changed or new one is dated now.

    python scripts/anki_notes.py [--content DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from studycli.content.loader import load_content
from studycli.export import anki_record
from studycli.export.anki import build_package

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", type=Path, default=ROOT, help="the content folder")
    args = parser.parse_args()
    content = load_content(args.content)
    path = args.content / "cards" / anki_record.SHIPPED
    recorded, unreadable = anki_record.load(path, (anki_record.CONTENTS[0], "written afresh"))
    if unreadable:
        print(unreadable)
    now = float(int(time.time()))  # (Anki keeps whole seconds)
    cards = list(content.cards.values())
    notes = build_package(cards, content.solutions_dir, recorded, now).notes
    new = [i for i in notes if i not in recorded]
    for card_id in new:  # dated now, not by its file
        notes[card_id] = anki_record.Entry(notes[card_id].digest, now)
    changed = [i for i in notes if i in recorded and notes[i].digest != recorded[i].digest]
    gone = [i for i in recorded if i not in notes]
    anki_record.save(path, notes)
    print(f"{path}: {len(notes)} notes; {len(changed)} changed, {len(new)} new, {len(gone)} gone")


if __name__ == "__main__":
    main()
