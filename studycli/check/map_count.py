"""The other limit behind a check's "Cannot allocate memory": the number of memory mappings a
process may hold (Linux's vm.max_map_count, 65,530 by default), met long before the check's
memory cap by many small maps kept at once (a loop of `mmap.mmap(-1, 4096)`: 256 MB in all).
Both refuse with ENOMEM; `limit_met` tells them apart where it can (`error_report`).
"""

from __future__ import annotations

NEAR = 0.9  # of the system's limit: a process holding this share of it is taken to have met it
PAGE_KB = 4  # the least a mapping takes


def limit_met(memory: str, start_kb: int | None) -> str:
    """What a check that ran out of memory met, in words: the memory cap (`memory`, its words),
    or the system's limit on mappings, or either. `start_kb`: the check's size as it began
    (None: not known, where it has no cap).

    The mappings are counted as the failure is described: the code may have let go of them
    already (kept only inside a comprehension). Then its peak size says whether it could have
    held that many (each takes a page at least): where it could not, the cap refused it."""
    counts = _counts()
    if counts is None:
        return memory
    held, limit, peak_kb = counts
    if held >= NEAR * limit:
        return (
            f"ran out of memory mappings, not memory: it held {min(held, limit):,}, all the "
            f"system lets a process hold (vm.max_map_count); many small maps kept at once? Map "
            "fewer, larger regions"
        )
    if start_kb is None or peak_kb - start_kb < (NEAR * limit - held) * PAGE_KB:
        return memory
    return (
        f"{memory}, or of memory mappings (the system lets a process hold {limit:,}: "
        "vm.max_map_count; many small maps at once?)"
    )


def _counts() -> tuple[int, int, int] | None:
    """The mappings this process holds, the most the system lets it hold, and its peak size
    in kB; None where that cannot be read (not Linux)."""
    try:
        with open("/proc/sys/vm/max_map_count", encoding="ascii") as setting:
            limit = int(setting.read())
        # (read in small pieces, unbuffered: a megabyte's buffer is a mapping of its own,
        # which a process that holds all it may cannot get: MemoryError)
        with open("/proc/self/maps", "rb", buffering=0) as maps:
            held = sum(chunk.count(b"\n") for chunk in iter(lambda: maps.read(1 << 14), b""))
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            peak = next(line for line in status if line.startswith("VmPeak:"))
        return held, limit, int(peak.split()[1])
    except (OSError, ValueError, MemoryError, StopIteration, IndexError):
        return None
