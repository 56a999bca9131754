"""The seccomp filter that keeps a check run as root to its real user id (Linux; see
`as_root`): it refuses (EPERM) every system call that changes a real user id, but one that
sets it to a check's and leaves the effective and saved ids as they are, as a check starting
does (which only CAP_SETUID allows, which the check then gives up). A process keeps it for good,
and so does everything it starts."""

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
# classic BPF: load a word of struct seccomp_data, jump if equal, if greater or equal, return
_LOAD, _IF_EQUAL, _IF_AT_LEAST, _RETURN = 0x20, 0x15, 0x35, 0x06
_ALLOW, _REFUSE = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
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
    code = program(calls, low, high)

    class Program(ctypes.Structure):  # struct sock_fprog
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]

    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        return False
    fprog = Program(len(code) // 8, code)
    return bool(libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) == 0)  # PR_SET_SECCOMP, FILTER


def program(calls: dict[int, tuple[int, ...]], low: int, high: int) -> bytes:
    """The filter (struct sock_filter's) that refuses the calls `calls` names, by ABI, except
    the first ABI's first (setresuid) where it sets only the real id, to one from `low` up to
    `high`."""
    code: list[str | Instruction] = [(_LOAD, "", "", _ARCH)]
    for index, (arch, numbers) in enumerate(calls.items()):
        code += [(_IF_EQUAL, "", f"past {index}", arch), (_LOAD, "", "", _NR)]
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
    code += ["allow", (_RETURN, "", "", _ALLOW), "refuse", (_RETURN, "", "", _REFUSE)]
    return _assembled(code)


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
