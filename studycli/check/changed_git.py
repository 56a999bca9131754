"""What `check --changed` (changed.py) asks git: the commit to compare with (the merge base of
HEAD and a ref, or why there is none), the files changed since, and the card files' texts then.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

DEFAULT_BRANCH = "main"


def _texts_at(repo: Path, base: str, files: list[Path]) -> dict[Path, str]:
    """The text at `base` of each of `files` (absolute, under `repo`) that was there then,
    read with one `git cat-file --batch`."""
    files = [p for p in files if "\n" not in str(p)]  # the batch reads one name a line
    asked = "".join(f"{base}:{p.relative_to(repo).as_posix()}\n" for p in files)
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), "cat-file", "--batch"],
            input=asked.encode(),
            capture_output=True,
            check=False,
        )
    except OSError:
        return {}
    out, at, found = done.stdout, 0, {}
    for path in files:
        end = out.find(b"\n", at)
        if end < 0:
            break
        header = out[at:end].split(b" ")  # "<object> <type> <size>", or "<name> missing"
        at = end + 1
        if len(header) == 3 and header[2].isdigit():
            size = int(header[2])
            if header[1] == b"blob":
                found[path] = out[at : at + size].decode("utf-8", errors="replace")
            at += size + 1
    return found


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
        if merge_base is None:
            return _unrelated(repo, commit.strip(), ref)
        return merge_base.strip(), f"the merge base of HEAD with {ref}"
    for branch in (DEFAULT_BRANCH, f"origin/{DEFAULT_BRANCH}"):
        merge_base = _git(repo, "merge-base", "HEAD", branch)
        if merge_base is not None:
            return merge_base.strip(), f"the merge base of HEAD with {branch}"
    return None, (
        f"no merge base of HEAD with {DEFAULT_BRANCH} or origin/{DEFAULT_BRANCH} "
        "(name a ref: check --changed REF)"
    )


def _unrelated(repo: Path, commit: str, ref: str) -> tuple[str | None, str]:
    """The commit to compare with where git finds no merge base of HEAD with `ref` (its
    `commit`): in a whole clone (no common history, or no commit yet), the ref itself. In a
    shallow clone the history that would hold the merge base may be cut off: the ref is the
    base only where it is a parent of HEAD (a pull request's merge commit, one commit deep);
    else there is none. (Compared with the ref's tip, what main gained since the branch left
    it read as the branch's undoing: a card main added, as removed or renamed to the
    branch's new card.)"""
    if (_git(repo, "rev-parse", "--is-shallow-repository") or "").strip() != "true":
        return commit, ref
    head = (_git(repo, "cat-file", "commit", "HEAD") or "").partition("\n\n")[0]
    if commit in re.findall(r"^parent ([0-9a-f]+)$", head, re.MULTILINE):
        return commit, f"{ref}, a parent of HEAD"
    return None, (
        f"this clone is shallow, and its history does not reach where HEAD left {ref}: fetch "
        "it (git fetch --unshallow; in GitHub Actions, actions/checkout with fetch-depth: 0)"
    )


def _changed_paths(repo: Path, base: str) -> set[Path]:
    """Files that differ from `base` in the work tree (committed, staged or not), and
    untracked files, as resolved absolute paths."""
    diff = _git(repo, "diff", "--name-only", "--no-renames", "-z", base, "--") or ""
    untracked = _git(repo, "ls-files", "--others", "--exclude-standard", "-z") or ""
    names = [name for name in (diff + untracked).split("\0") if name]
    return {(repo / name).resolve() for name in names}


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
