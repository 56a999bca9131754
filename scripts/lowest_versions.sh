#!/usr/bin/env bash
# Are the lower bounds in pyproject.toml true? Install the LOWEST versions that pyproject.toml
# allows for every direct dependency (uv's lowest-direct resolution) into a fresh virtual
# environment and run the test suite there. Raise any bound that fails.
#
#   bash scripts/lowest_versions.sh            # venv in .venv-lowest (git-ignored)
#
# torch's lowest allowed release on PyPI is a CUDA build (several GB with its nvidia-* wheels);
# it runs on the CPU all the same.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${LOWEST_VENV:-.venv-lowest}
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q uv
# No constraints file here: the point is the declared ranges alone.
PIP_CONSTRAINT= UV_CONSTRAINT= "$venv/bin/uv" pip install --python "$venv/bin/python" \
  --resolution lowest-direct -e ".[dev]"
echo "--- installed (direct dependencies) ---"
"$venv/bin/python" - <<'PY'
import tomllib, re
from importlib.metadata import version
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
for dep in deps:
    name = re.split(r"[<>=!~;\[ ]", dep, maxsplit=1)[0]
    print(f"{name:16} {version(name):10} (declared {dep})")
PY
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
