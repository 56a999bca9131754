"""The CPUs a cgroup's quota gives this process (`quota`): a container's or a CI job's CPU limit
(cgroup v2's cpu.max, v1's cpu.cfs_quota_us over cpu.cfs_period_us), which may be below the
cores its affinity lets it run on (`docker run --cpus 1` on a host of 16: all 16 are allowed).

`studycli check` ran as many checks at once as it had cores (`pool.cores`): there they share
the quota, and the kernel throttles them all. A throttled thread stays on its run queue (its
time counts as waited for a core, in its schedstat: a spinner under a quota of a fifth of a
CPU ran 0.61 s and waited 2.39 s in 3 s, on the 2-core box's 6.18 kernel), so `starvation`
read each as starved and gave it time: a correct answer was not failed, but two infinite
loops run side by side under that quota were each not judged (busy, 0.5 s of CPU in 6 s,
their limit 2 s) where, one at a time, each ended at 3.5 s as did not finish.

Its cgroup is where /proc/self/cgroup says, under the mount of its hierarchy (mountinfo's
root: "/" where the host's is mounted, the container's own where that is). In a cgroup
namespace made over the host's mount (`unshare --cgroup`, a container given the host's
/sys/fs/cgroup), both are said from the namespace's root: "/", and "/.." for each level up
to the host's root ("/../../.." on the box, the namespace made three deep), the names between
said nowhere; the quota, on the namespace's root, was missed, the host's root alone read.
There the cgroup is the folder, as many levels down, that lists this process (`_found`).
"""

from __future__ import annotations

import contextlib
import math
import os


def quota(cgroups: str = "/proc/self/cgroup", mounts: str = "/proc/self/mountinfo") -> float | None:
    """The CPUs that the cgroups of this process (`cgroups`, as /proc/self/cgroup lists them)
    and their ancestors let it use, the least of their quotas (1.5: one and a half CPUs' time
    in each period); None where none has a quota, or none can be read (not Linux)."""
    try:
        with open(cgroups, encoding="utf-8") as listing:
            paths = _paths(listing.read())
        with open(mounts, encoding="utf-8") as listing:
            mounted = _mounts(listing.read())
    except OSError:
        return None
    found = [
        cpus
        for version, point, root in mounted
        if (path := paths.get(version)) is not None
        for folder in _folders(point, root, path)
        if (cpus := _cpus(folder, version)) is not None
    ]
    return min(found, default=None)


def cores(allowed: int, cpus: float | None) -> int:
    """How many checks to run at once on `allowed` cores under a quota of `cpus`: one for each
    whole CPU, or part of one, it gives (`quota`; None: `allowed`), at least one."""
    if cpus is None:
        return allowed
    return max(1, min(allowed, math.ceil(cpus)))


def _paths(listing: str) -> dict[str, str]:
    """Each hierarchy's path of this process's cgroup in it, by version: "v2" (the unified
    hierarchy, "0::/path"), "v1" (the one with the cpu controller, "4:cpu,cpuacct:/path")."""
    paths: dict[str, str] = {}
    for line in listing.splitlines():
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if number == "0" and not controllers:
            paths["v2"] = path
        elif "cpu" in controllers.split(","):
            paths["v1"] = path
    return paths


def _mounts(listing: str) -> list[tuple[str, str, str]]:
    """The cgroup hierarchies mounted (those with the cpu controller, in v1), each as its
    version, its mount point and the path of the cgroup at that point (proc(5)'s mountinfo:
    "/" but where a container was given its own cgroup's folder)."""
    found = []
    for line in listing.splitlines():
        fields, _, after = line.partition(" - ")
        own, kind = fields.split(), after.split()
        if len(own) < 5 or len(kind) < 3:
            continue
        root, point = _unescaped(own[3]), _unescaped(own[4])
        if kind[0] == "cgroup2":
            found.append(("v2", point, root))
        elif kind[0] == "cgroup" and "cpu" in kind[2].split(","):
            found.append(("v1", point, root))
    return found


