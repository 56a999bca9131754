"""The content index (content/index.py): a cached load gives exactly what reading every file
gives; an edited, added or removed card is read again; a corrupt, foreign or stale index is
rebuilt, never trusted over the files; `lint` always reads the files."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import time

import pytest

from studycli.content import card_scan, card_yaml, study_view
from studycli.content import index as content_index
from studycli.content.card import Card
from studycli.content.loader import load_content
from studycli.errors import ContentError
from studycli.paths import content_index_path

from .conftest import FIXTURE_CONTENT, REPO_ROOT, write_card

AN_HOUR_AGO = time.time() - 3600


def settle(root) -> None:
    """Date every card file an hour back: an index written now is then not 'racy' for them."""
    for path in (root / "cards").rglob("*.y*ml"):
        os.utime(path, (AN_HOUR_AGO, AN_HOUR_AGO))


def same(a, b) -> None:
    assert list(a.cards) == list(b.cards)
    for card_id, card in a.cards.items():
        assert card == b.cards[card_id] and b.cards[card_id] == card
        assert card.path == b.cards[card_id].path
    assert [(p.path, p.message, p.line, p.card_id) for p in a.problems] == [
        (p.path, p.message, p.line, p.card_id) for p in b.problems
    ]


@pytest.fixture
def indexed(content_copy, tmp_path):
    """(content folder, index file) with the index written and every file 'settled'."""
    write_card(content_copy, "basics", "broken", "id: broken\nkind: essay\n")  # problems too
    settle(content_copy)
    index = tmp_path / "cache" / "content.index"
    load_content(content_copy, index=index)
    return content_copy, index


def no_parsing(monkeypatch):
    def refuse(*args):
        raise AssertionError("a card file was parsed")

    monkeypatch.setattr(card_yaml, "_parse_file", refuse)


def test_a_warm_index_gives_what_the_files_give_without_parsing_one(indexed, monkeypatch):
    root, index = indexed
    files = load_content(root)
    no_parsing(monkeypatch)
    cached = load_content(root, index=index)
    same(files, cached)
    assert any("kind 'essay'" in p.message for p in cached.problems)


def test_the_shipped_content_loads_the_same_through_the_index(tmp_path):
    root = tmp_path / "shipped"
    shutil.copytree(REPO_ROOT / "cards", root / "cards")
    settle(root)
    index = tmp_path / "content.index"
    load_content(root, index=index)
    files, cached = load_content(root), load_content(root, index=index)
    same(files, cached)
    lazy = load_content(root, index=index)  # (comparing cards above read all their text)
    items = [item for card in lazy.cards.values() for item in card.study_items()]
    assert all("prompt" not in vars(item) for item in items)  # made without reading text
    assert any(item.cloze for item in items)  # cloze cards, one item per deletion
    assert items == [item for card in files.cards.values() for item in card.study_items()]


def test_long_text_is_read_on_first_use_and_survives_pickling(indexed):
    root, index = indexed
    card = load_content(root, index=index).get("triangle-derivation")
    assert "prompt" not in vars(card) and "path" not in vars(card)  # not read yet
    assert card.steps[0].startswith("Write S forwards")
    assert card.path == root / "cards" / "numbers" / "triangle-derivation.yaml"
    copy = pickle.loads(pickle.dumps(card))
    assert copy == card and copy.prompt == card.prompt
    assert isinstance(copy, Card) and hash(copy) == hash(card)


def test_a_damaged_card_text_in_the_index_is_read_from_its_file(indexed):
    """Each card's long text has its own checksum: a damaged one is read from its file, and
    the other cards' still come from the index, one card's at a time."""
    root, index = indexed
    data = index.read_bytes()
    assert data.count(b"Write S forwards") == 1
    index.write_bytes(data.replace(b"Write S forwards", b"Write S backward"))
    cached = content_index.read(index, root)
    reparsed = []
    cached.reparse = lambda path: reparsed.append(path.name) or card_scan._body_of(path)
    damaged = "numbers/triangle-derivation.yaml"
    assert cached.body(damaged, root / "cards" / damaged)
    assert reparsed == ["triangle-derivation.yaml"] and list(cached._bodies) == [damaged]
    others = [relative for relative, entry in cached.entries.items() if entry[2]]
    for relative in others:
        cached.body(relative, root / "cards" / relative)
    assert reparsed == ["triangle-derivation.yaml"] and len(others) > 3
    card = load_content(root, index=index).get("triangle-derivation")
    assert card.steps[0].startswith("Write S forwards")


def test_an_edited_added_or_removed_card_is_read_again(indexed):
    root, index = indexed
    path = root / "cards" / "basics" / "bias-concept.yaml"
    path.write_text(path.read_text().replace("the origin", "zero, the origin"))
    write_card(root, "numbers", "new-card", load_card_text(root, "poisson-concept", "new-card"))
    (root / "cards" / "numbers" / "poisson-concept.yaml").unlink()
    cached = load_content(root, index=index)
    same(load_content(root), cached)
    assert "zero, the origin" in cached.get("bias-concept").answer
    assert "new-card" in cached.cards and "poisson-concept" not in cached.cards


def load_card_text(root, card_id: str, new_id: str) -> str:
    text = next(root.glob(f"cards/*/{card_id}.yaml")).read_text()
    return text.replace(f"id: {card_id}", f"id: {new_id}")


def test_a_same_size_edit_within_the_mtime_resolution_is_read_again(
    content_copy, tmp_path, monkeypatch
):
    """An entry as new as its index is 'racy' (a second edit in the same clock tick keeps the
    mtime): it is parsed again until the file is older than the index by RACY_NS."""
    index = tmp_path / "content.index"
    path = content_copy / "cards" / "basics" / "bias-concept.yaml"
    text = path.read_text()
    path.write_text(text)  # edited just now
    load_content(content_copy, index=index)
    stamp = path.stat().st_mtime_ns
    path.write_text(text.replace("origin", "ORIGIN"))  # the same size, the same mtime
    os.utime(path, ns=(stamp, stamp))
    assert "ORIGIN" in load_content(content_copy, index=index).get("bias-concept").answer
    settle(content_copy)  # once older than the index by RACY_NS, the entry is used again
    load_content(content_copy, index=index)
    parsed: list[str] = []
    parse = card_yaml._parse_file
    monkeypatch.setattr(
        card_yaml, "_parse_file", lambda path, *rest: parsed.append(path.name) or parse(path, *rest)
    )
    assert "ORIGIN" in load_content(content_copy, index=index).get("bias-concept").answer
    assert parsed == []  # nothing parsed: every entry, this one's too, stands for its file


def test_a_same_size_edit_given_back_its_old_mtime_is_read_again(indexed):
    """`touch -d`, `cp -p` or an archive's times can set an edited file's mtime back to the
    one its entry holds; the change time cannot be set back (the entry held only size and
    mtime, and every command but lint showed the card as it was before the edit)."""
    root, index = indexed
    path = root / "cards" / "basics" / "bias-concept.yaml"
    info = path.stat()
    path.write_text(path.read_text().replace("the origin", "THE ORIGIN"))  # the same size
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_size == info.st_size
    assert "THE ORIGIN" in load_content(root, index=index).get("bias-concept").answer
    view = study_view.load_study_view(root, index)  # (what `review` shows, from the index)
    assert view is not None
    item = next(item for item in view.items if item.id == "bias-concept")
    assert "THE ORIGIN" in view.card(item).answer


def test_a_file_whose_mode_changed_is_read_again(indexed, monkeypatch):
    """A card file this user could not read is an entry with that problem: `chmod` made it
    readable, with its size and mtime unchanged, and every command but lint still said it
    does not load. A change of mode changes the file's change time, which the entry holds."""
    root, index = indexed
    path = root / "cards" / "basics" / "bias-concept.yaml"
    os.chmod(path, 0o600)
    parsed: list[str] = []
    parse = card_yaml._parse_file
    monkeypatch.setattr(
        card_yaml, "_parse_file", lambda path, *rest: parsed.append(path.name) or parse(path, *rest)
    )
    load_content(root, index=index)
    assert parsed == ["bias-concept.yaml"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"not an index at all",
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data[:-10] + bytes(10),  # bits flipped: the checksum fails
        lambda data: b"",
    ],
)
def test_a_corrupt_index_is_rebuilt_silently(indexed, damage):
    root, index = indexed
    index.write_bytes(damage(index.read_bytes()))
    same(load_content(root), load_content(root, index=index))
    assert content_index.read(index, root).entries  # rewritten whole


