#!/usr/bin/env bash
# Does the test suite pass on the Pythons after CI's? CI runs the oldest that pyproject.toml
# allows (3.11); learners install on whatever their system has. This makes a Debian root
# filesystem per release with its own Python (debootstrap, from Debian's mirror: trixie has
# 3.13, sid 3.14), installs the project there from PyPI, and runs the suite in a chroot.
#
#   sudo bash scripts/newer_pythons.sh               # trixie (3.13) and sid (3.14)
#   sudo bash scripts/newer_pythons.sh sid -k store  # one release; the rest goes to pytest
#
# Needs root (debootstrap, chroot, mounts), Debian's mirror and PyPI. Each root lies in
# /tmp/studycli-<release> (about 6 GB once torch and its CUDA libraries are in: PyPI's torch
# for these Pythons is a CUDA build, which runs on the CPU); a second run reuses it and copies
# in this checkout's tracked files again. The suite's log: /tmp/studycli-<release>.log. The
# machine's /proc, /sys and /dev are bound into the root while the suite runs, and unbound
# when the script ends: `rm -rf` a root only when `findmnt | grep studycli-` shows nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A PYTHON=([trixie]=python3.13 [sid]=python3.14)
releases=(trixie sid)
if [ $# -gt 0 ] && [ -n "${PYTHON[$1]:-}" ]; then
  releases=("$1")
  shift
fi
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap
mounted=()
unmount() {  # (a root left with this machine's /dev bound in it: rm -rf of it would empty /dev)
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" || true; done
}
trap unmount EXIT
status=0
for release in "${releases[@]}"; do
  root=/tmp/studycli-$release
  python=${PYTHON[$release]}
  if [ ! -x "$root/usr/bin/$python" ]; then
    debootstrap --variant=minbase --include="$python,$python-venv,ca-certificates,git,procps" \
      "$release" "$root" http://deb.debian.org/debian
  fi
  for mount in proc sys dev dev/pts; do
    if ! mountpoint -q "$root/$mount"; then
      mount --bind "/$mount" "$root/$mount"
      mounted+=("$root/$mount")
    fi
  done
  cp /etc/resolv.conf "$root/etc/"
  # this machine's certificates: a proxy between it and PyPI may sign with its own
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  mkdir -p "$root/root/studycli"
  git ls-files -z | xargs -0 tar cf - | tar xf - -C "$root/root/studycli"
  inside=(chroot "$root" env -i HOME=/root PATH=/root/venv/bin:/usr/bin:/bin TERM=xterm
    LANG=C.UTF-8)
  if [ ! -x "$root/root/venv/bin/python" ]; then
    "${inside[@]}" bash -c "$python -m venv /root/venv && cd /root/studycli &&
      pip install -q --progress-bar off -e '.[dev]'"
  fi
  echo "+ $release: $("${inside[@]}" python --version), the suite (log: $root.log)"
  if "${inside[@]}" bash -c 'cd /root/studycli && python -m pytest -q -p no:cacheprovider "$@"' \
    pytest "$@" > "$root.log" 2>&1; then
    tail -n 1 "$root.log"
  else
    status=1
    grep -E '^(FAILED|ERROR) ' "$root.log" || true
    tail -n 1 "$root.log"
  fi
done
exit $status
