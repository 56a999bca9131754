"""The Typer application, its global options and the one place errors are rendered."""

from __future__ import annotations

import copy
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from studycli.cli import ended_by_its_reader, named_command
from studycli.errors import StudyError
from studycli.records import Record

if TYPE_CHECKING:
    from collections.abc import Callable

    from typer.models import CommandInfo

    from studycli.content.card import Card


class _Group(TyperGroup):
    """Renders a `StudyError` from any command as one short line on stderr, exit 1 (and, for
    a command given --json, as {"error": message} on stdout too, so that a script reading
    stdout gets JSON whatever happened), and a Ctrl-C that no command handled as
    "interrupted", exit 130; gives each command's help its paragraphs whole (see
    `_reflowed`); and answers a bare `studycli` with its help (`parse_args`). A command whose
    output's reader has gone (`| head -1`) as it writes past Rich (`print`: --json, an
    export to stdout) ends as `ls` does, killed by SIGPIPE (`ended_by_its_reader`), where
    Typer exited 1."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        # A bare `studycli` is a learner asking what it does: the help, exit 0, as `--help`
        # gives it (as cargo, pip, docker and kubectl do). typer's no_args_is_help printed the
        # same help but, since click 8.2, exits 2 (click took a group run without a command
        # for a usage error, pallets/click#1486), as git's usage line with exit 1 does: a
        # mistake, where nothing was asked wrongly. Options with no command (`studycli --db
        # X`) still are one: "Missing command", exit 2.
        if not args and not ctx.resilient_parsing:
            args = ["--help"]
        return super().parse_args(ctx, args)

    def get_command(self, ctx: typer.Context, cmd_name: str):  # type: ignore[override]
        command = super().get_command(ctx, cmd_name)
        if command is not None and command.help:
            command.help = _reflowed(command.help)
        return command

    def invoke(self, ctx: typer.Context):  # type: ignore[override]
        # the command's own arguments, read before the group hands them over (and clears them)
        given = (*getattr(ctx, "_protected_args", ()), *ctx.args)
        try:
            return super().invoke(ctx)
        except StudyError as exc:
            print_error(str(exc))
            if "--json" in given:
                import json

                print(json.dumps({"error": str(exc)}))
            raise typer.Exit(1) from None
        except KeyboardInterrupt:  # one its command left to Typer (which exits without a word)
            exit_interrupted("interrupted")
        except BrokenPipeError:
            ended_by_its_reader()


def finite_seconds(value: float | None) -> float | None:
    """A `--timeout` callback: nan and inf passed its range (every comparison with nan is
    false) and turned the time limit off."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a number of seconds: give one, such as 10")
    return value


def print_prose(console: Console, *objects: Any, **options: Any) -> None:
    """Print a sentence (or a few) as a reader wants it where it goes: on a terminal, wrapped
    at its words to the terminal's width (left to the terminal, a line of 104 characters broke
    mid-word at 80 columns); piped or redirected, on one line however long (wrapped at Rich's
    80 columns, a script read it broken). A line that gives a command or a path to paste is
    printed with soft_wrap=True instead: a terminal's own wrap is copied as one line, where a
    line break of Rich's would paste a command in two. On a terminal a word longer than the
    line (a path deep in a home folder) stands whole on a line of its own (`prose.wrapped`),
    where Rich cut it at the width and it pasted in two."""
    if not console.is_terminal:
        console.print(*objects, soft_wrap=True, **options)
        return
    if not all(isinstance(item, str) for item in objects):  # (prose is text)
        console.print(*objects, **options)
        return
    from .prose import wrapped

    sep = options.pop("sep", " ")
    text = console.render_str(
        sep.join(objects),
        markup=options.pop("markup", None),
        highlight=options.pop("highlight", None),
        emoji=options.pop("emoji", None),
    )
    console.print(wrapped(text, console.width), soft_wrap=True, **options)


def stderr(*, highlight: bool = True) -> Console:
    """A console on stderr, as every command's notes and errors are written (its output,
    `stdout`). Every console of the CLI is made with emoji=False: Rich read `:x:` in what a
    message quotes (a file's line, a card id of a review log) as an emoji's name, and wrote ❌."""
    return Console(stderr=True, highlight=highlight, emoji=False)


def print_error(message: str) -> None:
    """An error, as every command says one: on stderr, one line where it is not a terminal."""
    print_prose(stderr(), f"[bold red]error:[/] {escape(message)}")


def exit_interrupted(said: str) -> NoReturn:
    """End a command that a Ctrl-C stopped: `said` (what it left, "interrupted: ...") on
    stderr, exit status 130."""
    print_prose(stderr(highlight=False), said)
    raise typer.Exit(130)


def _reflowed(text: str) -> str:
    """A docstring's paragraphs each on one line: Rich's help keeps the source's line breaks
    and wraps to the terminal too, so at 80 columns sentences broke in their middle."""
    import inspect

    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


