"""What the answer does in torch: `watch_torch` (the largest tensor made, the functions called),
`forbid` (a routine the answer must not call) and `gpu_memory_budget` (its peak on CUDA)."""

from __future__ import annotations

import functools
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from .comparisons import expect
from .failures import CheckFailure


class TorchWatch:
    """What `watch_torch` saw: the largest tensor made (in elements) and the functions called."""

    def __init__(self) -> None:
        self.numel = 0
        self.called: set[str] = set()


@contextmanager
def watch_torch() -> Iterator[TorchWatch]:
    """Watch every torch operation in the block: record the largest tensor any of them returns
    and the names of the functions called.

    A card that forbids a quadratic intermediate (FlashAttention's Lq x Lk score matrix) can
    then check the learner's code on a modest input, on any device, in milliseconds:

        with watch_torch() as seen:
            out = impl(q, k, v)
        expect(seen.numel < n_q * n_k // 8, what, f"built a tensor of {seen.numel} elements")
    """
    with _watch(sizes=True) as record:
        yield record


@contextmanager
def _watch(*, sizes: bool) -> Iterator[TorchWatch]:
    """`watch_torch`; without `sizes` only the names are recorded. The mode runs for every
    operation of the learner's code, so it does as little as it can (a check of a loop over
    single rows calls it hundreds of thousands of times)."""
    import torch
    from torch.overrides import TorchFunctionMode

    record = TorchWatch()
    called = record.called
    tensor = torch.Tensor

    def visit(value: Any) -> None:
        if isinstance(value, tensor):
            if (numel := value.numel()) > record.numel:
                record.numel = numel
        elif isinstance(value, (tuple, list)):
            for item in value:
                visit(item)

    class _Watch(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            try:
                called.add(func.__name__)
            except AttributeError:
                called.add(str(func))
            result = func(*args, **(kwargs or {}))
            if sizes:
                visit(result)
            return result

    with _Watch():
        yield record


def forbid(impl: Callable, *names: str, reason: str) -> Callable:
    """Wrap the learner's function so that calling a torch routine named in `names` fails.

    A card about how a routine works must not be answered by calling it (`F.pixel_shuffle` in
    the pixel-shuffle card). The wrapper raises AssertionError naming the routine and `reason`.
    A name covers its private and operator forms too (`torch.ops.aten._softmax.default`,
    `torch._softmax` for "softmax").

    It sees the torch calls Python makes, through a torch function mode: those of a function
    torch.compile compiled too (dynamo traces the mode with them, fullgraph or not, warmed up
    outside it or not; h2's probe), not those TorchScript's interpreter makes, which a check
    worker therefore refuses to run (`check.unscripted`). The mode does not see what runs
    inside a torch call while it steps aside (a tensor subclass's __torch_function__, a
    dispatch mode's __torch_dispatch__, a custom operator's Python kernel), nor calls made with
    it disabled (torch._C.DisableTorchFunction) or popped (h2, fifty-seventh session). A
    dispatch mode beside this one saw all of those but the kernel's, and made forbid's checks
    2-4x as long (CPU: online-softmax's reference 0.08 -> 0.27-0.33 s, FlashAttention's 0.31
    -> 0.62-0.86 s), so it is not used. Instead the answer's own code is read once, as it is
    wrapped (`_around_the_watch`: 7 us a function on average over the 1,901 of solutions/, 14
    us for online-softmax's reference; the card's check 4.2 s before and after), and an answer
    that names one of those ways (`AROUND_THE_WATCH`: a class defining __torch_function__ or
    subclassing TorchDispatchMode, torch.library.custom_op, DisableTorchFunction,
    torch._C._pop_torch_function_stack, ...) fails at each call, after it: the failure comes
    from the checker's call, naming first a forbidden routine the mode saw. Still not seen:
    the code of another module of the learner's (a helper file it imports; an operator it
    defined from Python is seen where the answer calls it, by torch.ops or by custom_op's
    object), and a name built as it runs (getattr(torch._C, "Disable" + "TorchFunction")).
    """

    around = _around_the_watch(impl)

    def guarded(*args: Any, **kwargs: Any) -> Any:
        with _watch(sizes=False) as seen:
            result = impl(*args, **kwargs)
        used = sorted(name for name in seen.called if bare_name(name) in names)
        if used:
            raise CheckFailure(f"the answer calls {', '.join(used)}: {reason}")
        if around:
            raise CheckFailure(
                f"the answer steps around the check's watch of its torch calls "
                f"({', '.join(around)}), where what it calls is not seen: {reason}"
            )
        return result

    guarded.__name__ = getattr(impl, "__name__", "impl")
    return guarded


# The names by which an answer steps around `forbid`'s torch function mode (torch 2.13's
# spellings): torch calls made inside a tensor subclass's __torch_function__, a dispatch mode's
# __torch_dispatch__ or a custom operator's Python kernel run with the mode stepped aside;
# torch._C.DisableTorchFunction turns the modes off; the stack's own routines pop, replace or
# skip them (torch.overrides, torch.utils._python_dispatch, torch._C).
AROUND_THE_WATCH = frozenset(
    {"__torch_function__", "__torch_dispatch__", "_disabled_torch_function_impl"}
    | {"TorchFunctionMode", "BaseTorchFunctionMode", "TorchDispatchMode", "BaseTorchDispatchMode"}
    | {"DisableTorchFunction", "DisableTorchFunctionSubclass", "_set_torch_function_state"}
    | {"_skip_one_hop_torch_function", "_set_skip_next_torch_function"}
    | {"_pop_mode", "_push_mode", "_pop_mode_temporarily", "_disable_current_modes"}
    | {"_get_current_function_mode", "_get_current_function_mode_stack"}
    | {"_pop_torch_function_stack", "_push_on_torch_function_stack", "_get_function_stack_at"}
    | {"_push_on_torch_dispatch_stack", "_set_dispatch_mode", "_DisableTorchDispatch"}
    | {"custom_op", "triton_op", "Library", "_scoped_library", "CustomOpDef"}
    | {"register_kernel", "register_torch_dispatch", "register_autograd"}
)
# torch.library.define and torch.library.impl, named in an answer's code with `library`
_LIBRARY_ROUTINES = frozenset({"define", "impl", "_impl"})


def _around_the_watch(impl: Callable) -> list[str]:
    """The names of `AROUND_THE_WATCH` the answer's own code uses, read once as it is wrapped:
    the code of `impl` and of what it reaches in its own module (each code object's nested
    ones: its functions, lambdas and classes; the functions and classes of its module that its
    names are, and their methods; what its closure holds, another module's too; the class of
    a callable object or of an instance its module made), in its names (`co_names`: attributes
    as well as globals) and its strings (getattr(torch._C, "DisableTorchFunction")). A class
    subclassing a torch mode or defining __torch_function__ counts, as do a custom operator or
    a torch.library.Library the code names, and an operator defined from Python that it calls
    by torch.ops.<namespace>.<name>. The rest of the module is not read: the checker beside
    the answer watches with a TorchFunctionMode of its own."""
    found: set[str] = set()
    seen: set[int] = set()
    todo: list[Any] = [impl]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, types.MethodType):
            todo.append(item.__func__)
        elif isinstance(item, functools.partial):
            todo.append(item.func)
        elif type(item).__module__ == "functools":  # (functools.cache's wrapper, say)
            todo.append(getattr(item, "__wrapped__", None))
        elif not isinstance(item, (type, types.FunctionType)):
            todo.append(type(item))  # (a callable object, a module's instance: its class)
        elif _not_the_answers(item):
            continue
        elif isinstance(item, type):
            _read_class(item, found, todo)
        else:
            _read_function(item, found, todo)
    return sorted(found)


