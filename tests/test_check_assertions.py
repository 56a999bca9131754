"""The helpers checkers are written with: their messages name the input, expected and actual."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from studycli.assertions import (
    PAST_INT64,
    CheckFailure,
    OutOfTime,
    OverBudget,
    assert_close,
    assert_equal,
    call,
    call_unchanged,
    counting_ints,
    describe,
    expect,
    expect_pair,
    expect_tensor,
    gpu_memory_budget,
    hinted,
    over_budget,
    watch_torch,
)


def test_describe_shows_small_values_and_large_shapes():
    assert describe(torch.tensor([1.0, 2.0])) == "tensor([1.0, 2.0], dtype=float32)"
    # float32 values as the decimals they stand for, not 0.8999999761581421
    assert describe(torch.tensor([[0.9], [0.1]])) == "tensor([[0.9], [0.1]], dtype=float32)"
    assert describe(torch.tensor([0.9], dtype=torch.float64)) == "tensor([0.9], dtype=float64)"
    assert describe(np.zeros((3, 4))) == "array of shape (3, 4), dtype=float64"
    assert describe("x" * 500).endswith("...") and len(describe("x" * 500)) == 120


def test_describe_shows_each_tensor_of_a_tuple_or_list_by_its_shape():
    """A learner's function returning a tuple of tensors: each described as a tensor alone is,
    not printed value by value (torch's printing, cut at 120 characters, showed the first
    tensor's first rows and nothing of the others)."""
    pair = (torch.zeros(30, 40), torch.tensor([1, 2]))
    assert (
        describe(pair) == "(tensor of shape (30, 40), dtype=float32, tensor([1, 2], dtype=int64))"
    )
    assert describe([torch.ones(1)]) == "[tensor([1.0], dtype=float32)]"
    assert describe((torch.ones(1),)) == "(tensor([1.0], dtype=float32),)"
    assert describe(torch.tensor([3.0, 1.0]).max(0)).startswith("max(tensor(3.0, dtype=float32), ")
    many = describe([torch.zeros(9)] * 6)
    assert many.count("tensor of shape (9)") == 4 and many.endswith(", ... 2 more]")
    assert describe((1, "a")) == "(1, 'a')"  # no tensor: its repr, as before


def test_describe_shows_each_tensor_of_a_dict_by_its_shape():
    """A learner's function returning a batch as a dict (as Hugging Face's collators do): its
    repr printed every tensor value by value, over many lines."""
    batch = {"inputs": torch.zeros(64, 512, dtype=torch.long), "labels": torch.tensor([1, 2])}
    assert describe(batch) == (
        "{'inputs': tensor of shape (64, 512), dtype=int64, 'labels': tensor([1, 2], dtype=int64)}"
    )
    many = describe({f"k{i}": torch.zeros(9) for i in range(6)})
    assert many.count("tensor of shape (9)") == 4 and many.endswith(", ... 2 more}")
    assert describe({"a": 1}) == "{'a': 1}"  # no tensor: its repr, as before
    assert describe([{"x": torch.zeros(2)}, torch.zeros(3)]).startswith("[{'x': tensor(")
    from collections import UserDict  # (Hugging Face's BatchEncoding is one)

    assert describe(UserDict(batch)).startswith("UserDict({'inputs': tensor of shape (64, 512)")
    long = describe({"k" * 100: torch.zeros(2)})
    assert long.startswith("{'kkk") and "...: tensor(" in long and len(long) < 80


def test_as_number_reads_numbers_and_says_what_else_came_back():
    """float() of a malformed answer raised in the checker: the check ended in an error
    ("float() argument must be ... not 'NoneType'") instead of saying what came back."""
    from studycli.assertions import as_number

    assert as_number(np.float32(0.5), "f(x)") == 0.5 and as_number(torch.tensor([2.0]), "f") == 2.0
    for value, said in (
        (None, "f(x): returned None (a missing `return`?), expected a number"),
        ((1.0, 2.0), "f(x): returned (1.0, 2.0), expected a number"),
        (
            torch.zeros(3),
            "f(x): returned tensor([0.0, 0.0, 0.0], dtype=float32), expected a number",
        ),
    ):
        with pytest.raises(AssertionError) as failed:
            as_number(value, "f(x)")
        assert str(failed.value) == said
        assert failed.value.__context__ is None  # (float()'s error is no part of the report)


def test_tensor_or_float_refuses_numpy_where_a_card_promises_a_0d_tensor_or_a_float():
    """as_number took a 0-d numpy array (`.numpy()` of the 0-d tensor) where four cards promise
    "a 0-d tensor or a float"; np.float64, a Python float, is taken as one."""
    from studycli.assertions import tensor_or_float

    for value in (2.5, np.float64(2.5), torch.tensor(2.5, dtype=torch.float64)):
        assert tensor_or_float(value, "f(x)") == 2.5
    hint = "\n  hint: return the torch tensor itself (no .numpy()), or a Python float"
    for value, said in (
        (np.array(2.5), "a numpy array(2.5, dtype=float64)"),
        (np.array([2.5]), "a numpy array([2.5], dtype=float64)"),
        (np.float32(2.5), "np.float32(2.5), a numpy number"),
    ):
        with pytest.raises(AssertionError) as failed:
            tensor_or_float(value, "f(x)")
        said = f"f(x): returned {said}, expected a 0-d tensor or a float"
        assert str(failed.value).startswith(said + hint)
    with pytest.raises(AssertionError, match=r"^f\(x\): returned None \(a missing `return`\?\)"):
        tensor_or_float(None, "f(x)")


def test_an_int_too_long_to_print_is_described_by_its_size():
    """An answer's int past Python's 4300 digits for str (a factorial, a power) ended the check
    in an error, "ValueError: Exceeds the limit (4300 digits) for integer string conversion",
    as its failure was written; as_number's float() of it in an OverflowError."""
    from studycli.assertions import as_number

    huge = 10**5000
    assert describe(huge) == describe(-huge) == "an int of 5,001 digits"
    with pytest.raises(AssertionError, match=r"^f\(2\): expected 3, got an int of 5,001 digits$"):
        assert_equal(huge, 3, "f(2)")
    with pytest.raises(AssertionError) as failed:
        as_number(huge, "f(2)")
    assert str(failed.value) == "f(2): returned an int of 5,001 digits, too large for a float"
    assert failed.value.__context__ is None
    assert describe([1, huge]) == "a list holding an int too long to print"


def test_describe_of_lists_within_lists_stops_two_deep():
    """A list holding itself beside a tensor ended the check in a RecursionError, and lists of
    lists of tensors were described item by item at every depth (4 ** depth items)."""
    looped: list = [torch.zeros(9)]
    looped.append(looped)
    assert describe(looped) == "[tensor of shape (9), dtype=float32, [tensor of shape (9), " + (
        "dtype=float32, list of 2 items]]"
    )
    deep: list = [torch.zeros(2)]
    for _ in range(8):  # each level a tensor and the level below three times: 3 ** 8 lists
        deep = [torch.zeros(2), deep, deep, deep]
    assert len(describe(deep)) < 1000 and "list of 4 items" in describe(deep)


def test_assert_close_names_the_worst_element():
    with pytest.raises(AssertionError) as err:
        assert_close(
            torch.tensor([1.0, 2.0, 9.0]), np.array([1.0, 2.0, 3.0]), "f(x)", hint="rescale"
        )
    text = str(err.value)
    assert text.startswith("f(x): at index (2,): expected 3, got 9 (1 of 3 values off")
    assert "hint: rescale" in text


def test_assert_close_shape_nan_and_none():
    with pytest.raises(AssertionError, match=r"returned shape \(2,\), expected shape \(3,\)"):
        assert_close([1.0, 2.0], [1.0, 2.0, 3.0], "f")
    with pytest.raises(AssertionError, match=r"at index \(0,\): expected 1, got nan"):
        assert_close(np.array([np.nan]), np.array([1.0]), "f")
    with pytest.raises(AssertionError, match="returned None"):
        assert_close(None, [1.0], "f")
    assert_close(torch.tensor([1.0, 2.0]), [1.0, 2.0 + 1e-7], "f")  # within tolerance
    # the element off is named, with no numpy warning on the way from the infinities that
    # match (inf - inf, a NaN: the warning was an error under `-W error`)
    inf = float("inf")
    with pytest.raises(AssertionError, match=r"at index \(2,\): expected 3, got 2 \(1 of 3"):
        assert_close(torch.tensor([inf, -inf, 2.0]), [inf, -inf, 3.0], "f")


def test_a_nan_for_a_number_names_no_index():
    """A 0-d answer that is NaN (a mean over an empty class: 0/0) was said to be off "at index
    ()", an index of nothing, where a 0-d value off by a finite amount names none."""
    with pytest.raises(AssertionError) as err:
        assert_close(float("nan"), 0.5, "f(x)['mpa']")
    assert str(err.value) == "f(x)['mpa']: expected 0.5, got nan"


def test_a_complex_answer_to_real_values_fails_where_its_real_part_is_right():
    """Converting to float64 dropped the imaginary part: `ref + 5j` passed, and was rated Good."""
    want = torch.tensor([0.25, 0.75])
    with pytest.raises(AssertionError, match=r"returned complex numbers \(complex64\)"):
        assert_close(want + 5j, want, "f(x)")
    with pytest.raises(AssertionError, match="returned complex numbers"):
        assert_close(np.array([1.0]) + 0j, np.array([1.0]), "f(x)")  # even a zero imaginary
    assert_close(np.array([1 + 2j]), np.array([1 + 2j]), "f(x)")  # asked for: compared


def test_a_failure_names_a_less_precise_dtype_than_the_expected_values():
    want = torch.tensor([0.636409, 0.2], dtype=torch.float32)
    for dtype in (torch.float16, torch.bfloat16, torch.int64, torch.bool):
        with pytest.raises(AssertionError) as err:
            assert_close(want.to(dtype), want, "f(x)")
        name = str(dtype).removeprefix("torch.")
        assert f"(it returned {name} values, where float32 ones are expected)" in str(err.value)
    with pytest.raises(AssertionError) as err:  # as precise: the dtype is not what is wrong
        assert_close(want.double() + 1, want, "f(x)")
    assert "it returned" not in str(err.value)
    assert_close(want.double(), want, "f(x)")  # more precise and right: passes
    # float32 against float64 expected values (a checker's, from float32 inputs): the dtype is
    # not named, where every float32 answer's mistake said it should have been float64
    with pytest.raises(AssertionError) as err:
        assert_close(want + 1, want.double(), "f(x)")
    assert "it returned" not in str(err.value)
    with pytest.raises(AssertionError) as err:
        assert_close(want.half(), want.double(), "f(x)")
    assert "(it returned float16 values, where float64 ones are expected)" in str(err.value)


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda t: t.to_sparse(), "layout torch.sparse_coo, expected a dense tensor"),
        (lambda t: t.to("meta"), "on the meta device, which holds no values"),
        (
            lambda t: torch.nested.nested_tensor([t, t[:1]], layout=torch.jagged),
            "returned a nested tensor, expected a dense tensor",
        ),
    ],
    ids=["sparse", "meta", "nested"],
)
def test_a_tensor_without_plain_values_is_named_not_a_bare_error(make, says):
    """These came back as the conversion's own error ("TypeError: can't convert Sparse layout
    tensor to numpy."), with no call named."""
    want = torch.tensor([1.0, 2.0])
    for check in (assert_close, assert_equal):
        with pytest.raises(AssertionError) as err:
            check(make(want), want, "f(x)")
        assert str(err.value).startswith("f(x): returned") and says in str(err.value)


