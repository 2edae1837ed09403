"""The layer rule: no package imports a package above it (docs/layers.md draws the picture).

Layers, lowest first:

    contract, plumbing                      facts and plumbing every layer shares; import nothing of the project
    config, modules, provider_loading       the typed config; the constructs; the provider fast load
    stacks                                  the one place config becomes construct props
    migration_ops, review, docgen           operations commands; gates; the generated reference tables
    release, main.py, bench                 archives for platform teams; the app; benchmarks

A package may import the packages its row of ALLOWED_IMPORTS names, never one above it or a sibling it does not name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
GROUND = frozenset({"contract", "plumbing"})
# What each package may import from the project (besides itself).
ALLOWED_IMPORTS: dict[str, frozenset[str]] = {
    "contract": frozenset(),
    "plumbing": frozenset(),
    "config": GROUND,
    "modules": GROUND,
    "provider_loading": GROUND,
    "stacks": GROUND | {"config", "modules"},
    "migration_ops": GROUND | {"config"},
    "review": GROUND | {"config"},
    "docgen": GROUND | {"config", "modules", "stacks"},
    "release": GROUND | {"config", "review"},
    "main": GROUND | {"config", "modules", "provider_loading", "stacks"},
    "bench": GROUND | {"config", "modules", "provider_loading", "stacks", "review"},
}


def project_imports(path: Path) -> set[str]:
    """Top-level project packages `path` imports (including imports inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(ALLOWED_IMPORTS)


def layer_files() -> dict[str, list[Path]]:
    files = {package: sorted((REPO_ROOT / package).rglob("*.py")) for package in ALLOWED_IMPORTS if package != "main"}
    files["main"] = [REPO_ROOT / "main.py"]
    return files


def test_every_top_level_package_has_a_layer() -> None:
    packages = {path.parent.name for path in REPO_ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages <= set(ALLOWED_IMPORTS), f"packages without a layer: {sorted(packages - set(ALLOWED_IMPORTS))}"


@pytest.mark.parametrize("package", sorted(ALLOWED_IMPORTS))
def test_no_package_imports_a_higher_layer(package: str) -> None:
    files = layer_files()[package]
    assert files, f"no files found for {package}"
    wrong = {
        f"{path.relative_to(REPO_ROOT)} imports {sorted(imported - ALLOWED_IMPORTS[package] - {package})}"
        for path in files
        if (imported := project_imports(path)) - ALLOWED_IMPORTS[package] - {package}
    }
    assert not wrong, "\n".join(sorted(wrong))


def test_the_layer_rule_catches_a_higher_import(tmp_path: Path) -> None:
    """The walk sees imports inside functions too, so a lazy import cannot slip past the rule."""
    probe = tmp_path / "probe.py"
    probe.write_text("def later() -> None:\n    from stacks.app import build_app\n", encoding="utf-8")
    assert project_imports(probe) - ALLOWED_IMPORTS["modules"] == {"stacks"}


def test_the_layer_rule_itself_has_no_cycle() -> None:
    """A cycle in ALLOWED_IMPORTS would let two packages import each other; walk it depth-first."""
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(package: str, trail: tuple[str, ...]) -> None:
        assert package not in visiting, f"cycle: {' -> '.join((*trail, package))}"
        if package in done:
            return
        visiting.add(package)
        for lower in ALLOWED_IMPORTS[package]:
            visit(lower, (*trail, package))
        visiting.discard(package)
        done.add(package)

    for package in ALLOWED_IMPORTS:
        visit(package, ())
