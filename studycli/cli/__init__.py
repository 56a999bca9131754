"""The command line: parse, call one core function, render. No SQL or scheduling here.

Each command lives in the module that `app.COMMANDS` names, and a command line imports only
its own (`app.invoked`); `app.whole_app()` is the app with every command registered.
"""

from __future__ import annotations

from .app import main

__all__ = ["main"]