app = typer.Typer(
    cls=_Group,
    help="Spaced-repetition study in the terminal, with answers that execute. "
    "`studycli --version` prints the installed version.",
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Options(Record):  # (a named tuple: every command makes the class)
    content: Path | None
    db: Path | None
    # what the command read of the content, for a later step: the content loaded, or the
    # renamed ids of its study rows (`renames`)
    loaded: dict[str, Any]

    def load(self, *, cached: bool = True, say_unloaded: bool = True):
        """The content folder, loaded (problems kept for lint). `cached` goes through the content
        index in the cache folder; `lint` reads every file instead. `say_unloaded`: the card
        files left out are named on stderr (`lint` and `check` say it their way)."""
        from studycli.content.loader import load_content

        root, index = self._content()
        content = load_content(root, index=index if cached else None)
        if say_unloaded and (unloaded := content.unloaded()):
            _say_unloaded(sorted({problem.path for problem in unloaded}), content.root, unloaded)
        self.loaded["content"] = content
        return content

    def study_items(self):
        """The study items of the content folder as rows (id, deck, requires), through the
        content index, no card made: what `due` counts. The card files left out are named on
        stderr, as `load` does, and so are the drafts (`say_drafts`).

        Raises:
            StudyError: there is no card to study (the folder holds none, or every one is a
                draft), said as `review` says it: `due` drew a table of zeros and blamed
                new_per_day.
        """
        from studycli.content.loader import Content
        from studycli.content.study_view import load_study_items

        root, index = self._content()
        items, unloaded, drafts, self.loaded["renames"] = load_study_items(root, index=index)
        if unloaded:
            _say_unloaded(unloaded, root, index=index)
        say_drafts([draft.id for draft in drafts])
        if not items:
            from .context import none_selected

            raise StudyError(none_selected(Content(root=root), drafts=bool(drafts)))
        return items

    def study_view(self):
        """The content folder as a study session reads it, no card made until it is shown
        (`study_view.StudyView`), while the content index stands for every card file; else None.
        The card files left out are named on stderr, as `load` does."""
        from studycli.content.study_view import load_study_view

        root, index = self._content()
        view = load_study_view(root, index)
        if view is not None:
            self.loaded["renames"] = view.renames
        if view is not None and view.left_out:
            _say_unloaded(view.left_out, root, index=index)
        return view

    def renames(self) -> dict[str, str]:
        """The ids the content's cards had before (`Content.renames`): from the content this
        command loaded, else from the content index's study rows, as `due` reads them (no card
        made); none where there is no content folder (`history` reads the log alone)."""
        if "renames" not in self.loaded:
            if "content" in self.loaded:
                self.loaded["renames"] = self.loaded["content"].renames
            else:
                rows = self._study_rows()
                self.loaded["renames"] = {} if rows is None else rows[3]
        return self.loaded["renames"]

    def item_ids(self) -> frozenset[str] | None:
        """The ids of the content's study items, from the content index's study rows, no card
        made and nothing said of the files left out (what `export-reviews` counts its
        suspensions among); None where there is no content folder (or none that reads)."""
        rows = self._study_rows()
        return None if rows is None else frozenset(item.id for item in rows[0])

    def _study_rows(self):
        """`load_study_items` of the content folder, read once; None where there is none."""
        if "study_rows" not in self.loaded:
            from studycli.content.study_view import load_study_items

            try:
                root, index = self._content()
                self.loaded["study_rows"] = load_study_items(root, index=index)
            except (StudyError, OSError):  # no content folder (or none that reads)
                self.loaded["study_rows"] = None
        return self.loaded["study_rows"]

    def solutions_dir(self) -> Path | None:
        """The content folder's `solutions/` (a rating records a coding card's contract from
        it); None where the content folder given does not read (`history` reads the log
        alone)."""
        try:
            return self._content()[0] / "solutions"
        except StudyError:
            return None

    def _content(self) -> tuple[Path, Path]:
        """The content folder and its index in the cache folder."""
        from studycli.paths import content_dir, content_index_path

        root = content_dir(self.content)
        return root, content_index_path(root)


def say_drafts(ids: list[str]) -> None:
    """Say on stderr which cards are left out of what is studied as still being written
    (`Card.draft`), where there are any: `review` showed a learner "TODO: the question, in your
    own words.", and its author did not know why `due` counted one card more."""
    if ids:
        from .card_notes import being_written

        said = being_written(ids)
        print_prose(stderr(highlight=False), f"note: {said}", markup=False)


def without_drafts(cards: list[Card]) -> list[Card]:
    """`cards` less the drafts (`Card.draft`), which are named on stderr (`say_drafts`): what a
    command studies or exports."""
    say_drafts([card.id for card in cards if card.draft])
    return [card for card in cards if not card.draft]


def _say_unloaded(
    paths: list[Path], root: Path, problems: list | None = None, *, index: Path | None = None
) -> None:
    """Say on stderr which card files do not load, and why (each was left out of the command
    without a word: `list` counted 3 cards of 4, `export-anki` exported 3): their `problems`,
    where the command has none, read through the content `index` (`unloaded_problems`: only
    where a file is left out)."""

    from .card_notes import left_out_notes

    if problems is None:
        from studycli.content.study_view import unloaded_problems

        problems = unloaded_problems(root, paths, index=index) if index else []
    console = stderr(highlight=False)
    for said in left_out_notes(paths, problems, root):
        print_prose(console, f"note: {said}", markup=False)


@app.callback()
def _global(
    ctx: typer.Context,
    content: Annotated[
        Path | None,
        typer.Option(
            "--content",
            envvar="STUDYCLI_CONTENT",
            help="Folder holding cards/ and solutions/ (default: here, else the nearest folder "
            "above with both, else the installed content).",
        ),
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db", envvar="STUDYCLI_DB", help="The review database (default: in your data folder)."
        ),
    ] = None,
) -> None:
    ctx.obj = Options(content=content, db=db, loaded={})