def test_an_answer_whose_conversion_raises_fails_naming_the_call():
    class Broken:
        def __array__(self, dtype=None, copy=None):
            raise RuntimeError("array boom")

    with pytest.raises(AssertionError, match=r"f\(x\): returned a Broken that does not read"):
        assert_close(Broken(), np.array([1.0]), "f(x)")


def test_assert_equal_prints_plain_values():
    with pytest.raises(AssertionError, match=r"at index \(1,\): expected 3, got 4"):
        assert_equal(np.array([1, 4]), np.array([1, 3]), "f")
    with pytest.raises(AssertionError, match=r"expected \[1, 2\], got \[2, 1\]"):
        assert_equal([2, 1], [1, 2], "f")


@pytest.mark.parametrize(
    "got",
    [np.array([3, 3]), torch.tensor([3, 3]), np.array([], dtype=np.int64)],
    ids=["array", "tensor", "empty"],
)
def test_assert_equal_fails_an_array_where_a_plain_value_is_expected(got):
    """Compared elementwise, its truth was ambiguous: the check ended in an error, "ValueError:
    The truth value of an array with more than one element is ambiguous", with no word of the
    call, the expected value or what came back."""
    with pytest.raises(AssertionError, match=r"^f\(2\): expected 3, got (array|tensor)\b"):
        assert_equal(got, 3, "f(2)")