def _unescaped(field: str) -> str:
    """A mountinfo path, its octal escapes ("\\040" for a space) read back."""
    return field.encode().decode("unicode_escape") if "\\" in field else field


def _folders(point: str, root: str, path: str) -> list[str]:
    """The folders, under mount point `point`, of the cgroup at `path` and of each ancestor
    down to the mount's (`root`); the mount's alone where the path is outside it, or where
    it cannot be found under the mount (`_found`). Both paths are as this process's cgroup
    namespace shows them (cgroup_namespaces(7)): from its root, "/.." its parent."""
    mount, own = _parts(root), _parts(path)
    if own[: len(mount)] == mount and ".." not in own[len(mount) :]:
        inside: list[str] | None = own[len(mount) :]
    else:
        inside = _found(point, mount, own)
    folders = [point]
    for part in inside or ():
        folders.append(os.path.join(folders[-1], part))
    return folders


def _parts(path: str) -> list[str]:
    """The names in cgroup path `path` ("/a/b": a, b), "." and "x/.." taken out; a ".." left
    at its start stands for an ancestor of the cgroup namespace's root ("/../..": two up)."""
    parts: list[str] = []
    for part in path.split("/"):
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return parts


# Folders at one depth under a mount point, at most, that `_found` looks through (a host's
# hierarchy has one for each service, container and session: hundreds)
SEARCH_LIMIT = 4096


def _found(point: str, mount: list[str], own: list[str]) -> list[str] | None:
    """The path, under the mount point `point`, of this process's cgroup (`own`), where the
    mount's root (`mount`) is an ancestor of the cgroup namespace's root that the path starts
    from ("/.." at its start, as many levels up as it has): a cgroup namespace made over the
    host's mount (`unshare --cgroup`, a container given the host's /sys/fs/cgroup), where
    /proc/self/cgroup says "/" and the quota sits on that root, seen from the host. The names
    between the two roots are not said anywhere: the folder is the one, that many levels
    down, whose cgroup.procs lists this process. None where there is none (or the mount's
    root is not such an ancestor)."""
    below = [part for part in own if part != ".."]  # (any ".." is at the start)
    up, out = len(mount), len(own) - len(below)
    if any(part != ".." for part in mount) or out >= up:
        return None
    level: list[list[str]] = [[]]
    for _ in range(up - out):
        level = [names + [name] for names in level for name in _subfolders(point, names)]
        if len(level) > SEARCH_LIMIT:
            return None
    pid = str(os.getpid())
    for names in level:
        procs = os.path.join(point, *names, *below, "cgroup.procs")
        with contextlib.suppress(OSError), open(procs, encoding="ascii") as listed:
            if pid in listed.read().split():
                return names + below
    return None


def _subfolders(point: str, names: list[str]) -> list[str]:
    """The names of the folders in `point`/`names` (none where it cannot be read)."""
    with contextlib.suppress(OSError), os.scandir(os.path.join(point, *names)) as entries:
        return [entry.name for entry in entries if entry.is_dir(follow_symlinks=False)]
    return []


def _cpus(folder: str, version: str) -> float | None:
    """The CPUs the quota of the cgroup in `folder` gives (None: no quota, or none read)."""
    with contextlib.suppress(OSError, ValueError):
        if version == "v2":
            with open(os.path.join(folder, "cpu.max"), encoding="ascii") as limit:
                allowed, period = limit.read().split()
            return None if allowed == "max" else int(allowed) / int(period)
        with open(os.path.join(folder, "cpu.cfs_quota_us"), encoding="ascii") as limit:
            allowed = limit.read().strip()
        with open(os.path.join(folder, "cpu.cfs_period_us"), encoding="ascii") as length:
            period = length.read().strip()
        return None if int(allowed) < 0 else int(allowed) / int(period)
    return None
