"""The seccomp filter that keeps a check run as root to its real user id (Linux; see
`as_root`): it refuses (EPERM) every system call that changes a real user id, but one that
sets it to a check's and leaves the effective and saved ids as they are, as a check starting
does (which only CAP_SETUID allows, which the check then gives up). A process keeps it for good,
and so does everything it starts.

Nor may a check enter a user namespace (`NAMESPACE_CALLS`): one it makes (unshare or clone with
CLONE_NEWUSER) is owned by its effective id, 0, and Linux counts the processes in it as that
owner's outside it, not the check's: a check whose children each made one forked past its cap
(40 children under a cap of 5), and one that mapped its own id to 0 there could set its real id
to it. setns, which joins one, is refused; clone3, whose flags the filter cannot read, says
ENOSYS, on which glibc makes its threads and processes with clone instead.
"""

from __future__ import annotations

import platform
import struct
from typing import Any

# The system calls that change a real user id, by the ABI a call is made in (AUDIT_ARCH_* of
# linux/audit.h), as that ABI numbers them (its unistd.h): setresuid first, then setuid and
# setreuid; on x86-64 also those of x32 (the same numbers, with bit 30) and of i386, on arm64
# those of 32-bit ARM (16- and 32-bit ids alike). The first ABI is the machine's own.
_OLD_32_BIT = (164, 23, 70, 208, 213, 203)
_X86_64 = (117, 105, 113)
UID_CALLS: dict[str, dict[int, tuple[int, ...]]] = {
    "x86_64": {0xC000003E: (*_X86_64, *(1 << 30 | n for n in _X86_64)), 0x40000003: _OLD_32_BIT},
    "aarch64": {0xC00000B7: (147, 146, 145), 0x40000028: _OLD_32_BIT},
    "riscv64": {0xC00000F3: (147, 146, 145)},
}
# The calls that make or join a user namespace, by ABI as in `UID_CALLS`: (clone, unshare,
# setns, clone3), on x86-64 for x32 too; clone's and unshare's flags are their first argument
_X32 = 1 << 30
NAMESPACE_CALLS: dict[str, dict[int, tuple[tuple[int, int, int, int], ...]]] = {
    "x86_64": {
        0xC000003E: ((56, 272, 308, 435), (_X32 | 56, _X32 | 272, _X32 | 308, _X32 | 435)),
        0x40000003: ((120, 310, 346, 435),),
    },
    "aarch64": {0xC00000B7: ((220, 97, 268, 435),), 0x40000028: ((120, 337, 375, 435),)},
    "riscv64": {0xC00000F3: ((220, 97, 268, 435),)},
}
CLONE_NEWUSER = 0x10000000
# classic BPF: load a word of struct seccomp_data, jump if equal, if greater or equal, if any
# of the operand's bits is set, return
_LOAD, _IF_EQUAL, _IF_AT_LEAST, _IF_ANY, _RETURN = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO (| the errno)
_REFUSE, _NO_SUCH_CALL = _ERRNO | 1, _ERRNO | 38  # EPERM, ENOSYS
_NR, _ARCH, _ARGS = 0, 4, 16  # where seccomp_data holds them (an argument's low word first)
_UNSET = 0xFFFFFFFF  # (uid_t) -1: an id setresuid leaves as it is

# (code, the label to go to if true, if false, "": the next; the operand)
Instruction = tuple[int, str, str, int]