def test_call_turns_exceptions_into_named_failures():
    def broken(x):
        raise ValueError("bad")

    def todo(x):
        raise NotImplementedError

    with pytest.raises(AssertionError, match=r"f\(1\): raised ValueError: bad"):
        call(broken, "f(1)", 1)
    with pytest.raises(AssertionError, match="not implemented yet"):
        call(todo, "f(1)", 1)
    with pytest.raises(AssertionError, match="f: shape is wrong"):
        expect(False, "f", "shape is wrong")


def test_an_assert_in_the_answer_names_the_call_and_a_verdict_passes_through():
    """The learner's own `assert` showed only its message, not which input tripped it; a
    checker's verdict raised inside the call (forbid's, a refused library) stays as it is."""

    def square_only(cost):
        if cost.shape[0] != cost.shape[1]:  # (an `assert` here pytest would rewrite)
            raise AssertionError("square only")

    with pytest.raises(AssertionError) as err:
        call(square_only, "assign(cost of shape (2, 3))", np.zeros((2, 3)))
    assert (
        str(err.value)
        == "assign(cost of shape (2, 3)): an assert in the answer failed: square only"
    )
    with pytest.raises(AssertionError) as err:
        call(lambda: expect(False, "inner", "refused"), "outer()")
    assert str(err.value) == "inner: refused"


def test_values_that_print_alike_are_shown_with_every_digit():
    with pytest.raises(AssertionError) as err:
        assert_close([3.9200001], [3.92], "f", atol=1e-12, rtol=1e-9)
    assert "expected 3.9199999999999999, got 3.9200001000000002" in str(err.value)


def test_watch_torch_sees_intermediates_of_any_torch_op():
    q, k = torch.randn(100, 4), torch.randn(100, 4)
    with watch_torch() as seen:
        (q @ k.T).softmax(-1)
    assert seen.numel == 100 * 100
    with watch_torch() as seen:
        for start in range(0, 100, 10):
            torch.einsum("id,jd->ij", q[start : start + 10], k[start : start + 10]).exp()
    assert seen.numel == 10 * 10  # one tile of scores


def test_gpu_memory_budget_does_nothing_off_cuda():
    with gpu_memory_budget("cpu", 0, "f"):
        torch.zeros(1000)


def test_forbid_rejects_the_routine_the_card_is_about():
    from studycli.assertions import forbid

    guarded = forbid(lambda x: torch.softmax(x, -1), "softmax", reason="write the softmax yourself")
    with pytest.raises(
        AssertionError, match="the answer calls softmax: write the softmax yourself"
    ):
        call(guarded, "f(x)", torch.randn(3))
    allowed = forbid(lambda x: torch.exp(x) / torch.exp(x).sum(), "softmax", reason="-")
    assert_close(allowed(torch.zeros(2)), [0.5, 0.5], "f")
    method = forbid(lambda x: x.softmax(-1), "softmax", reason="no")
    with pytest.raises(AssertionError):
        method(torch.randn(3))
    # its private and operator forms: they passed a check of the plain name
    for private in (
        lambda x: torch.ops.aten._softmax(x, -1, False),
        lambda x: torch.ops.aten._softmax.default(x, -1, False),
        lambda x: torch._softmax(x, -1, False),
    ):
        with pytest.raises(AssertionError, match="the answer calls _softmax"):
            forbid(private, "softmax", reason="no")(torch.randn(3))


