"""A cgroup's CPU quota (`check.cpu_quota`): `studycli check` runs as many checks at once as
the quota gives CPUs, not as many as the cores it may run on, which then shared the quota and
were each read as starved (`starvation`): two infinite loops under a fifth of a CPU, on the
2-core box, were each not judged (busy) where one at a time each did not finish."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studycli.check import cpu_quota

# A process's cgroups in a host's hierarchies, both versions (proc(5)): v1's cpu controller
# shares its hierarchy with cpuacct
CGROUPS = "12:pids:/user.slice\n4:cpu,cpuacct:/ci/job\n0::/ci/job/step\n"


def mountinfo(tmp_path: Path, root: str = "/") -> str:
    """A mountinfo listing the hierarchies under `tmp_path` (v2 at unified/, v1's cpu at
    cpu,cpuacct/), each mount's cgroup `root` ("/": the host's)."""
    return (
        f"31 23 0:28 / {tmp_path} rw - tmpfs tmpfs rw\n"
        f"32 31 0:29 {root} {tmp_path}/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
        f"33 31 0:30 {root} {tmp_path}/memory rw,relatime - cgroup cgroup rw,memory\n"
        f"41 31 0:38 {root} {tmp_path}/unified rw,relatime - cgroup2 cgroup2 rw\n"
    )


def read(tmp_path: Path, cgroups: str = CGROUPS, root: str = "/") -> float | None:
    (tmp_path / "cgroup").write_text(cgroups)
    (tmp_path / "mountinfo").write_text(mountinfo(tmp_path, root))
    return cpu_quota.quota(str(tmp_path / "cgroup"), str(tmp_path / "mountinfo"))


def limit(folder: Path, name: str, value: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(value)


def test_the_least_quota_of_the_cgroup_and_its_ancestors_is_read_in_either_version(tmp_path):
    """A quota set on a parent (the CI job's) holds its children (the step's) too."""
    assert read(tmp_path) is None  # (no quota files: none read)
    limit(tmp_path / "unified" / "ci" / "job" / "step", "cpu.max", "max 100000\n")
    assert read(tmp_path) is None
    limit(tmp_path / "unified" / "ci", "cpu.max", "150000 100000\n")
    assert read(tmp_path) == 1.5
    limit(tmp_path / "cpu,cpuacct" / "ci" / "job", "cpu.cfs_quota_us", "50000\n")
    limit(tmp_path / "cpu,cpuacct" / "ci" / "job", "cpu.cfs_period_us", "100000\n")
    assert read(tmp_path) == 0.5
    (tmp_path / "cpu,cpuacct" / "ci" / "job" / "cpu.cfs_quota_us").write_text("-1\n")
    assert read(tmp_path) == 1.5


def test_a_containers_own_cgroup_mounted_as_its_root_is_read_there(tmp_path):
    """A container's cgroup namespace shows its cgroup as "/", at the mount point; without one,
    the mount's root is the container's cgroup on the host, and the process's path below it."""
    limit(tmp_path / "unified", "cpu.max", "200000 100000\n")
    assert read(tmp_path, "0::/\n") == 2.0
    assert read(tmp_path, "0::/docker/abc\n", root="/docker/abc") == 2.0
    limit(tmp_path / "unified" / "inner", "cpu.max", "25000 100000\n")
    assert read(tmp_path, "0::/docker/abc/inner\n", root="/docker/abc") == 0.25
    assert read(tmp_path, "0::/docker/abcd\n", root="/docker/abc") == 2.0  # (not below it)


def test_checks_at_once_are_one_for_each_cpu_or_part_of_one_the_quota_gives():
    assert cpu_quota.cores(16, None) == 16
    assert cpu_quota.cores(16, 1.0) == 1
    assert cpu_quota.cores(16, 1.5) == 2
    assert cpu_quota.cores(2, 0.1) == 1
    assert cpu_quota.cores(2, 8.0) == 2


