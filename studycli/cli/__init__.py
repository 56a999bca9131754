"""The command line: parse, call one core function, render. No SQL or scheduling here."""

from __future__ import annotations

from . import authoring as _authoring  # noqa: F401  (registers new, schema)
from . import content as _content  # noqa: F401  (registers lint, check, show, list)
from . import cram as _cram  # noqa: F401  (registers cram)
from . import doctor as _doctor  # noqa: F401  (registers doctor)
from . import export as _export  # noqa: F401  (registers export-anki)
from . import optimize as _optimize  # noqa: F401  (registers optimize)
from . import reviews as _reviews  # noqa: F401  (registers import-reviews, export-reviews)
from . import stats as _stats  # noqa: F401  (registers stats)
from . import study as _study  # noqa: F401  (registers review, solve, due, history, ...)
from .app import app, main

__all__ = ["app", "main"]
