"""`describe`: a checker's input or an answer's value, as a failure message shows it."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

from .failures import message_of


def describe(value: Any, limit: int = 8) -> str:
    """A short, readable rendering of a checker input for a failure message.

    Tensors and arrays show their shape and dtype, and their values when small; a tuple, list
    or dict of them, each so; other values use `repr`, cut to a readable length.
    """
    return _described(value, limit, 0)


def _described(value: Any, limit: int, depth: int) -> str:
    """`describe`, within a tuple or list `depth` deep."""
    if _is_array(value):
        return _describe_array(value, limit)
    if isinstance(value, (tuple, list)) and any(_is_array(item) for item in value):
        if depth >= ITEMS_DEPTH:  # (a list inside itself, or lists of lists of lists)
            return f"{type(value).__name__} of {len(value)} items"
        return _describe_items(value, limit, depth)
    if isinstance(value, Mapping) and any(_is_array(item) for item in value.values()):
        if depth >= ITEMS_DEPTH:
            return f"{type(value).__name__} of {len(value)} items"
        return _describe_mapping(value, limit, depth)
    try:
        text = repr(value)
    except ValueError as exc:  # an int past Python's limit for str() (4300 digits), or within
        if "integer string conversion" not in message_of(exc):
            raise
        if isinstance(value, int):
            return f"an int of {_digits(value):,} digits"
        return f"a {type(value).__name__} holding an int too long to print"
    return _cut(text, 120)


def _digits(number: int) -> int:
    """How many decimal digits `number` has, without writing it out: an answer's int past
    Python's limit for str() (4300 digits: a factorial, a power) made its failure's message
    raise ValueError, and the check ended in that error."""
    size = abs(number)
    digits = int(math.log10(size)) + 1  # (log10 of 10**k may round to either side of k)
    if size >= 10**digits:
        digits += 1
    elif size < 10 ** (digits - 1):
        digits -= 1
    return digits


def _describe_array(value: Any, limit: int) -> str:
    """A tensor or array: its values when at most `limit`, else its shape; and its dtype."""
    shape = value.shape
    shape_text = "(" + ", ".join(str(int(s)) for s in shape) + ")"
    kind = "tensor" if type(value).__module__.startswith("torch") else "array"
    dtype = str(value.dtype).replace("torch.", "")
    numel = math.prod(int(s) for s in shape)
    if 0 < numel <= limit:
        values = value.detach().cpu().tolist() if kind == "tensor" else value.tolist()
        if dtype in ("float32", "float16", "bfloat16"):  # 0.9, not 0.8999999761581421
            values = _shortest(values)
        return f"{kind}({values}, dtype={dtype})"
    return f"{kind} of shape {shape_text}, dtype={dtype}"


def _is_array(value: Any) -> bool:
    return getattr(value, "shape", None) is not None and hasattr(value, "dtype")


ITEMS_SHOWN = 4  # of a tuple or list of tensors, in a failure message
ITEMS_DEPTH = 2  # tuples or lists of tensors described within one another, at most
KEY_SHOWN = 40  # characters of a dict's key, in a failure message


def _describe_items(value: tuple | list, limit: int, depth: int) -> str:
    """A tuple or list holding tensors or arrays, each described as above: its `repr` printed
    every value of every tensor (torch's printing is slow, and copies a GPU's tensor back:
    a second of a CUDA run's checks went to it) and was then cut at 120 characters."""
    shown = [_described(item, limit, depth + 1) for item in value[:ITEMS_SHOWN]]
    if len(value) > ITEMS_SHOWN:
        shown.append(f"... {len(value) - ITEMS_SHOWN} more")
    text = ", ".join(shown)
    if isinstance(value, list):
        return f"[{text}]"
    name = "" if type(value) is tuple else type(value).__name__  # a named tuple's name
    return f"{name}({text}{',' if len(value) == 1 and not name else ''})"


def _describe_mapping(value: Mapping, limit: int, depth: int) -> str:
    """A dict (or another mapping: Hugging Face's BatchEncoding) holding tensors or arrays, a
    batch as collators return one, each value described as above: its `repr` printed every
    value of every tensor, on many lines."""
    shown = [
        f"{_cut(repr(key), KEY_SHOWN)}: {_described(item, limit, depth + 1)}"
        for key, item in itertools.islice(value.items(), ITEMS_SHOWN)
    ]
    if len(value) > ITEMS_SHOWN:
        shown.append(f"... {len(value) - ITEMS_SHOWN} more")
    text = "{" + ", ".join(shown) + "}"
    return text if type(value) is dict else f"{type(value).__name__}({text})"


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 3] + "..."


def _shortest(values: Any) -> Any:
    """Each float of a (nested) list as the shortest decimal that is the same float32."""
    import numpy as np

    if isinstance(values, list):
        return [_shortest(item) for item in values]
    return float(str(np.float32(values))) if isinstance(values, float) else values


def _item(value: Any) -> Any:
    """A numpy scalar as the plain Python value it holds (np.int64(3) -> 3)."""
    return value.item() if hasattr(value, "item") else value