def _not_the_answers(item: type | types.FunctionType) -> bool:
    """Whether `item` is torch's, studycli's or the standard library's (a function in a
    closure may be: it is not read, as torch's own code names what the answer's must not)."""
    root = str(item.__module__).partition(".")[0]
    return root in ("torch", "studycli") or root in sys.stdlib_module_names


def _read_function(function: types.FunctionType, found: set[str], todo: list[Any]) -> None:
    module = function.__module__
    space = function.__globals__
    for cell in function.__closure__ or ():
        with suppress(ValueError):  # (a cell not filled yet)
            todo.append(cell.cell_contents)
    if "__wrapped__" in function.__dict__:  # (functools.wraps's decorator)
        todo.append(function.__dict__["__wrapped__"])
    names: set[str] = set()
    codes = [function.__code__]
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                codes.append(const)
            elif isinstance(const, str) and const in AROUND_THE_WATCH:
                found.add(const)
    for name in names:
        value = space.get(name)
        kind = type(value)
        if isinstance(value, (types.FunctionType, type)) or kind.__module__ == "functools":
            if getattr(value, "__module__", None) == module:
                todo.append(value)  # (its own: read, not named)
                continue
        elif kind.__module__ == module:
            todo.append(kind)  # (an instance of its own class: a mode made as it loaded)
        elif kind.__name__ in AROUND_THE_WATCH and str(kind.__module__).startswith("torch."):
            found.add(kind.__name__)  # (a CustomOpDef or a Library made as the module loaded)
        if name in AROUND_THE_WATCH:
            found.add(name)
    if "library" in names and names & _LIBRARY_ROUTINES:
        found.add("torch.library." + min(names & _LIBRARY_ROUTINES))
    if "ops" in names:
        library = sys.modules.get("torch.library")
        for qualified in getattr(library, "_defs", ()):
            namespace, _, name = qualified.partition("::")
            if namespace in names and name in names:
                found.add(qualified)


def _read_class(cls: type, found: set[str], todo: list[Any]) -> None:
    for base in cls.__mro__[1:]:
        if base.__name__ in AROUND_THE_WATCH:
            found.add(base.__name__)
        elif base.__module__ == cls.__module__:
            todo.append(base)
    for name, value in vars(cls).items():
        if name in AROUND_THE_WATCH:
            found.add(name)
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property):
            todo.extend(part for part in (value.fget, value.fset, value.fdel) if part)
        elif isinstance(value, types.FunctionType):
            todo.append(value)


