"""The app with every command registered, each in its panel of the help: what the help,
shell completion and the tests read. A command line registers its own command alone
(`app.invoked`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .app import COMMANDS, app, command_name

if TYPE_CHECKING:
    import typer


# The help's panels, each command under what a learner comes to it for, in this order. In the
# order their modules registered them, a learner's commands sat among the ones that write
# cards (`review` 14th, after `new`, `schema`, `lint` and `check`). Only the whole app, which
# prints the help, reads this: a command line registers its own command alone (`app.invoked`).
HELP_PANELS = {
    "Study": ("review", "due", "solve", "cram", "undo", "suspend", "unsuspend"),
    "Your progress and history": (
        "stats", "history", "optimize", "export-reviews", "import-reviews", "doctor",
    ),
    "Cards": ("topics", "list", "show", "export-anki"),
    "Writing cards": ("new", "lint", "check", "schema"),
}  # fmt: skip


def whole_app() -> typer.Typer:
    """The app with every command registered (help, completion, tests), in the help's panels
    (`HELP_PANELS`)."""
    import importlib

    for module in sorted(set(COMMANDS.values())):
        importlib.import_module(f"{__package__}.{module}")
    panel_of = {name: panel for panel, names in HELP_PANELS.items() for name in names}
    order = list(panel_of)
    for info in app.registered_commands:
        info.rich_help_panel = panel_of[command_name(info)]
    app.registered_commands.sort(key=lambda info: order.index(command_name(info)))
    return app
