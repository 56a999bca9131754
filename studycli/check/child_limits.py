"""The caps a check's own process puts on itself before the checker runs (`child._child`): its
address space (`_limit_memory`, the check's memory limit) and torch's threads, as many as their
stacks fit in a share of that cap (`_set_threads`). What the limits are is `limits`'s and the
job's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .runner import Job

# The check's size in kB as it capped it (`_limit_memory`; None: no cap), which says how far
# it grew before it ran out of memory (`map_count.limit_met`)
SIZE_AT_CAP_KB: int | None = None


def memory_cap_mb(job: Job) -> int:
    """The memory cap `job`'s check holds its process to, in MB (0: none): the job's, on the
    CPU; a device worker runs its checks in itself, never capped (`_limit_memory`), and its
    checks that ran out of memory said "the limit is 1024 MB", a limit they were not held to."""
    return job.memory_mb if job.device == "cpu" else 0


def _limit_memory(memory_mb: int) -> None:
    """Cap this process's address space at its size now plus `memory_mb`, the hard limit too:
    under the soft limit alone, code the check ran (or a library it called) could set it to
    the hard one, unlimited, and had no cap. (Only a check's own process is capped: a worker
    that runs checks itself, on a GPU, never is.)"""
    global SIZE_AT_CAP_KB
    SIZE_AT_CAP_KB = None
    if not memory_mb:
        return
    try:
        import resource

        # the size in pages, statm's first field: /proc/self/status says it too (VmSize),
        # but the kernel takes five times as long to write all that (0.3 ms a check)
        with open("/proc/self/statm", encoding="ascii") as statm:
            current = int(statm.read().split()[0]) * resource.getpagesize()
        limit = current + memory_mb * 1024 * 1024
        SIZE_AT_CAP_KB = current // 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, IndexError, ValueError):
        pass  # no /proc or no setrlimit: the time limit still applies


def _set_threads(threads: int, memory_mb: int = 0) -> None:
    """Give torch `threads` threads, as many as their stacks fit in a share of the check's
    memory cap (`memory_mb`; 0: none): each reserves its stack's size of the address space
    the cap counts (8 MB, the stack limit), and where OpenMP could not start one it ended the
    process ("libgomp: Thread creation failed", exit status 1). A check is given one
    (`runner.CHECK_THREADS`); given a thread per core (`check --jobs 1` once), on a machine of
    128 cores a correct answer that ran a parallel operation would fail under the default cap,
    1024 MB (127 stacks: 1016 MB; a check given 128 threads on the 2-core box did: out of
    memory, or ended by OpenMP), and one of 64 cores left half the cap."""
    import sys

    torch = sys.modules.get("torch")
    if memory_mb:
        threads = min(threads, _threads_within(memory_mb))
    wanted = max(1, threads)
    # (setting it costs 0.2 ms even when it is so already, as it is in most checks: the
    # worker starts with one thread a check)
    if torch is not None and torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)


STACKS_SHARE = 4  # the threads' stacks may take a quarter of a check's memory cap


def _threads_within(memory_mb: int) -> int:
    """How many threads' stacks fit in 1/`STACKS_SHARE` of `memory_mb` (where the memory
    cap applies: see `_limit_memory`)."""
    try:
        import resource
    except ImportError:  # (no cap either)
        return memory_mb
    stack, _ = resource.getrlimit(resource.RLIMIT_STACK)
    if stack == resource.RLIM_INFINITY or stack <= 0:
        stack = 8 << 20  # (glibc's default is then smaller: this counts fewer threads)
    return (memory_mb << 20) // STACKS_SHARE // stack
