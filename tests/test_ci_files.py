"""The CI workflow, the pull-request template and the pre-commit configuration: valid, and
running the commands that .ci/run and the README quick start run."""

from __future__ import annotations

import re

import yaml

from .conftest import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"


def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def runs(job: dict) -> list[str]:
    return [line.strip() for step in job["steps"] for line in step.get("run", "").splitlines()]


def pip_installs(text: str) -> set[str]:
    """The arguments of every `pip install` in a text (however pip is reached)."""
    return {args.strip() for args in re.findall(r"pip\"? install ([^&\n;|]+)", text)}


def test_the_workflow_is_well_formed():
    data = workflow()
    assert data["on"] == {"pull_request": None, "push": {"branches": ["main"]}}
    assert set(data["jobs"]) == {"pull-request", "main", "newer-pythons"}
    for job in data["jobs"].values():
        assert job["runs-on"] and job["steps"]
        assert all(("uses" in step) != ("run" in step) for step in job["steps"])
        assert {"actions/checkout@v4", "actions/setup-python@v5"} <= {
            step.get("uses") for step in job["steps"]
        }


def test_pushes_to_main_run_everything_through_ci_run():
    job = workflow()["jobs"]["main"]
    assert job["if"] == "github.event_name == 'push'"
    assert runs(job) == ["bash .ci/run"]
    assert (REPO_ROOT / ".ci" / "run").is_file()


def test_pull_requests_lint_check_the_changed_cards_and_test():
    job = workflow()["jobs"]["pull-request"]
    assert job["if"] == "github.event_name == 'pull_request'"
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    commands = [line for line in runs(job) if not line.startswith("pip install")]
    assert commands == [
        "bash .ci/quality",
        "studycli lint",
        "studycli check --changed origin/main",
        "pytest",
    ]


def test_pull_requests_and_main_run_the_same_code_gates():
    """A pull request ran lint, its cards and the tests, and main ruff's format check and
    deptry over solutions/ too: a green pull request could break main."""
    gates = (REPO_ROOT / ".ci" / "quality").read_text(encoding="utf-8")
    for gate in ("deptry .", "ruff check .", "ruff format --check .", "mypy", "lint-imports"):
        assert re.search(rf"^{re.escape(gate)}$", gates, re.MULTILINE), gate
    ci_run = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^bash \.ci/quality\b", ci_run, re.MULTILINE)
    assert "\nruff " not in ci_run and "\ndeptry" not in ci_run  # one list of gates


def test_pull_requests_install_with_the_lines_ci_run_uses():
    """.ci/run installs with the README quick start's lines (or its own): the pull-request job
    uses the same ones, so a pull request is tested on what main is tested on."""
    job = workflow()["jobs"]["pull-request"]
    installs = pip_installs("\n".join(runs(job)))
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("<!-- quickstart -->")[1].split("<!-- /quickstart -->")[0]
    ci_run = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert installs == {"-c constraints.txt -e .", '-c constraints.txt -e ".[dev]"'}
    assert installs <= pip_installs(quick_start) | pip_installs(ci_run)


def test_the_quick_start_says_how_to_install_without_the_cuda_build():
    """A newcomer on a CPU-only Linux machine was told to drop `-c constraints.txt`, and pip
    then fetched torch's multi-GB CUDA build: the quick start names the CPU build's index."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start")[1].split("\n## ")[0]
    assert re.search(
        r"^pip install torch --index-url https://download\.pytorch\.org/whl/cpu$",
        quick_start,
        re.MULTILINE,
    ), quick_start


def test_the_tests_run_on_every_python_after_the_oldest_allowed():
    """CI ran on 3.11 alone, the oldest that pyproject.toml allows: on 3.13 six tests failed
    and on 3.14 a Record made in a module without the future import had no fields. Each
    newer Python, to the newest released, runs the tests as a pull request does, installed
    with the same lines, whatever the event."""
    import tomllib

    jobs = workflow()["jobs"]
    job = jobs["newer-pythons"]
    assert "if" not in job and job["strategy"]["fail-fast"] is False
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    oldest = re.fullmatch(r">=3\.(\d+)", declared["project"]["requires-python"])
    assert oldest is not None
    for other in ("pull-request", "main"):
        [setup] = [s for s in jobs[other]["steps"] if "setup-python" in s.get("uses", "")]
        assert setup["with"]["python-version"] == f"3.{oldest.group(1)}"
    newer = [f"3.{minor}" for minor in range(int(oldest.group(1)) + 1, 15)]
    assert job["strategy"]["matrix"]["python-version"] == newer
    assert runs(job)[-1] == "pytest"
    said = {c.rsplit(" :: ", 1)[1] for c in declared["project"]["classifiers"] if "3." in c}
    assert said == {f"3.{oldest.group(1)}", *newer}  # pyproject.toml names the Pythons run
    assert pip_installs("\n".join(runs(job))) == pip_installs("\n".join(runs(jobs["pull-request"])))


def test_the_commands_the_workflow_runs_exist(cli):
    assert cli("lint", "--help").exit_code == 0
    check = cli("check", "--help")
    assert check.exit_code == 0 and "--changed" in check.stdout


def test_the_pull_request_template_has_the_review_checklist():
    text = (REPO_ROOT / ".github" / "pull_request_template.md").read_text(encoding="utf-8")
    items = [line for line in text.splitlines() if line.startswith("- [ ]")]
    assert len(items) == 8
    for needle in (
        "`studycli lint`",
        "`bash .ci/quality`",
        "`studycli check --changed`",
        "tests/test_content_shipped.py",
        "`python scripts/anki_notes.py`",
        "@fails_with",
        "states the contract",
        "`explanation`",
        "checked against a source",
        "your own words",
    ):
        assert needle in text, needle


def test_pre_commit_runs_ruff_and_studycli_lint():
    config = yaml.safe_load((REPO_ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    repos = {repo["repo"]: repo for repo in config["repos"]}
    ruff = repos["https://github.com/astral-sh/ruff-pre-commit"]
    assert re.fullmatch(r"v\d+\.\d+\.\d+", ruff["rev"])
    assert [hook["id"] for hook in ruff["hooks"]] == ["ruff", "ruff-format"]
    [hook] = repos["local"]["hooks"]
    assert hook["entry"] == "studycli lint" and hook["language"] == "system"
    assert hook["pass_filenames"] is False
    assert re.search(hook["files"], "cards/math/x.yaml") and re.search(
        hook["files"], "solutions/online_softmax.py"
    )