# Every convolution routine torch has (as of 2.13: each operator of aten, mkldnn and
# mkldnn_prepacked whose name holds "conv", bar those that reorder or pack a weight), for
# `forbid` in a card that is a convolution or replaces one: a list of the usual three let
# conv3d, conv_tbc and the transposed ones answer them (conv1d and patchify, red-teamed), and
# a list of the public ones let torch._C._nn.slow_conv_dilated2d answer conv1d (dilation,
# stride and padding its own; mkldnn's pointwise one gives F.conv2d's numbers on the CPU too).
# A routine of nn.grad (conv1d_weight, ...) calls convolution_backward, named here too, as are
# the other backward ones (a transposed convolution each). The quantized ones are left out:
# they take quantized tensors, and give the numbers to a quantisation step only.
CONVOLUTIONS = (
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_tbc",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "convolution",
    "convolution_mode",
    "convolution_backward",
    "cudnn_convolution",
    "cudnn_convolution_relu",
    "cudnn_convolution_add_relu",
    "cudnn_convolution_transpose",
    "miopen_convolution",
    "miopen_convolution_relu",
    "miopen_convolution_add_relu",
    "miopen_convolution_transpose",
    "miopen_depthwise_convolution",
    "mkldnn_convolution",
    "mps_convolution",
    "mps_convolution_transpose",
    "nnpack_spatial_convolution",
    "convolution_overrideable",
    "convolution_backward_overrideable",
    "convolution_double_backward",
    "conv_tbc_backward",
    "mps_convolution_backward",
    "mps_convolution_transpose_backward",
    "conv_depthwise2d",
    "conv_depthwise3d",
    "thnn_conv2d",
    "slow_conv2d_forward",
    "slow_conv2d_backward",
    "slow_conv3d",
    "slow_conv3d_forward",
    "slow_conv_dilated2d",
    "slow_conv_dilated3d",
    "slow_conv_transpose2d",
    "slow_conv_transpose3d",
    "convolution_pointwise",  # (mkldnn's, on the CPU)
    "convolution_pointwise_",
    "convolution_transpose_pointwise",
    "conv2d_run",  # (mkldnn_prepacked's, after its conv2d_prepack)
)


# Every softmax routine, and every fused attention, for `forbid` in the cards that are one
# (online softmax, FlashAttention, scaled dot-product attention): names of the public routines
# alone let torch._masked_softmax and torch._scaled_dot_product_attention_math answer them
# (red-teamed). (Log-sum-exp is no softmax: FlashAttention may keep one per tile.)
SOFTMAXES = (
    "softmax",
    "log_softmax",
    "softmin",
    "safe_softmax",  # (torch._safe_softmax: the masked-row softmax of attention)
    "masked_softmax",
    "sparse_softmax",
    "sparse_log_softmax",
    "nested_tensor_softmax_with_shape",
    "special_softmax",  # (torch.special.softmax and its kin: their own operators' names)
    "special_log_softmax",
)
ATTENTIONS = (
    "scaled_dot_product_attention",
    "scaled_dot_product_attention_math",
    "scaled_dot_product_attention_math_for_mps",
    "scaled_dot_product_flash_attention",
    "scaled_dot_product_flash_attention_for_cpu",
    "scaled_dot_product_efficient_attention",
    "scaled_dot_product_cudnn_attention",
    "scaled_dot_product_fused_attention_overrideable",
    "cudnn_attention_forward",
    "flash_attention_forward",
    "flash_attention_forward_no_dropout_inplace",
    "efficient_attention_forward",
    "multi_head_attention_forward",
    "native_multi_head_attention",
    "triton_multi_head_attention",
    "triton_scaled_dot_attention",
)


def bare_name(name: str) -> str:
    """A torch routine's name without its private underscores or its operator overload:
    "_softmax.default" -> "softmax"."""
    return name.partition(".")[0].lstrip("_")


@contextmanager
def gpu_memory_budget(device: Any, limit_mb: float, what: str, *, hint: str = "") -> Iterator[None]:
    """Assert that the code in the block allocates at most `limit_mb` of GPU memory at its peak.

    A card that forbids a quadratic intermediate (an L x L attention matrix) makes L so large
    that the matrix cannot be allocated. On the CPU the check runner's memory cap enforces that;
    a large GPU may hold the matrix after all, so on CUDA the peak is measured instead. On other
    devices the block runs unmeasured.
    """
    import torch

    if torch.device(device).type != "cuda":
        yield
        return
    torch.cuda.synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    yield
    torch.cuda.synchronize(device)
    peak_mb = (torch.cuda.max_memory_allocated(device) - before) / 2**20
    expect(
        peak_mb <= limit_mb,
        what,
        f"allocated {peak_mb:,.0f} MB of GPU memory at its peak; the budget is {limit_mb:,.0f} MB",
        hint=hint,
    )
