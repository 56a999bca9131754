"""`Record` (studycli/records.py) makes the class `typing.NamedTuple` makes from the same body,
without checking each annotation."""

from __future__ import annotations

import pickle
import typing

import pytest

from studycli.records import Record

# One class body, made once with each base: the comparison below is of the bases alone. (Its
# string annotations, as every studycli module has them, are what Record does not check.)
BODY = """
from __future__ import annotations

class {name}({base}):
    \"\"\"A point, maybe named.\"\"\"

    x: int
    y: int
    name: str | None = None
    tags: tuple[str, ...] = ()

    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)

    @classmethod
    def origin(cls):
        return cls(0, 0)

    @property
    def named(self) -> bool:
        return self.name is not None
"""


def made(name: str, base: str) -> type:
    """BODY's class, named `name`, on `base`, as if written in this module (pickle finds it)."""
    namespace = {"__name__": __name__, "Record": Record, "typing": typing}
    exec(BODY.format(name=name, base=base), namespace)
    return namespace[name]


Point = made("Point", "Record")
TypedPoint = made("TypedPoint", "typing.NamedTuple")


def test_a_record_is_the_named_tuple_typing_makes():
    for cls in (Point, TypedPoint):
        point = cls(3, -4)
        assert isinstance(point, tuple) and point == (3, -4, None, ())
        assert cls._fields == ("x", "y", "name", "tags")
        assert cls._field_defaults == {"name": None, "tags": ()}
        assert point.norm1() == 7 and cls.origin() == (0, 0, None, ())
        assert not point.named and point._replace(name="p").named
        assert point._asdict() == {"x": 3, "y": -4, "name": None, "tags": ()}
        assert cls.__doc__ == "A point, maybe named."
        assert cls.__module__ == __name__ and cls.__qualname__ == cls.__name__
        assert pickle.loads(pickle.dumps(point)) == point
        with pytest.raises(AttributeError):
            point.x = 1
        with pytest.raises(TypeError):
            cls(1)
    assert repr(Point(1, 2)) == repr(TypedPoint(1, 2)).replace("TypedPoint", "Point")
    hints = typing.get_type_hints(Point)
    assert hints == typing.get_type_hints(TypedPoint)
    assert hints["tags"] == tuple[str, ...]


def test_a_record_in_a_module_without_the_future_import_has_its_fields():
    """Python 3.14 keeps a class body's annotations in a function (PEP 649) unless its module
    has `from __future__ import annotations`: a Record made so had no fields at all there
    (`Plain(3, -4)`: "takes 1 positional argument")."""
    body = BODY.replace("from __future__ import annotations\n", "").format(
        name="Plain", base="Record"
    )
    namespace = {"__name__": __name__, "Record": Record, "typing": typing}
    exec(compile(body, __file__, "exec", dont_inherit=True), namespace)  # (no future import)
    plain = namespace["Plain"]
    assert plain._fields == ("x", "y", "name", "tags") and plain(3, -4).norm1() == 7
    assert plain._field_defaults == {"name": None, "tags": ()}
    assert typing.get_type_hints(plain) == typing.get_type_hints(TypedPoint)


def test_the_stores_records_pickle_and_compare_as_before():
    from studycli.content.card import Ref
    from studycli.study.review_records import CardState

    state = CardState("add-one", lapses=2)
    assert (
        state == ("add-one", None, None, 2, 0, False) and pickle.loads(pickle.dumps(state)) == state
    )
    assert CardState.from_dict(state.to_dict(), suspended=True).suspended
    assert str(Ref("m", "f")) == "m:f" and repr(Ref("m", "f")) == "Ref(module='m', function='f')"
    assert Ref("m", "f") == Ref("m", "f")


def test_a_record_refuses_what_typing_refuses():
    with pytest.raises(TypeError, match="without a default follows"):

        class Bad(Record):
            x: int = 0
            y: int

    with pytest.raises(AttributeError, match="cannot set _replace"):

        class Clash(Record):
            x: int

            def _replace(self):
                return self

    with pytest.raises(TypeError, match="super"):

        class Calls(Record):
            x: int

            def __repr__(self) -> str:
                return super().__repr__()


T = typing.TypeVar("T")


class Pair(Record, typing.Generic[T]):
    first: T
    second: T

    def swapped(self) -> Pair[T]:
        return Pair(self.second, self.first)


def test_a_generic_record_is_a_named_tuple_that_subscripting_leaves_as_it_is():
    pair = Pair(1, 2)
    assert pair.swapped() == (2, 1) and Pair[int] is Pair and isinstance(pair, tuple)
    assert Pair._fields == ("first", "second") and pickle.loads(pickle.dumps(pair)) == pair
    with pytest.raises(TypeError, match="Record"):

        class Mixed(Record, dict):
            x: int
