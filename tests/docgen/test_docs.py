"""The docs match the code: the configuration reference and the commands the README promises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from docgen.reference import with_reference
from tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()


def test_readme_configuration_reference_matches_the_model() -> None:
    assert with_reference(README) == README, "run: pipenv run python -m docgen.reference --write README.md"


def field_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every leaf key of the config model, tables included (`aurora.auto_scaling.enabled`)."""
    paths: set[str] = set()
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths |= field_paths(annotation, f"{prefix}{name}.")
        else:
            paths.add(f"{prefix}{name}")
    return paths


def test_every_model_field_appears_in_the_reference() -> None:
    from config.model import EnvironmentConfig

    reference = README.split("<!-- config-reference:start -->", 1)[1].split("<!-- config-reference:end -->", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", reference, flags=re.MULTILINE))
    assert field_paths(EnvironmentConfig) == documented


def test_make_targets_named_in_the_readme_exist() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.MULTILINE))
    named = set(re.findall(r"`make ([a-z-]+)", README))
    assert {"synth", "test"} <= named
    assert named <= targets


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO_ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == "make test"
    assert "make test" in README


def test_the_reference_generator_does_not_load_the_provider() -> None:
    """`python -m docgen.reference` renders the alarm table from plain specs: no 15 s provider import."""
    import subprocess
    import sys

    probe = "import sys, docgen.reference as r; r.alarm_table(); print('cdktf_cdktf_provider_aws' in sys.modules)"
    completed = subprocess.run(
        [sys.executable, "-c", probe], check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "False"


def test_the_generator_refreshes_a_file_and_refuses_bad_input_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from docgen.reference import main

    stale = tmp_path / "README.md"
    stale.write_text(README.replace("| `environment_suffix` |", "| `stale` |", 1))
    assert main(["--write", str(stale)]) == 0
    assert stale.read_text() == README

    assert main(["--write", str(tmp_path / "missing.md")]) == 2
    assert main(["--writ"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2 and "missing.md" in errors[0] and errors[1].startswith("usage:"), errors