@contextlib.contextmanager
def quota_group(cpus: float):
    """A cgroup of the cpu controller with a quota of `cpus` (v1 or v2, as mounted), its folder
    and the file a process is moved into it by; removed after. Root's only."""
    with open("/proc/self/mountinfo", encoding="utf-8") as listing:
        mounted = cpu_quota._mounts(listing.read())
    for version, point, _ in sorted(mounted, reverse=True):  # (v2 first)
        if version == "v2" and "cpu" not in _read(Path(point, "cgroup.subtree_control")):
            continue
        folder = Path(point, f"studycli-test-{os.getpid()}")
        try:
            folder.mkdir()
        except OSError:
            continue
        try:
            if version == "v2":
                (folder / "cpu.max").write_text(f"{int(cpus * 100000)} 100000")
                yield folder / "cgroup.procs"
            else:
                (folder / "cpu.cfs_period_us").write_text("100000")
                (folder / "cpu.cfs_quota_us").write_text(str(int(cpus * 100000)))
                yield folder / "tasks"
            return
        finally:
            folder.rmdir()
    pytest.skip("no cgroup hierarchy with the cpu controller this process may write")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0, reason="root")
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="more cores than the quota")
def test_check_runs_as_many_checks_at_once_as_a_cgroups_quota_gives_cpus():
    """`check`'s default --jobs (`pool.cores`) in a cgroup with half a CPU's quota: one, where
    it was the cores the process may run on (2 on the box)."""
    with quota_group(0.5) as tasks:
        moved = subprocess.run(
            [sys.executable, "-c", "from studycli.check import pool; print(pool.cores())"],
            preexec_fn=lambda: tasks.write_text(str(os.getpid())),
            capture_output=True,
            text=True,
            check=True,
        )
    assert moved.stdout.strip() == "1", moved


def test_a_cgroup_namespace_over_the_hosts_mount_is_found_by_the_process_it_lists(tmp_path):
    """In a cgroup namespace made over the host's mount (`unshare --cgroup`; a container given
    the host's /sys/fs/cgroup), /proc/self/cgroup says "/" (or "/..": moved above the
    namespace's root) and the mount's root is "/.." as many times as that root is deep on the
    host (the box, its namespace made in /studycli-h3/job/step: "1:cpu:/", the mount's root
    "/../../.."). The host's root alone was read, and the quota on the namespace's root
    missed. Its cgroup is the one that lists this process, that many levels down."""
    pid = f"{os.getpid()}\n"
    limit(tmp_path / "unified" / "ci" / "job", "cpu.max", "150000 100000\n")
    limit(tmp_path / "unified" / "ci" / "job", "cgroup.procs", pid)
    limit(tmp_path / "unified" / "ci" / "other", "cpu.max", "25000 100000\n")  # (not ours)
    limit(tmp_path / "unified" / "ci" / "other", "cgroup.procs", "1\n")
    assert read(tmp_path, "0::/\n", root="/../..") == 1.5
    # (moved above the namespace's root, to its sibling: the process is listed there now)
    (tmp_path / "unified" / "ci" / "job" / "cgroup.procs").write_text("")
    limit(tmp_path / "unified" / "ci" / "step", "cgroup.procs", pid)
    limit(tmp_path / "unified" / "ci", "cpu.max", "300000 100000\n")
    assert read(tmp_path, "0::/../step\n", root="/../..") == 3.0
    (tmp_path / "unified" / "ci" / "step" / "cgroup.procs").write_text("")
    assert read(tmp_path, "0::/\n", root="/../..") is None  # (listed nowhere: not found)


def test_a_cgroup_above_the_mounts_root_is_not_read_beside_the_mount(tmp_path):
    """A path above the mount's root ("/..": the process moved out of its namespace's root,
    the mount made in the namespace) is outside the mount, read as such (the mount's alone):
    "/../sib" was read as "/sib", a cgroup below the namespace's root, no cgroup of the
    process. (Nor is it joined to the mount point as it is: `sib` beside the mount.)"""
    limit(tmp_path / "unified", "cpu.max", "200000 100000\n")
    limit(tmp_path / "unified" / "sib", "cpu.max", "5000 100000\n")
    limit(tmp_path / "sib", "cpu.max", "10000 100000\n")
    assert read(tmp_path, "0::/../sib\n") == 2.0


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0, reason="root")
def test_the_quota_is_read_in_a_cgroup_namespace_made_over_the_hosts_mount():
    """A process moved into a cgroup with half a CPU's quota, which then makes a cgroup
    namespace of its own (`unshare --cgroup`), its cgroup its namespace's root: the host's
    mount stays, its root "/.." from there. The quota was not read (None)."""
    import ctypes

    def moved_and_unshared(tasks: Path) -> None:
        tasks.write_text(str(os.getpid()))
        if ctypes.CDLL(None, use_errno=True).unshare(0x02000000) != 0:  # CLONE_NEWCGROUP
            raise OSError(ctypes.get_errno(), "unshare")

    with quota_group(0.5) as tasks:
        read = subprocess.run(
            [
                sys.executable,
                "-c",
                "from studycli.check import cpu_quota; print(cpu_quota.quota())",
            ],
            preexec_fn=lambda: moved_and_unshared(tasks),
            capture_output=True,
            text=True,
            check=True,
        )
    assert read.stdout.strip() == "0.5", read