def test_without_package_refuses_the_library_installed_or_not():
    """A card that rules a library out (scipy in the assignment card, torchvision in NMS) is
    answered wrongly by calling it: a checker that refused one function of it let another pass
    (scipy.sparse.csgraph's matcher), and where the library is missing the answer failed for an
    ImportError, not for the rule."""
    import sys
    import types

    from studycli.assertions import without_package

    def dumps_in_body(x):
        import json

        return json.dumps(x)

    def imports_absent_package(x):
        from studycli_no_such_package.ops import solve  # type: ignore[import-not-found]

        return solve(x)

    for answer, package, used in (
        (dumps_in_body, "json", "json.dumps"),  # installed, and imported already
        (imports_absent_package, "studycli_no_such_package", "studycli_no_such_package.ops.solve"),
    ):
        guarded = without_package(answer, package, reason="write it yourself")
        with pytest.raises(CheckFailure, match=rf"^the answer uses {used}: write it yourself$"):
            call(guarded, "f(1)", 1)
    # bound at the top of the answer's module, before any call
    at_top = types.FunctionType(dumps_in_body.__code__, {"json": sys.modules["json"]})
    with pytest.raises(
        CheckFailure, match=r"^the answer's module imports json: no json \(take the import out,"
    ):
        without_package(at_top, "json", reason="no json")(1)
    # the library comes back afterwards, and others are left alone meanwhile
    assert sys.modules["json"].dumps([1]) == "[1]"
    assert "studycli_no_such_package" not in sys.modules
    assert without_package(lambda x: np.asarray(x).sum(), "json", reason="-")([1, 2]) == 3


def test_without_package_puts_the_library_back_whatever_the_answer_did_to_the_finders():
    """A device worker runs the next check in the same process: an answer that took the
    stand-ins' finder out of sys.meta_path (to import the real library) made the restore raise
    ValueError, a traceback of the checker's, and left the library out of sys.modules."""
    import json
    import sys

    from studycli.assertions import without_package

    def takes_the_finder_out(x):
        sys.meta_path.pop(0)
        return x

    finders = list(sys.meta_path)
    with pytest.raises(CheckFailure, match=r"^the answer took the finder that refuses json out"):
        without_package(takes_the_finder_out, "json", reason="write it yourself")(1)
    assert sys.modules["json"] is json
    assert sys.meta_path == finders


def test_convolutions_name_every_convolution_routine():
    """conv1d's and patchify's lists of three let conv3d and conv_tbc answer them."""
    from studycli.assertions import CONVOLUTIONS, forbid

    x, w = torch.randn(1, 2, 6), torch.randn(3, 2, 2)
    for name, answer in (
        ("conv3d", lambda: torch.nn.functional.conv3d(x[:, :, None, None], w[:, :, None, None])),
        ("conv_tbc", lambda: torch.conv_tbc(x.permute(2, 0, 1), w.permute(2, 1, 0), w[:, 0, 0])),
        ("conv_transpose1d", lambda: torch.nn.functional.conv_transpose1d(x, w.transpose(0, 1))),
        (
            "convolution",
            lambda: torch.ops.aten.convolution(x, w, None, [1], [0], [1], False, [0], 1),
        ),
    ):
        with pytest.raises(CheckFailure, match=f"the answer calls {name}: no"):
            forbid(answer, *CONVOLUTIONS, reason="no")()
    assert forbid(lambda: x.unfold(-1, 2, 1).sum(), *CONVOLUTIONS, reason="-")() is not None


def test_softmaxes_and_attentions_name_the_private_routines_too():
    """The public names alone let torch._masked_softmax answer the online softmax and
    torch._scaled_dot_product_attention_math the attention card."""
    from studycli.assertions import ATTENTIONS, SOFTMAXES, forbid

    x = torch.randn(2, 5)
    nothing = torch.zeros(2, 5, dtype=torch.bool)
    for names, called, answer in (
        (SOFTMAXES, "_masked_softmax", lambda: torch._masked_softmax(x, nothing, 1, 0)),
        (SOFTMAXES, "_sparse_softmax", lambda: torch.sparse.softmax(x.to_sparse(), 1)),
        (
            ATTENTIONS,
            "_scaled_dot_product_attention_math",
            lambda: torch._scaled_dot_product_attention_math(x, x, x),
        ),
    ):
        with pytest.raises(CheckFailure, match=f"the answer calls {called}: no"):
            forbid(answer, *names, reason="no")()
    assert forbid(lambda: torch.logsumexp(x, 1), *SOFTMAXES, reason="-")() is not None


def test_the_lists_name_every_operator_torch_registers_of_their_kind():
    """A list of the routines someone thought of let torch._C._nn.slow_conv_dilated2d answer
    the dilated conv1d card (its dilation, stride and padding its own), mkldnn's pointwise
    convolution give F.conv2d's numbers and torch._cudnn_attention_forward the attention: each
    operator of aten and mkldnn that convolves, takes a softmax or attends is in its list."""
    from studycli.assertions import ATTENTIONS, CONVOLUTIONS, SOFTMAXES, bare_name, forbid

    registered = {schema.name for schema in torch._C._jit_get_all_schemas()}
    ops = [
        op
        for namespace, _, op in (name.partition("::") for name in registered)
        if namespace in ("aten", "mkldnn", "mkldnn_prepacked")
    ]
    kinds = (
        (CONVOLUTIONS, ("conv",), ("convert", "reorder", "prepack")),
        (SOFTMAXES, ("softmax", "softmin"), ("backward",)),
        (ATTENTIONS, ("attention",), ("backward",)),
    )
    for names, marks, not_marks in kinds:
        of_kind = {
            op
            for op in ops
            if any(mark in op for mark in marks) and not any(mark in op for mark in not_marks)
        }
        assert sorted(op for op in of_kind if bare_name(op) not in names) == []
    x, w = torch.randn(1, 2, 9), torch.randn(3, 2, 2)
    dilated = torch._C._nn.slow_conv_dilated2d(  # (stride 2, padding 1, dilation 3)
        x[:, :, None], w[:, :, None], (1, 2), None, (1, 2), (0, 1), (1, 3)
    )
    expected = torch.nn.functional.conv1d(x, w, stride=2, padding=1, dilation=3)
    assert torch.allclose(dilated[:, :, 0], expected, atol=1e-6)  # (what it would answer)
    with pytest.raises(CheckFailure, match="the answer calls slow_conv_dilated2d: no"):
        forbid(
            lambda: torch._C._nn.slow_conv_dilated2d(
                x[:, :, None], w[:, :, None], (1, 2), None, (1, 2), (0, 1), (1, 3)
            ),
            *CONVOLUTIONS,
            reason="no",
        )()


