"""`make package`: one reproducible archive per environment that a platform team can use without this repository.

Two builds (the `make package` path, which synthesizes afresh with main.py, and
one from the session's in-process synth) must be byte-identical; the unpacked
dev archive, copied outside the repository, must `terraform init` (lock file
read-only, provider from the filesystem mirror, no backend) and validate offline.
Skipped, naming what is missing, without terraform or the provider mirror.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from config import EnvironmentConfig
from contract.layout import STACK_FILE
from contract.outputs import OUTPUT_DESCRIPTIONS, Output
from plumbing.exit_codes import ExitCode
from release import __main__ as release_cli
from release.archive import build_packages
from release.contents import MANIFEST_FILE, README_FILE, Build, consumer_readme, prerequisites, stack_outputs
from release.dist import CHECKSUMS_FILE
from release.lock import LOCK_FILE, Lock, mirror_platforms
from release.source import PackageError, Source, source_of
from review.terraform_validate import Toolchain, locate
from tests.conftest import REPO_ROOT

# Switches of main.py and the build that would make this run differ from a plain `make package`.
SWITCHES = (
    "ENVIRONMENT_SUFFIX",
    "ENVIRONMENT_BASE",
    "AURORA_MIGRATION_CONFIG_DIR",
    "AURORA_MIGRATION_TEST_EMULATOR_URL",
    "CDKTF_OUTDIR",
    "SOURCE_DATE_EPOCH",
)
CLEAN_ENV = {key: value for key, value in os.environ.items() if key not in SWITCHES}
AWS = "registry.terraform.io/hashicorp/aws"
AWS_VERSION = "5.100.0"


@pytest.fixture(scope="module")
def toolchain() -> Toolchain:
    found = locate()
    if isinstance(found, str):
        pytest.skip(f"packaging needs terraform and the AWS provider mirror (for the lock file): {found}")
    return found


@pytest.fixture(scope="module")
def builds(toolchain: Toolchain, synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first = tmp_path_factory.mktemp("package-a") / "dist"
    second = tmp_path_factory.mktemp("package-b") / "dist"
    build_packages(first, toolchain, environ=CLEAN_ENV)  # `make package`: a fresh `python main.py`
    build_packages(second, toolchain, synth_dir=synth_dir, environ=CLEAN_ENV)  # the session's App, synthesized in-process
    return first, second


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {info.name: (tar.extractfile(info).read() if info.isfile() else b"") for info in tar}  # type: ignore[union-attr]


@pytest.mark.terraform
def test_one_archive_per_environment_and_their_checksums(
    builds: tuple[Path, Path], environments: dict[str, EnvironmentConfig]
) -> None:
    dist, _ = builds
    expected = {f"{config.stack_name}.tar.gz" for config in environments.values()}
    assert {path.name for path in dist.iterdir()} == expected | {CHECKSUMS_FILE}
    sums = dict(line.split("  ")[::-1] for line in (dist / CHECKSUMS_FILE).read_text().splitlines())
    assert sums == {name: hashlib.sha256((dist / name).read_bytes()).hexdigest() for name in expected}


@pytest.mark.terraform
def test_two_builds_are_byte_identical(builds: tuple[Path, Path]) -> None:
    first, second = builds
    assert sorted(path.name for path in first.iterdir()) == sorted(path.name for path in second.iterdir())
    for path in sorted(first.iterdir()):
        if path.read_bytes() == (second / path.name).read_bytes():
            continue
        differing: list[str] = []
        if path.name.endswith(".tar.gz"):
            ours, theirs = members(path), members(second / path.name)
            differing = sorted(name for name in ours.keys() | theirs.keys() if ours.get(name) != theirs.get(name))
        pytest.fail(f"{path.name} differs between two builds; members that differ: {differing or 'none (tar/gzip framing)'}")


@pytest.mark.terraform
def test_archive_entries_carry_no_time_owner_or_name_of_the_build(builds: tuple[Path, Path]) -> None:
    dist, _ = builds
    timestamp = source_of(REPO_ROOT, CLEAN_ENV).timestamp
    for archive in sorted(dist.glob("*.tar.gz")):
        header = archive.read_bytes()[:10]
        assert header[3] == 0, f"{archive.name}: gzip header has flags (a file name?) {header[3]:#x}"
        assert header[4:8] == b"\0\0\0\0", f"{archive.name}: gzip header carries an mtime"
        with gzip.open(archive) as raw, tarfile.open(fileobj=raw) as tar:
            infos = tar.getmembers()
        folder = archive.name.removesuffix(".tar.gz")
        names = [info.name for info in infos]
        assert names == [
            folder,  # tarfile reads a directory's name without the "/" it was written with
            *sorted(f"{folder}/{name}" for name in (LOCK_FILE, MANIFEST_FILE, README_FILE, STACK_FILE)),
        ]
        for info in infos:
            assert (info.uid, info.gid, info.uname, info.gname) == (0, 0, "", ""), info.name
            assert info.mtime == timestamp, info.name
            assert info.mode == (0o755 if info.isdir() else 0o644), info.name


@pytest.mark.terraform
def test_manifest_hashes_every_other_file_and_states_versions_and_outputs(
    builds: tuple[Path, Path], toolchain: Toolchain
) -> None:
    dist, _ = builds
    revision = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    for archive in sorted(dist.glob("*.tar.gz")):
        folder = archive.name.removesuffix(".tar.gz")
        files = {name.removeprefix(f"{folder}/"): content for name, content in members(archive).items() if content}
        manifest = json.loads(files.pop(MANIFEST_FILE))
        assert manifest["stack"] == folder
        assert manifest["files"] == {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
        assert manifest["source"]["revision"] == revision.stdout.strip()
        assert isinstance(manifest["source"]["dirty"], bool)
        versions = manifest["versions"]
        assert versions["providers"] == {AWS: {"required": AWS_VERSION, "locked": AWS_VERSION}}
        assert versions["terraform_required_version"] == json.loads(files[STACK_FILE])["terraform"]["required_version"]
        assert versions["python_packages"]["cdktf-cdktf-provider-aws"] == "20.1.0"
        assert manifest["lock_file"]["platforms"] == sorted(mirror_platforms(toolchain.mirror, AWS, AWS_VERSION))
        assert manifest["outputs"] == {output.value: meaning for output, meaning in sorted(OUTPUT_DESCRIPTIONS.items())}
        readme = files[README_FILE].decode()
        assert "-backend-config" in readme and all(f"`{name}`" in readme for name in manifest["outputs"])


@pytest.mark.terraform
def test_a_consumer_inits_and_validates_the_unpacked_archive_offline(
    builds: tuple[Path, Path], toolchain: Toolchain, tmp_path: Path
) -> None:
    """Only the archive, terraform and a provider mirror: no file of this repository, no network."""
    dist, _ = builds
    archive = sorted(dist.glob("*-dev.tar.gz"))[0]
    assert not tmp_path.resolve().is_relative_to(REPO_ROOT)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(tmp_path, filter="data")
    workdir = tmp_path / archive.name.removesuffix(".tar.gz")
    lock_before = (workdir / LOCK_FILE).read_text()
    cli_config = tmp_path / "consumer.tfrc"
    cli_config.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{toolchain.mirror}"\n  }}\n}}\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith("TF_")}
    env.update(TF_CLI_CONFIG_FILE=str(cli_config), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1")

    def terraform(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(toolchain.terraform), *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False
        )

    init = terraform("init", "-backend=false", "-input=false", "-lockfile=readonly", "-no-color")
    assert init.returncode == 0, f"terraform init of the unpacked archive failed:\n{init.stderr or init.stdout}"
    validate = terraform("validate", "-json", "-no-color")
    report = json.loads(validate.stdout)
    assert report["valid"] and validate.returncode == 0, report["diagnostics"]
    assert (workdir / LOCK_FILE).read_text() == lock_before


def test_the_consumer_readme_takes_the_runbooks_prerequisites() -> None:
    section = prerequisites()
    assert section.startswith("| What |") and "state bucket" in section


def test_mirror_platforms_reads_unpacked_and_packed_layouts(tmp_path: Path) -> None:
    provider = tmp_path / AWS
    (provider / AWS_VERSION / "linux_amd64").mkdir(parents=True)
    (provider / f"terraform-provider-aws_{AWS_VERSION}_darwin_arm64.zip").write_bytes(b"")
    (provider / "terraform-provider-aws_5.99.0_windows_amd64.zip").write_bytes(b"")
    assert mirror_platforms(tmp_path, AWS, AWS_VERSION) == {"linux_amd64", "darwin_arm64"}


def test_the_consumer_readme_is_its_template_filled_in() -> None:
    """Every placeholder of release/consumer_readme.md is replaced; the values land where the template names them."""
    document = {"terraform": {"required_version": ">= 1.10", "backend": {"s3": {"bucket": "state", "key": "k"}}}}
    lock = Lock(text="", platforms=("linux_amd64",), providers={AWS: AWS_VERSION})
    build = Build(source=Source(revision="abc123", dirty=True, timestamp=0), terraform="1.11.4", prerequisites="| What |")
    readme = consumer_readme("aurora-migration-dev", document, lock=lock, outputs={"cluster_endpoint": "writer"}, build=build)
    assert "$" not in readme  # no placeholder left unfilled
    assert readme.startswith("# aurora-migration-dev\n\nTerraform configuration of the stack `aurora-migration-dev`")
    assert "from revision `abc123` with uncommitted changes (dirty)" in readme
    assert f"Terraform >= 1.10 and the provider `{AWS}` {AWS_VERSION} are all it needs." in readme
    assert '| `bucket` | `"state"` |\n| `key` | `"k"` |' in readme
    assert "| `cluster_endpoint` | writer |" in readme
    assert '`{"terraform": {"backend": {"http": {"address": "..."}}}}`' in readme
    assert readme.endswith("`cdktf deploy` is `terraform apply` here):\n\n| What |\n")


def test_python_m_release_without_terraform_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(release_cli, "locate", lambda: "no `terraform` on PATH")
    assert release_cli.main(["--dist", str(tmp_path / "dist")]) == ExitCode.ERROR
    assert (
        capsys.readouterr().err == "package needs terraform and the provider mirror for the lock file: no `terraform` on PATH\n"
    )


def test_make_package_runs_python_m_release() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "package: install\n\t$(RUN) python -m release\n" in makefile


def test_the_manifest_takes_a_stack_without_its_conditional_outputs_but_not_one_missing_another() -> None:
    """`dms_target_secret_arn` exists only with dms.target_user = "dedicated"; every other output always."""
    everything = {name: {"value": "x"} for name in (output.value for output in Output)}
    master_mode = {name: value for name, value in everything.items() if name != Output.DMS_TARGET_SECRET_ARN}
    assert set(stack_outputs({"output": everything})) == set(everything)
    assert set(stack_outputs({"output": master_mode})) == set(master_mode)
    without_task = {name: value for name, value in everything.items() if name != Output.DMS_TASK_ARN}
    with pytest.raises(PackageError, match=r"differ from contract/outputs\.py"):
        stack_outputs({"output": without_task})