def test_an_index_of_another_folder_is_not_used(indexed, tmp_path, monkeypatch):
    root, index = indexed
    other = tmp_path / "other"
    shutil.copytree(FIXTURE_CONTENT, other)
    settle(other)
    assert content_index.read(index, other).entries == {}
    same(load_content(other), load_content(other, index=index))


def test_lint_reads_the_files_even_when_the_index_would_say_otherwise(cli, indexed):
    """Lint reads the card broken with its size and mtime kept, whatever the index holds."""
    root, index = indexed
    path = root / "cards" / "basics" / "bias-concept.yaml"
    info = path.stat()
    text = path.read_text()
    path.write_text(text.replace("kind: concept", "kind: concpt "))  # the same size
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    result = cli("--content", root, "lint")
    assert result.exit_code == 1 and "kind 'concpt' must be one of" in result.output


def test_the_cli_keeps_its_index_in_the_cache_folder(cli, content_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("STUDYCLI_CACHE", str(tmp_path / "cache"))
    assert cli("--content", content_copy, "list").exit_code == 0
    index = content_index_path(content_copy)
    assert index.parent == tmp_path / "cache" and index.is_file()
    assert content_index.read(index, content_copy.resolve()).entries


def test_a_content_folder_whose_name_is_not_utf8_is_indexed(cli, tmp_path, monkeypatch):
    """A folder named in another encoding (an old archive's `caf\xe9`): every command, lint
    too, ended in a UnicodeEncodeError naming the index's file."""
    monkeypatch.setenv("STUDYCLI_CACHE", str(tmp_path / "cache"))
    root = tmp_path / os.fsdecode(b"caf\xe9")
    shutil.copytree(FIXTURE_CONTENT, root)
    for command in ("list", "lint", "due"):
        result = cli("--content", root, command)
        assert result.exit_code == 0, result.output
    assert content_index_path(root).is_file()


def test_indexes_no_command_wrote_for_two_months_are_let_go(
    cli, content_copy, tmp_path, monkeypatch
):
    """An older studycli named its index otherwise, and a clone removed leaves its own: each
    was kept in the cache folder for good."""
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("STUDYCLI_CACHE", str(cache))
    old, recent, other = (cache / f"content-{name}.index" for name in ("3f7e", "1b59", "x"))
    for stale in (old, recent, other):
        stale.write_bytes(b"an index of another folder")
    days_ago = time.time() - 61 * 86400  # past UNUSED_DAYS
    os.utime(old, (days_ago, days_ago))
    (cache / "check-times.json").write_text("{}")
    os.utime(cache / "check-times.json", (days_ago, days_ago))
    assert cli("--content", content_copy, "list").exit_code == 0
    assert not old.exists() and recent.exists() and other.exists()
    assert content_index_path(content_copy).is_file() and (cache / "check-times.json").exists()


def test_an_index_read_lately_is_kept_however_old_its_writing(
    cli, content_copy, tmp_path, monkeypatch
):
    """An unchanged collection reads the index written months ago: another folder's index
    written meanwhile removed it as unused, and the next command parsed every card again."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("STUDYCLI_CACHE", str(cache))
    days_ago = time.time() - 61 * 86400
    for path in (content_copy / "cards").rglob("*.y*ml"):  # as they were when it was written
        os.utime(path, (days_ago - 86400, days_ago - 86400))
    assert cli("--content", content_copy, "list").exit_code == 0
    index = content_index_path(content_copy)
    os.utime(index, (days_ago, days_ago))  # written 61 days ago, and not read since
    written = index.stat().st_mtime_ns
    assert cli("--content", content_copy, "list").exit_code == 0  # read today
    assert index.stat().st_mtime_ns == written  # (when it was written: what entries need)
    assert cli("--content", FIXTURE_CONTENT, "list").exit_code == 0  # writes another
    assert index.exists()


PROBE = """
import sys
from typer.testing import CliRunner
from studycli.cli.help_panels import whole_app
app = whole_app()
result = CliRunner().invoke(app, sys.argv[1:])
print(result.exit_code, "yaml" in sys.modules)
"""


def test_a_warm_index_needs_no_yaml_parser(content_copy, tmp_path):
    settle(content_copy)
    environ = {**os.environ, "STUDYCLI_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, "-c", PROBE, "--content", str(content_copy), "list"]
    cold = subprocess.run(command, capture_output=True, text=True, env=environ, cwd=REPO_ROOT)
    warm = subprocess.run(command, capture_output=True, text=True, env=environ, cwd=REPO_ROOT)
    assert cold.stdout.split() == ["0", "True"], cold.stderr
    assert warm.stdout.split() == ["0", "False"], warm.stderr


def test_a_file_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    """`paths.replace_file` (the index, the check times and the settings are written with it):
    a write that fails leaves the old file as it was and no temporary file behind."""
    import os

    from studycli.paths import replace_file

    target = tmp_path / "deep" / "file.bin"
    replace_file(target, b"first")
    replace_file(target, b"second")
    assert target.read_bytes() == b"second"

    def refuse(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        replace_file(target, b"third")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]


def test_a_replaced_file_keeps_its_link_and_its_permissions(tmp_path):
    """Through a symbolic link (a settings file kept in a dotfiles folder, an export into a
    synced one) the file it points to is replaced and the link stays; an existing file keeps
    its mode, a new one gets the umask's; a named pipe is written into, not replaced. (The link
    itself was replaced by a plain file, the file it pointed to left as it was.)"""
    import os
    import stat
    import threading

    from studycli.paths import replace_file

    real = tmp_path / "dotfiles" / "settings.toml"
    real.parent.mkdir()
    real.write_bytes(b"old")
    real.chmod(0o600)
    link = tmp_path / "settings.toml"
    link.symlink_to(real)
    replace_file(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(p.name for p in real.parent.iterdir()) == ["settings.toml"]

    mask = os.umask(0o027)
    try:
        replace_file(tmp_path / "fresh", b"x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o640

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    read: list[bytes] = []
    reader = threading.Thread(target=lambda: read.append(pipe.read_bytes()))
    reader.start()
    replace_file(pipe, b"through the pipe")
    reader.join(timeout=10)
    assert read == [b"through the pipe"] and stat.S_ISFIFO(pipe.stat().st_mode)


# --- what a study session reads (study_view.StudyView): items from the study rows, a card when shown


def _with_cloze_and_duplicate(root) -> None:
    """A cloze card, and a card whose id another file, earlier in path order, has first."""
    write_card(
        root,
        "numbers",
        "poisson-cloze",
        "id: poisson-cloze\nkind: cloze\ntopic: poisson\ntitle: Poisson moments\n"
        "prompt: 'E[X] = {{c1::λ}} and Var(X) = {{c2::the mean}}'\n",
    )
    write_card(root, "aaa", "bias-concept", load_card_text(root, "bias-concept", "bias-concept"))


def test_a_study_view_gives_the_items_and_each_card_as_the_whole_load_does(
    content_copy, tmp_path, monkeypatch
):
    _with_cloze_and_duplicate(content_copy)
    write_card(content_copy, "basics", "broken", "id: broken\nkind: essay\n")
    settle(content_copy)
    index = tmp_path / "content.index"
    assert study_view.load_study_view(content_copy, index) is None  # no index yet
    whole = load_content(content_copy, index=index)
    expected = {item.id: item for card in whole.cards.values() for item in card.study_items()}
    no_parsing(monkeypatch)
    view = study_view.load_study_view(content_copy, index)
    assert view is not None
    assert (view.items, view.left_out, view.drafts, view.renames) == study_view.load_study_items(
        content_copy, index=index
    )
    assert [item.id for item in view.items] == list(expected)
    assert {path.relative_to(content_copy / "cards").as_posix() for path in view.left_out} == {
        "basics/broken.yaml",
        "basics/bias-concept.yaml",  # the second file with its id
    }
    for item in view.items:
        card = view.card(item)
        assert card == expected[item.id] and card.path == expected[item.id].path
        assert view.card(card) is card  # a card (an undone one, back) is itself
    assert view.card(view.items[0]) is view.card(view.items[0])  # made once
    assert view.card(next(i for i in view.items if i.id == "bias-concept")).path.parent.name == (
        "aaa"  # the first file in path order keeps the id, as in the whole load
    )
    numbers = {item.id for card in whole.select(deck="numbers") for item in card.study_items()}
    assert {item.id for item in view.select("numbers")} == numbers and view.select() == view.items
    with pytest.raises(ContentError) as asked:
        view.select("number")
    with pytest.raises(ContentError) as loaded:
        whole.select(deck="number")
    assert str(asked.value) == str(loaded.value) and "did you mean numbers?" in str(asked.value)


def test_a_study_view_makes_only_the_card_asked_for(indexed, monkeypatch):
    root, index = indexed
    view = study_view.load_study_view(root, index)
    from studycli.content import indexed as indexed_module

    made, real = [], indexed_module.card
    monkeypatch.setattr(
        indexed_module, "card", lambda *args: made.append(args[0][0]) or real(*args)
    )
    card = view.card(view.items[-1])
    assert made == [card.id] and "prompt" not in vars(card)  # its text is read when shown
    assert card.prompt and made == [card.id]
    assert view._cached._entries is None  # from its own row of the index: no other card's read


def test_a_study_view_reads_a_card_whose_row_in_the_index_is_damaged_from_its_file(indexed):
    root, index = indexed
    data = index.read_bytes()
    index.write_bytes(data.replace(b"Write S forwards", b"Write S backward"))
    view = study_view.load_study_view(root, index)
    card = view.card(next(item for item in view.items if item.id == "triangle-derivation"))
    assert card == load_content(root).get("triangle-derivation")
    assert card.steps[0].startswith("Write S forwards")


def test_a_study_view_stands_only_while_every_file_is_as_the_index_has_it(indexed):
    root, index = indexed
    assert study_view.load_study_view(root, index) is not None
    path = root / "cards" / "basics" / "bias-concept.yaml"
    path.write_text(path.read_text().replace("the origin", "zero, the origin"))
    assert study_view.load_study_view(root, index) is None  # edited: load the content instead
    load_content(root, index=index)  # which writes the index again
    settle(root)
    load_content(root, index=index)
    view = study_view.load_study_view(root, index)
    assert view is not None
    item = next(i for i in view.items if i.id == "bias-concept")
    assert "zero, the origin" in view.card(item).answer