def test_plain_ints_reads_numbers_and_refuses_what_only_says_it_equals():
    import numpy as np

    from studycli.assertions import plain_ints

    class AlwaysEqual(int):
        __eq__ = lambda self, other: True  # noqa: E731
        __hash__ = int.__hash__

    assert plain_ints([AlwaysEqual(0), np.int64(3), True], "f") == [0, 3, 1]
    assert plain_ints([AlwaysEqual(0)], "f") != [5]
    with pytest.raises(AssertionError, match="returned items of type float, str"):
        plain_ints([1.0, "2"], "f(x)")


def test_plain_ints_refuses_what_is_no_list_with_the_answers_mistake():
    """None or a number where a list of ints was promised: a failure of the answer, not a
    TypeError of the checker's own."""
    from studycli.assertions import plain_ints

    for value, shown in ((None, "None"), (3, "3")):
        with pytest.raises(AssertionError) as failed:
            plain_ints(value, "f(x)", hint="return a list")
        assert str(failed.value) == (
            f"f(x): returned {shown}, expected a list of ints\n  hint: return a list"
        )


def test_plain_ints_refuses_a_dict_a_set_or_text_that_iterate_as_no_list():
    """A dict passed as its keys, a set in whatever order it iterates, bytes as their byte
    values, where a list of ints was promised: silently read so (a str failed as "items of
    type str", which named no mistake). Each fails, said by its type; what was read before
    still is."""
    from studycli.assertions import plain_ints

    for value, shown, reading in (
        ({0: 1, 2: 3}, "dict {0: 1, 2: 3}", "a dict is read as its keys alone"),
        ({1, 2}, "set {1, 2}", "a set's order is arbitrary"),
        (frozenset({2}), "frozenset({2})", "a set's order is arbitrary"),
        ("12", "str '12'", "a str is read as its characters"),
        (b"\x01\x02", "bytes b'\\x01\\x02'", "bytes are read as their byte values"),
    ):
        with pytest.raises(AssertionError) as failed:
            plain_ints(value, "f(x)", hint="return a list")
        assert str(failed.value) == (
            f"f(x): returned a {shown}, expected a list of ints ({reading})\n  hint: return a list"
        )
    assert plain_ints((3, 1), "f") == [3, 1]
    assert plain_ints(range(3), "f") == [0, 1, 2]
    assert plain_ints(np.array([2, 0]), "f") == [2, 0]  # (its items: numpy ints)


def test_plain_ints_refuses_0d_tensors_and_arrays_as_as_int_does():
    """A list of 0-d tensors (a loop over a tensor, `for i in order:`, without .tolist())
    passed as ints through their __index__, where as_int refuses a single 0-d tensor."""
    from studycli.assertions import plain_ints

    assert plain_ints((i for i in (1, np.int64(2))), "f") == [1, 2]  # (a generator: one pass)
    for items, shown in (
        ([1, torch.tensor(2)], "tensor(2, dtype=int64)"),
        ([np.array(3)], "array(3, dtype=int64)"),
    ):
        with pytest.raises(AssertionError) as failed:
            plain_ints(items, "f(x)", hint="mine")
        assert str(failed.value) == (
            f"f(x): returned items such as {shown}, expected ints\n  hint: a 0-d tensor's "
            "Python int is its .item(), and a tensor's list of ints its .tolist()"
        )


def test_likely_mistake_names_the_mistake_the_output_reproduces():
    import torch

    from studycli.assertions import likely_mistake

    x = torch.tensor([1.0, 2.0, 3.0])
    known = [(x * 2, "doubled instead of squared"), (x**3, "cubed")]
    assert likely_mistake(x * 2, known, "must be x ** 2") == "doubled instead of squared"
    assert likely_mistake(x**3, known, "must be x ** 2") == "cubed"
    assert likely_mistake(x + 1, known, "must be x ** 2") == "must be x ** 2"
    assert likely_mistake("not a tensor", known, "must be x ** 2") == "must be x ** 2"
    nan = torch.tensor([float("nan")])
    assert likely_mistake(nan, [(nan, "nan")], "d") == "d"
    assert likely_mistake(nan, [(nan, "nan")], "d", equal_nan=True) == "nan"


def test_fails_with_marks_the_declared_failure():
    from studycli.assertions import fails_with

    @fails_with("missing rescale")
    def wrong(x):
        return x

    assert wrong.fails_with == "missing rescale" and wrong(3) == 3


