"""Imported once by the check fork server, so that every forked check starts warm."""

import contextlib

with contextlib.suppress(ImportError):
    import numpy  # noqa: F401
with contextlib.suppress(ImportError):
    import torch  # noqa: F401

import studycli.assertions  # noqa: F401
