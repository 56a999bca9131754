"""`check --changed`: the cards a branch touched, found with git.

A card is changed when its YAML file or a solution module it names (`solution:` or `check:`)
differs from where the branch left a ref (the merge base of HEAD and the ref, as in a pull
request's diff): committed since, staged, unstaged or untracked. A changed
module brings in every card that names it. A change to `studycli/assertions.py`, the API every
checker imports, brings in every card. Without git, or with a ref git does not know, every card
is checked and the note says why.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from studycli.content.card import Card
from studycli.content.loader import Content
from studycli.content.source import module_names

DEFAULT_BRANCH = "main"


@dataclass(frozen=True)
class Changed:
    """The cards to check, and a note saying what they were compared with."""

    cards: list[Card]
    note: str
    base: str | None = None  # the commit compared with; None when every card is checked
    broken: tuple[Path, ...] = ()  # changed card files that did not load (lint says why)
    renamed: tuple[tuple[str, str], ...] = ()  # (old id, new id) of card files git saw moved


def changed_cards(content: Content, ref: str | None = None) -> Changed:
    """The cards whose file or solution module differs from the merge base of HEAD and `ref`.

    Args:
        content: the loaded content; its folder must lie in a git work tree.
        ref: a commit, branch or tag; default: main (or origin/main where there is no local
            main).

    Returns:
        The changed cards sorted by deck then id, or every card (with a note saying why) when
        the folder is not in a git repository or the ref is unknown; and the changed files
        that did not load as cards.
    """
    everything = sorted(content.cards.values(), key=lambda c: (c.deck, c.id))
    if shutil.which("git") is None:
        return Changed(everything, "git is not installed: checking every card")
    top = _git(content.root, "rev-parse", "--show-toplevel")
    if top is None:
        return Changed(
            everything, f"{content.root} is not in a git repository: checking every card"
        )
    repo = Path(top.strip())
    base, what = _base(repo, ref)
    if base is None:
        return Changed(everything, f"{what}: checking every card")
    paths = _changed_paths(repo, base)
    described = f"{len(paths)} changed file(s) since {base[:10]} ({what})"
    if _assertions_file() in paths:
        return Changed(everything, f"{described}; studycli/assertions.py changed: every card", base)
    solutions = content.solutions_dir.resolve()
    modules = {p.stem for p in paths if p.parent == solutions and p.suffix == ".py"}
    chosen = [
        card for card in everything if card.path.resolve() in paths or module_names(card) & modules
    ]
    broken = tuple(sorted({p.path for p in content.problems if p.path.resolve() in paths}))
    renamed = _renamed_ids(repo, base, content.root.resolve() / "cards")
    return Changed(chosen, f"{described}: {len(chosen)} card(s) to check", base, broken, renamed)


def _renamed_ids(repo: Path, base: str, cards: Path) -> tuple[tuple[str, str], ...]:
    """(old id, new id) of each card file git finds renamed since `base` under another name
    (a card's file is named by its id): a published id changed, which leaves every learner's
    history of it behind. A file moved to another deck, its name kept, is not one."""
    listed = _git(repo, "diff", "--name-status", "-M", "-z", base, "--") or ""
    fields = listed.split("\0")
    found = []
    index = 0
    while index < len(fields) - 1:
        status = fields[index]
        paths = 2 if status[:1] in ("R", "C") else 1  # a rename or a copy names two
        if status[:1] == "R":
            old, new = ((repo / name).resolve() for name in fields[index + 1 : index + 3])
            cards_both = all(p.suffix == ".yaml" and cards in p.parents for p in (old, new))
            if cards_both and old.stem != new.stem:
                found.append((old.stem, new.stem))
        index += 1 + paths
    return tuple(found)


def _base(repo: Path, ref: str | None) -> tuple[str | None, str]:
    """The commit to compare with, and how it was chosen (or why there is none).

    That is the merge base of HEAD with the ref, as a pull request's diff is: what the branch
    changed, not what the ref gained since the branch left it.
    """
    if ref is not None:
        commit = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        if commit is None:
            return None, f"git knows no commit {ref!r} (fetch it first, e.g. git fetch origin)"
        merge_base = _git(repo, "merge-base", "HEAD", ref)
        if merge_base is None:  # no common history, or no commit yet: the ref itself
            return commit.strip(), ref
        return merge_base.strip(), f"the merge base of HEAD with {ref}"
    for branch in (DEFAULT_BRANCH, f"origin/{DEFAULT_BRANCH}"):
        merge_base = _git(repo, "merge-base", "HEAD", branch)
        if merge_base is not None:
            return merge_base.strip(), f"the merge base of HEAD with {branch}"
    return None, (
        f"no merge base of HEAD with {DEFAULT_BRANCH} or origin/{DEFAULT_BRANCH} "
        "(name a ref: check --changed REF)"
    )


def _changed_paths(repo: Path, base: str) -> set[Path]:
    """Files that differ from `base` in the work tree (committed, staged or not), and
    untracked files, as resolved absolute paths."""
    diff = _git(repo, "diff", "--name-only", "--no-renames", "-z", base, "--") or ""
    untracked = _git(repo, "ls-files", "--others", "--exclude-standard", "-z") or ""
    names = [name for name in (diff + untracked).split("\0") if name]
    return {(repo / name).resolve() for name in names}


def _assertions_file() -> Path | None:
    spec = importlib.util.find_spec("studycli.assertions")
    return Path(spec.origin).resolve() if spec and spec.origin else None


def _git(folder: Path, *args: str) -> str | None:
    """git's output, or None when git is missing or the command fails."""
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None