def test_call_unchanged_fails_an_answer_that_writes_into_its_inputs():
    def doubles_in_place(x, scale=1.0):
        x.mul_(2)
        return x

    x = torch.tensor([1.0, float("nan")], dtype=torch.bfloat16)
    with pytest.raises(AssertionError, match="f: modified its input x in place"):
        call_unchanged(doubles_in_place, "f", ("x",), x, hint="copy it")
    a = np.array([1, 2])
    with pytest.raises(AssertionError, match="modified its input a in place"):
        call_unchanged(lambda a, b: a.__iadd__(b), "g", ("a", "b"), a, np.array([1, 1]))
    # unchanged inputs, NaN included, pass; and the answer's result comes back
    y = torch.tensor([1.0, float("nan")])
    assert call_unchanged(lambda y: y + 1, "h", ("y",), y)[0] == 2.0


def test_call_unchanged_says_where_the_input_changed_and_how_to_keep_it():
    """A checker that gave no hint of its own said only "modified its input x in place": which
    value changed, and what an in-place operation looks like, went unsaid."""

    def abs_in_place(x):
        return x.abs_()

    x = torch.tensor([1.0, -2.0, 3.0, -4.0])
    with pytest.raises(AssertionError) as err:
        call_unchanged(abs_in_place, "f(x)", ("x",), x)
    text = str(err.value)
    assert text.startswith(
        "f(x): modified its input x in place (2 of 4 values changed; at index (1,) it was -2, "
        "now 2)"
    )
    assert "hint: " in text and "x[...] = " in text and "x" in text.rpartition("caller's ")[2]
    # a checker's own hint is kept; a change of shape is named as one
    grows = np.array([1, 2])
    with pytest.raises(AssertionError) as err:
        call_unchanged(lambda a: a.resize(3, refcheck=False), "g", ("a",), grows, hint="copy it")
    assert str(err.value) == (
        "g: modified its input a in place (its shape went from (2,) to (3,))\n  hint: copy it"
    )


def test_a_result_on_another_device_than_the_inputs_fails_naming_both():
    """Comparisons go through numpy, so a CPU tensor returned for CUDA inputs passed every check
    of `check --device cuda` (a silent copy to the host). The meta device stands in for CUDA
    here: inputs on meta, an answer that returns a CPU tensor."""
    x = torch.zeros(3, device="meta")
    with pytest.raises(CheckFailure) as err:
        call(lambda x: torch.tensor([1.0, 2.0, 3.0]), "f(x)", x)
    text = str(err.value)
    assert text.startswith("f(x): returned a tensor on cpu for inputs on meta: ")
    assert "device=x.device" in text.partition("hint: ")[2]
    with pytest.raises(CheckFailure, match=r"g: returned a tuple whose item 1 is a tensor on cpu"):
        call(lambda x, y: (x + y, torch.zeros(3)), "g", x, y=x)
    with pytest.raises(CheckFailure, match="h: returned a tensor on cpu for inputs on meta"):
        call_unchanged(lambda xs: torch.zeros(3), "h", ("xs",), [x, x])
    # a result on the inputs' device passes; so does any result of inputs on several devices,
    # or of CPU inputs, and of no tensor input
    assert call(lambda x: (x * 2, [x]), "f(x)", x)[0].is_meta
    assert not call(lambda x, y: torch.zeros(1), "f", x, torch.ones(1)).is_meta
    assert call(lambda x: x.to("meta"), "f", torch.ones(1)).is_meta
    assert not call(lambda n: torch.zeros(n), "f", 2).is_meta


def test_call_unchanged_compares_a_list_input_as_a_list():
    """A list went through numpy: an answer that put a tuple or a list into it made numpy raise
    its own ValueError ("inhomogeneous shape") out of the check, and a str put among ints was
    said to change every value (numpy made strs of them all). Each is now a change at its index;
    an inner list written into is seen (the copy kept was shallow); NaN equals NaN."""

    def fails(answer, nums):
        with pytest.raises(AssertionError) as err:
            call_unchanged(answer, "f(nums)", ("nums",), nums, hint="keep it")
        return str(err.value).removesuffix("\n  hint: keep it")

    def pairs(nums):
        nums[0] = (nums[0], 0)

    def text(nums):
        nums[1] = "x"

    def inner(rows):
        rows[0][1] = 7

    said = "f(nums): modified its input nums in place"
    assert (
        fails(pairs, [4.0, 2, 3])
        == f"{said} (1 of 3 values changed; at index 0 it was 4.0, now (4.0, 0))"
    )
    assert fails(text, [1, 2, 3]) == f"{said} (1 of 3 values changed; at index 1 it was 2, now 'x')"
    assert fails(lambda nums: nums.append([5]), [1, 2]) == f"{said} (its length went from 2 to 3)"
    assert fails(inner, [[1, 2], [3]]).endswith("at index 0 it was [1, 2], now [1, 7])")
    assert call_unchanged(lambda xs: xs[1] + xs[2], "g", ("xs",), [float("nan"), 1.5, 2]) == 3.5
    pairs_of_tensors = [(torch.ones(2), torch.zeros(2))]  # (whose == gives no one bool)
    assert call_unchanged(len, "h", ("pairs",), pairs_of_tensors) == 1