def options(ctx: typer.Context) -> Options:
    return ctx.find_root().obj


def given_on_command_line(ctx: typer.Context, option: str) -> bool:
    """Whether the command line gave the app's `option` ("content", "db"), not its
    environment variable nor its default."""
    source = ctx.find_root().get_parameter_source(option)
    return source is not None and source.name == "COMMANDLINE"  # (typer vendors click's enum)


def stdout() -> Console:
    """The console on stdout. On a dumb terminal (TERM=dumb: Emacs' shell) Rich takes 80 x 25
    unless given both sizes, whatever COLUMNS says: they are given, from COLUMNS and LINES or
    the terminal itself. On an output that is not UTF-8, one that spells what it lays out in
    what the output can show (`charset.LimitedConsole`): replaced as it was written, `θ` was
    measured one cell wide and written `theta`, and every box's border moved."""
    width = height = None
    if os.environ.get("TERM", "").lower() in ("dumb", "unknown"):
        width, height = _dumb_terminal_size()
    if not shows_unicode(sys.stdout):
        from .charset import LimitedConsole

        return LimitedConsole(highlight=False, emoji=False, width=width, height=height)
    return Console(highlight=False, emoji=False, width=width, height=height)


def _dumb_terminal_size() -> tuple[int | None, int | None]:
    try:
        size = os.get_terminal_size(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):
        return None, None
    columns, lines = os.environ.get("COLUMNS", ""), os.environ.get("LINES", "")
    width = int(columns) if columns.isdigit() and int(columns) else size.columns
    height = int(lines) if lines.isdigit() and int(lines) else size.lines
    return (width, height) if width else (None, None)


def shows_unicode(stream: object) -> bool:
    """Whether `stream` encodes every character (UTF-8, -16, -32): the test Rich makes before
    it draws its boxes in ASCII."""
    return (getattr(stream, "encoding", None) or "utf-8").lower().startswith("utf")


# The module under cli/ that registers each command: a command line imports only its own.
COMMANDS = {
    "new": "authoring",
    "schema": "authoring",
    "lint": "content",
    "check": "check",
    "show": "content",
    "list": "content",
    "cram": "cram",
    "doctor": "doctor",
    "export-anki": "export",
    "optimize": "optimize",
    "import-reviews": "reviews",
    "export-reviews": "reviews",
    "stats": "stats",
    "topics": "topics",
    "review": "study",
    "solve": "solve",
    "due": "study",
    "history": "history",
    "suspend": "study",
    "unsuspend": "study",
    "undo": "undo",
}


def command_name(info: CommandInfo) -> str:
    """A registered command's name, as Typer makes it from its function's."""
    assert info.callback is not None
    return info.name or info.callback.__name__.lower().replace("_", "-")


def invoked(args: list[str]) -> typer.Typer:
    """The app with only the command that `args` runs imported and registered, when the
    command line names one plainly; else the whole app (help, completion, an unknown command).

    Importing every command's module and turning each into a click command costs tens of
    milliseconds on each call; a command line runs one, and its help, usage and errors read
    the same either way.
    """
    import importlib

    arg = named_command(args)
    if arg in COMMANDS:
        importlib.import_module(f"{__package__}.{COMMANDS[arg]}")
        for info in app.registered_commands:
            assert info.callback is not None
            if arg == command_name(info):
                only = copy.copy(app)
                only.registered_commands = [info]
                assert app.registered_callback is not None and app.registered_callback.callback
                _evaluate_annotations(info.callback)
                _evaluate_annotations(app.registered_callback.callback)
                return only
    from .help_panels import whole_app  # (imported here alone: no command line needs it)

    return whole_app()


def _evaluate_annotations(function: Callable[..., Any]) -> None:
    """Give `function` (a command, or the app's callback) its annotations as values, each
    string that `from __future__ import annotations` left evaluated once.

    Typer reads a command's signature twice as it builds the command, and each time evaluated
    every string twice (`inspect.signature(eval_str=True)`, then `typing.get_type_hints`):
    `Annotated[int | None, typer.Option(min=1, help=...)]` parsed and compiled four times, 4 M
    instructions of `review`'s start (bench/instructions.py). Given values, it evaluates
    nothing; they are the values it got from the strings (inspect's own evaluation), so the
    command reads the same. Typer copies an annotation's `typer.Option` before it changes it.
    """
    import inspect

    function.__annotations__ = inspect.get_annotations(function, eval_str=True)