def install(libc: Any, low: int, high: int) -> bool:
    """Install the filter in this process, real ids from `low` up to `high` allowed, with
    no_new_privs, which a process without CAP_SYS_ADMIN needs for it (changing nothing for a
    check run as root: a program it runs keeps its effective id 0 and its capabilities with or
    without). Whether it is in place: not on a machine whose calls `UID_CALLS` does not know,
    nor where seccomp is missing."""
    import ctypes

    calls = UID_CALLS.get(platform.machine())
    if calls is None:
        return False
    code = program(calls, low, high, NAMESPACE_CALLS[platform.machine()])

    class Program(ctypes.Structure):  # struct sock_fprog
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]

    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        return False
    fprog = Program(len(code) // 8, code)
    return _load(libc, ctypes.byref(fprog))


# seccomp(2)'s number, by machine (as `UID_CALLS`), its SECCOMP_SET_MODE_FILTER, and the flag
# that keeps a filter from turning on the speculative store bypass mitigation
SECCOMP_CALL = {"x86_64": 317, "aarch64": 277, "riscv64": 277}
SET_MODE_FILTER, FILTER_FLAG_SPEC_ALLOW = 1, 1 << 2


def _load(libc: Any, fprog: Any) -> bool:
    """Load the filter `fprog` points to; whether it is in place. Through seccomp(2) with
    SECCOMP_FILTER_FLAG_SPEC_ALLOW (Linux 4.17+): before Linux 5.16 a filter loaded without
    it turned on SSBD (the speculative store bypass mitigation) for the worker and each check
    it forks, which slows them; where seccomp(2) or the flag is unknown (ENOSYS, EINVAL),
    through prctl, as before."""
    import ctypes
    import errno

    number = SECCOMP_CALL.get(platform.machine())
    if number is not None:
        mode, flags = ctypes.c_long(SET_MODE_FILTER), ctypes.c_long(FILTER_FLAG_SPEC_ALLOW)
        if libc.syscall(ctypes.c_long(number), mode, flags, fprog) == 0:
            return True
        if ctypes.get_errno() not in (errno.ENOSYS, errno.EINVAL):
            return False
    return bool(libc.prctl(22, 2, fprog, 0, 0) == 0)  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER


def program(
    calls: dict[int, tuple[int, ...]],
    low: int,
    high: int,
    namespaces: dict[int, tuple[tuple[int, int, int, int], ...]],
) -> bytes:
    """The filter (struct sock_filter's) that refuses the calls `calls` names, by ABI, except
    the first ABI's first (setresuid) where it sets only the real id, to one from `low` up to
    `high`; and those of `namespaces` (as `NAMESPACE_CALLS`) that make or join a user
    namespace."""
    code: list[str | Instruction] = [(_LOAD, "", "", _ARCH)]
    for index, (arch, numbers) in enumerate(calls.items()):
        code += [(_IF_EQUAL, "", f"past {index}", arch), (_LOAD, "", "", _NR)]
        code += _namespace_calls(namespaces.get(arch, ()))
        if index == 0:
            code += [
                (_IF_EQUAL, "", "others", numbers[0]),
                (_LOAD, "", "", _ARGS),  # the real id
                (_IF_AT_LEAST, "", "refuse", low),
                (_IF_AT_LEAST, "refuse", "", high),
                (_LOAD, "", "", _ARGS + 8),  # the effective id
                (_IF_EQUAL, "", "refuse", _UNSET),
                (_LOAD, "", "", _ARGS + 16),  # the saved id
                (_IF_EQUAL, "allow", "refuse", _UNSET),
                "others",
            ]
            numbers = numbers[1:]
        code += [(_IF_EQUAL, "refuse", "", number) for number in numbers]
        code += [(_RETURN, "", "", _ALLOW), f"past {index}"]
    code += [
        (_RETURN, "", "", _ALLOW),  # (an ABI not named: allowed)
        "flags",  # (clone's, unshare's)
        (_LOAD, "", "", _ARGS),
        (_IF_ANY, "refuse", "", CLONE_NEWUSER),
        "allow",
        (_RETURN, "", "", _ALLOW),
        "refuse",
        (_RETURN, "", "", _REFUSE),
        "no such call",
        (_RETURN, "", "", _NO_SUCH_CALL),
    ]
    return _assembled(code)


def _namespace_calls(calls: tuple[tuple[int, int, int, int], ...]) -> list[str | Instruction]:
    """(With the call's number loaded.) Where `calls` (as `NAMESPACE_CALLS`'s) names it:
    setns refused, clone3 said not to be, clone and unshare refused with CLONE_NEWUSER among
    their flags."""
    code: list[str | Instruction] = []
    for clone, unshare, setns, clone3 in calls:
        code += [
            (_IF_EQUAL, "flags", "", clone),
            (_IF_EQUAL, "flags", "", unshare),
            (_IF_EQUAL, "refuse", "", setns),
            (_IF_EQUAL, "no such call", "", clone3),
        ]
    return code


def _assembled(code: list[str | Instruction]) -> bytes:
    """`code`'s instructions, with the labels among them resolved to the jumps that reach
    them."""
    places: dict[str, int] = {}
    instructions: list[Instruction] = []
    for item in code:
        if isinstance(item, str):
            places[item] = len(instructions)
        else:
            instructions.append(item)

    def offset(label: str, at: int) -> int:
        return places[label] - at - 1 if label else 0

    return b"".join(
        struct.pack("=HBBI", op, offset(true, at), offset(false, at), operand)
        for at, (op, true, false, operand) in enumerate(instructions)
    )
