"""`Record`: `typing.NamedTuple`'s class syntax, at `collections.namedtuple`'s cost.

    class Ref(Record):
        module: str
        function: str

gives the class that `typing.NamedTuple` gives (fields, defaults, methods, docstring, pickling
by name), and type checkers see `typing.NamedTuple` itself. What it skips is the check of each
field's annotation: under `from __future__ import annotations` every annotation is a string,
which `typing.NamedTuple` compiles into a `ForwardRef`, field by field. That made a record
class cost 2-4 times a plain named tuple to make: about 0.4 ms more a class on Python 3.12 (a
13-field one: 0.57 against 0.17 ms) and 0.2 ms on 3.11, paid on every command's start-up for
each of the dozen records it imports. `__annotations__` keeps the strings, as `typing.NamedTuple`
keeps its ForwardRefs: `typing.get_type_hints` reads either. A generic record,
`class Due(Record, Generic[T])`, is a plain named tuple at run time (`Due[int]` is `Due`): as a
`typing.NamedTuple` it cost 2.2 ms to make on 3.11 and 4.4 ms on 3.12.
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any, Generic

# What the class statement puts in a namespace that is not a field, a default or a method.
_OWN = frozenset({"__module__", "__qualname__", "__annotations__", "__orig_bases__",
                  "__parameters__", "__annotate_func__", "__classdictcell__"})  # fmt: skip
_FORBIDDEN = frozenset({"__new__", "__init__", "__slots__", "__getnewargs__", "_fields",
                        "_field_defaults", "_make", "_replace", "_asdict", "_source"})  # fmt: skip


def _annotations(namespace: dict[str, Any]) -> dict[str, Any]:
    """The class body's annotations, in order. Python 3.14 keeps them in a function (PEP 649)
    unless the module has `from __future__ import annotations` (every studycli module has):
    a Record made there had no fields at all. That function is asked for their values now,
    as every Python before 3.14 evaluated them (1 is `annotationlib.Format.VALUE`)."""
    if "__annotations__" in namespace:
        return dict(namespace["__annotations__"])
    annotate = namespace.get("__annotate_func__")
    return dict(annotate(1)) if annotate is not None else {}


@classmethod  # type: ignore[misc]
def _itself(cls: type, item: Any) -> type:
    return cls


class _RecordMeta(type):
    def __new__(mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
        if not bases:  # Record itself
            return super().__new__(mcls, name, bases, namespace)
        if bases[0] is not Record or any(base is not Generic for base in bases[1:]):
            raise TypeError(f"{name}: a Record subclasses Record (and Generic[...]) alone")
        if "__classcell__" in namespace:
            raise TypeError(f"{name}: a Record's methods cannot use super() without arguments")
        annotations = _annotations(namespace)
        fields = list(annotations)
        defaults = [namespace[field] for field in fields if field in namespace]
        if defaults and any(field not in namespace for field in fields[-len(defaults) :]):
            raise TypeError(f"{name}: a field without a default follows one with a default")
        module = namespace["__module__"]
        made = collections.namedtuple(name, fields, defaults=defaults, module=module)  # type: ignore[misc]
        made.__qualname__ = namespace.get("__qualname__", name)
        made.__annotations__ = annotations
        if len(bases) > 1:  # Record, Generic[T]: subscripting gives the class, as for typing's
            made.__class_getitem__ = _itself  # type: ignore[method-assign, assignment]
        for key, value in namespace.items():
            if key in _FORBIDDEN:
                raise AttributeError(f"{name}: a Record cannot set {key}")
            if key not in _OWN and key not in fields:
                setattr(made, key, value)
        return made


if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:

    class Record(metaclass=_RecordMeta):
        """Subclass it as `typing.NamedTuple` (see the module's docstring)."""