def test_call_unchanged_keeps_a_list_of_tensors_computed_with_grad():
    """The list's copy was `copy.deepcopy`, which refuses a tensor that is no graph leaf ("only
    graph leaves support the deepcopy protocol"): a checker passing the activations of a
    forward pass ended in torch's RuntimeError. Each tensor is cloned; a write into one is
    still seen, a dict inside the list is still copied whole."""
    weight = torch.ones(2, requires_grad=True)
    outputs = [weight * 2, weight + 1]
    assert call_unchanged(len, "f(xs)", ("xs",), outputs) == 2

    def bump(xs):
        with torch.no_grad():
            xs[1].add_(1)

    with pytest.raises(AssertionError, match=r"at index 1 it was tensor\(\[2.0, 2.0\]"):
        call_unchanged(bump, "f(xs)", ("xs",), [weight * 2, weight + 1])

    def rename(rows):
        rows[0]["k"] = 2

    with pytest.raises(AssertionError, match=re.escape("at index 0 it was {'k': 1}, now {'k': 2}")):
        call_unchanged(rename, "f(rows)", ("rows",), [{"k": 1}])


def test_call_unchanged_given_an_input_for_the_names_says_how_to_call_it():
    """A checker that passed its input where `call_unchanged` takes the inputs' names,
    `call_unchanged(impl, what, heights)` (a new author's card), called the answer with no
    argument, and `check` said the reference failed: "missing 1 required positional argument".
    It is the checker's mistake, said with the call's shape."""
    with pytest.raises(TypeError, match=r"`names` is a tuple of the names .* got \[2, 1, 5\]"):
        call_unchanged(lambda heights: max(heights), "f", [2, 1, 5])
    with pytest.raises(TypeError, match="such as"):
        call_unchanged(lambda x: x, "f", "x", 1)  # a name, not a tuple of names


def test_counting_ints_stop_an_answer_at_its_budget_of_order_comparisons():
    """An O(n^2) scan is stopped at the budget's comparison, through `call` and an answer's
    own `except Exception`; negated values (a heap of -x) still count; == does not."""
    # (max: 2 comparisons for 3 values on every Python; sorted's count changed in 3.13, 4 -> 6)
    values = counting_ints([3, 1, 2], budget=2)
    assert values == [3, 1, 2] and max(values) == 3  # 2 comparisons, == free
    with pytest.raises(OverBudget):  # the budget is the list's, over all of its values
        min(values[:2])

    def scan(nums):
        try:
            return [sum(1 for y in nums if y > x) for x in nums]
        except Exception:
            return []

    with pytest.raises(OverBudget):
        call(scan, "scan", counting_ints(range(100), budget=500))
    assert call(scan, "scan", counting_ints(range(10), budget=100)) == list(range(9, -1, -1))
    negated = [-x for x in counting_ints([5, 6], budget=0)]
    with pytest.raises(OverBudget):
        _ = negated[0] < negated[1]


def test_over_budget_tells_a_budget_spent_though_the_answer_swallowed_the_stop():
    """An answer that catches everything (a bare `except:`) swallowed `OverBudget` and
    returned: its checker saw no stop, and an O(n^2) scan passed the count."""

    def scan(nums):
        counts = []
        for x in nums:
            try:
                counts.append(sum(1 for y in nums if y > x))
            except:  # noqa: E722  (the learner's: it takes OverBudget too)
                counts.append(0)
        return counts

    spent = counting_ints(range(100), budget=500)
    call(scan, "scan", spent)  # (no OverBudget comes out)
    assert over_budget(spent)
    kept = counting_ints(range(10), budget=100)
    assert call(scan, "scan", kept) == list(range(9, -1, -1)) and not over_budget(kept)
    assert not over_budget([])


