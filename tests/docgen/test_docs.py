"""The docs match the code: the generated references, the commands and versions the README promises, the links."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from docgen.reference import DEFAULT_TARGET, with_reference
from tests.conftest import REPO_ROOT

README_PATH = REPO_ROOT / "README.md"
README = README_PATH.read_text()
REFERENCE_PATH = REPO_ROOT / "docs" / "reference.md"
REFERENCE = REFERENCE_PATH.read_text()
DOCS = sorted((REPO_ROOT / "docs").glob("*.md"))
README_MAX_BYTES = 16_000


def test_the_reference_tables_match_the_model_and_the_alarm_specs() -> None:
    assert DEFAULT_TARGET == REFERENCE_PATH
    assert with_reference(REFERENCE) == REFERENCE, "run: pipenv run python -m docgen.reference --write"


def test_the_readme_holds_no_generated_table() -> None:
    assert "reference:start -->" not in README, "the generated tables live in docs/reference.md"


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

    reference = REFERENCE.split("<!-- config-reference:start -->", 1)[1].split("<!-- config-reference:end -->", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", reference, flags=re.MULTILINE))
    assert field_paths(EnvironmentConfig) == documented


def test_the_readme_is_a_short_page() -> None:
    size = len(README_PATH.read_bytes())
    assert size <= README_MAX_BYTES, f"README.md is {size:,} bytes; move detail to docs/ (at most {README_MAX_BYTES:,})"


@pytest.mark.parametrize("path", [README_PATH, *DOCS], ids=lambda path: path.name)
def test_make_targets_named_in_the_docs_exist(path: Path) -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.MULTILINE))
    named = set(re.findall(r"`make ([a-z-]+)", path.read_text()))
    assert named <= targets, f"{path.name} names make targets the Makefile lacks: {sorted(named - targets)}"


def test_the_readme_shows_the_two_commands() -> None:
    block = README.split("## The two commands", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in block.splitlines() if line.startswith("make ")] == [
        ["make", "synth"],
        ["make", "test"],
    ]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO_ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == "make test"
    assert "make test" in README


def test_the_readme_states_how_long_make_test_takes() -> None:
    assert re.search(r"`make test` takes about \d+ minutes on \d+ cores", README)


def required_terraform_version() -> str:
    """`REQUIRED_TERRAFORM_VERSION` of stacks/migration_stack.py as `major.minor`, read without importing the stack."""
    tree = ast.parse((REPO_ROOT / "stacks" / "migration_stack.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "REQUIRED_TERRAFORM_VERSION" for target in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, str)
            found = re.fullmatch(r">=\s*(\d+\.\d+)(?:\.0)?", value)
            assert found, f"REQUIRED_TERRAFORM_VERSION {value!r} is not `>= X.Y[.0]`: update this test and the docs"
            return found[1]
    raise AssertionError("stacks/migration_stack.py defines no REQUIRED_TERRAFORM_VERSION")


@pytest.mark.parametrize("path", [README_PATH, REPO_ROOT / "docs" / "testing.md"], ids=lambda path: path.name)
def test_the_stated_terraform_version_is_the_stacks_required_version(path: Path) -> None:
    stated = re.findall(r"\bTerraform\*{0,2} >= (\d+\.\d+)", path.read_text())
    assert stated, f"{path.name} states no Terraform version"
    assert set(stated) == {required_terraform_version()}, stated


def heading_anchors(markdown: str) -> set[str]:
    """GitHub's anchors for the headings of `markdown`: lower case, punctuation dropped, spaces to `-`, `-1` on repeats."""
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", _outside_code(markdown), flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        candidate, repeat = slug, 0
        while candidate in anchors:
            repeat += 1
            candidate = f"{slug}-{repeat}"
        anchors.add(candidate)
    return anchors


def _outside_code(markdown: str) -> str:
    """`markdown` without its fenced code blocks (a `# comment` in a shell block is no heading)."""
    return re.sub(r"^```.*?^```", "", markdown, flags=re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("path", [README_PATH, *DOCS, REPO_ROOT / "tests" / "README.md"], ids=lambda path: path.name)
def test_relative_links_resolve(path: Path) -> None:
    """Every relative link reaches a file, and its `#anchor` a heading there: nothing dangles after text moves."""
    text = path.read_text()
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", _outside_code(text)):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked.read_text()):
            broken.append(f"{target}: no heading #{anchor}")
    assert not broken, f"{path.name}: " + "; ".join(broken)


def test_the_generator_does_not_load_the_provider() -> None:
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

    stale = tmp_path / "reference.md"
    stale.write_text(REFERENCE.replace("| `environment_suffix` |", "| `stale` |", 1))
    assert main(["--write", str(stale)]) == 0
    assert stale.read_text() == REFERENCE

    unmarked = tmp_path / "README.md"
    unmarked.write_text("# no tables here\n")
    assert main(["--write", str(unmarked)]) == 2
    assert unmarked.read_text() == "# no tables here\n"
    assert main(["--write", str(tmp_path / "missing.md")]) == 2
    assert main(["--writ"]) == 2
    assert main(["--write", "a.md", "b.md"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 4, errors
    assert "README.md" in errors[0] and "no generated-table markers" in errors[0]
    assert "missing.md" in errors[1]
    assert errors[2].startswith("usage:") and errors[3].startswith("usage:")