def test_counting_ints_past_int64_count_numpys_comparisons_too():
    """Numpy makes int64 of small counting ints and compares those in C, unseen: its max of
    every window passed the sliding-window card's count as O(n). From PAST_INT64 on it keeps
    the Python ints (dtype object), and its comparisons, vectorised or not, are counted."""
    n = 100
    small = np.asarray(counting_ints(range(n), budget=0))
    assert small.dtype == np.int64 and small.max() == n - 1 and (small > 0).sum() == n - 1
    for vectorised in (np.max, np.argmax, lambda a: a[1:] > a[0], np.maximum.accumulate):
        with pytest.raises(OverBudget):
            vectorised(np.asarray(counting_ints(range(PAST_INT64, PAST_INT64 + n), budget=n // 2)))


def test_hinted_adds_its_hint_to_a_failure_in_its_block_and_to_no_other():
    """A checker's hint for one input's failure, on a line of its own; with `when`, only for
    the failure it names (an OverflowError, not a wrong value)."""

    def overflows(n):
        raise OverflowError("int too large to convert to float")

    with pytest.raises(CheckFailure) as raised, hinted("use math.comb", when="OverflowError"):
        call(overflows, "f(200)", 200)
    assert str(raised.value) == (
        "f(200): raised OverflowError: int too large to convert to float\n  hint: use math.comb"
    )
    with pytest.raises(AssertionError) as wrong, hinted("use math.comb", when="OverflowError"):
        expect(False, "f(3)", "expected 6, got 5")
    assert "hint" not in str(wrong.value)
    with pytest.raises(AssertionError) as plain, hinted(""):
        expect(False, "f(3)", "expected 6, got 5")
    assert "hint" not in str(plain.value)
    with pytest.raises(CheckFailure, match="got 5\n  hint: off by one"), hinted("off by one"):
        expect(False, "f(3)", "expected 6, got 5")
    with pytest.raises(OutOfTime), hinted("never added"):  # a timer's stop passes through
        raise OutOfTime()
    with hinted("never added"):  # nothing failed: nothing raised
        assert call(lambda: 1, "f()") == 1


def test_expect_pair_names_what_is_not_the_pair_asked_for():
    """A checker's "return a pair of tensors in this dtype": the pair back as it came, else a
    failure naming the member that is not, in the checker's own words after it."""
    pair = (torch.zeros(2), torch.ones(2))
    assert expect_pair(pair, ("m", "s"), "f(x)", torch.float32, ": in x's dtype") is pair
    with pytest.raises(AssertionError, match=r"returned .*, expected a pair \(m, s\)"):
        expect_pair((torch.zeros(2),), ("m", "s"), "f(x)")
    with pytest.raises(AssertionError, match=r"returned s as .*float64.*: in x's dtype"):
        expect_pair(
            (pair[0], pair[1].double()), ("m", "s"), "f(x)", torch.float32, ": in x's dtype"
        )


def test_expect_pair_in_a_dtype_says_a_numpy_member_is_no_tensor():
    """With `dtype`, a numpy member of that very dtype failed with the checker's `why` ("in
    x's dtype"), which it was in: the failure now says that a tensor was expected."""
    with pytest.raises(
        AssertionError,
        match=r"^f\(x\): returned s as a numpy array\(\[1.0, 1.0\], dtype=float32\), "
        r"expected a torch tensor\n  hint: .*torch.from_numpy",
    ):
        expect_pair(
            (torch.zeros(2), np.ones(2, dtype=np.float32)),
            ("m", "s"),
            "f(x)",
            torch.float32,
            ": in x's dtype",
        )


def test_expect_pair_of_tensors_names_the_member_that_is_not_one():
    """`tensors`: each of the two a tensor of any dtype (an int64 and a float32 pass), else a
    failure naming the member and what it was, where a checker's own "must be tensors" named
    neither (and one that let a numpy array through crashed on it); a numpy array is said to
    be numpy's, with the hint of `expect_tensor` (it was "as array(...)", as a tensor is)."""
    pair = (torch.zeros(2), torch.arange(2))
    assert expect_pair(pair, ("z_q", "indices"), "f(z)", tensors=True) is pair
    with pytest.raises(
        AssertionError,
        match=r"^f\(z\): returned indices as a numpy array\(\[0, 1\], dtype=int64\), "
        r"expected a torch tensor\n  hint: .*torch.from_numpy",
    ):
        expect_pair((pair[0], np.arange(2)), ("z_q", "indices"), "f(z)", tensors=True)
    with pytest.raises(
        AssertionError, match=r"returned z_q as \[0.0, 0.0\], expected a torch tensor"
    ):
        expect_pair(([0.0, 0.0], pair[1]), ("z_q", "indices"), "f(z)", tensors=True)
    with pytest.raises(AssertionError, match=r"expected a pair \(z_q, indices\)"):
        expect_pair(pair[0], ("z_q", "indices"), "f(z)", tensors=True)


def test_expect_tensor_refuses_the_right_numbers_in_a_numpy_array_or_a_list():
    """A card that asks for a torch tensor: assert_close takes a numpy array or a list of the
    right values, so the type is asked for on its own, naming what came back."""
    expect_tensor(torch.zeros(2, 3, dtype=torch.float64), "f(x)")
    with pytest.raises(
        AssertionError,
        match=r"^f\(x\): returned a numpy array of shape \(3, 4\), dtype=float64, expected a "
        r"torch tensor\n  hint: .*torch.from_numpy",
    ):
        expect_tensor(np.zeros((3, 4)), "f(x)")
    with pytest.raises(AssertionError, match=r"returned \[1.0, 2.0\], expected a torch tensor"):
        expect_tensor([1.0, 2.0], "f(x)")
    with pytest.raises(
        AssertionError, match=r"returned 0.5, expected a torch tensor\n  hint: mine$"
    ):
        expect_tensor(0.5, "f(x)", hint="mine")


def test_as_int_refuses_a_0d_tensor_where_a_card_promises_an_int():
    """Checkers took whatever has __index__ for an int, so a 0-d tensor (an answer computed
    with torch operations, without .item()) passed where the card promises `-> int`."""
    from studycli.assertions import as_int

    assert as_int(112, "f") == 112 and type(as_int(112, "f")) is int
    for value, said in (
        (torch.tensor(112), "f(224): returned tensor(112, dtype=int64), expected an int"),
        (np.array(3), "f(224): returned array(3, dtype=int64), expected an int"),
        (112.0, "f(224): returned 112.0 of type float, expected an int"),
        (True, "f(224): returned True of type bool, expected an int"),
        (None, "f(224): returned None of type NoneType, expected an int"),
    ):
        with pytest.raises(AssertionError) as failed:
            as_int(value, "f(224)", hint="use //")
        hint = "a 0-d tensor's Python number is its .item()" if "tensor" in said else "use //"
        assert str(failed.value) == f"{said}\n  hint: {hint}"


def test_as_int_refuses_a_numpy_integer_where_a_card_promises_a_python_int():
    """np.int64 passed as the int a card's `-> int` promises, while as_int refused a 0-d numpy
    array and a 0-d tensor of the same value (loss-scaling's tracker refused it already)."""
    from studycli.assertions import as_int

    for value, said in (
        (np.int64(112), "np.int64(112)"),
        (np.int32(-3), "np.int32(-3)"),
        (np.uint8(7), "np.uint8(7)"),
    ):
        with pytest.raises(AssertionError) as failed:
            as_int(value, "f(224)", hint="use //")
        assert str(failed.value) == (
            f"f(224): returned {said}, a numpy integer, expected a Python int\n"
            "  hint: int(...) of a numpy integer is the Python int"
        )
