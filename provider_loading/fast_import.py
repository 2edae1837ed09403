"""The fast load of the AWS provider: an explicit step, taken once before anything imports `modules.aws`.

`import cdktf_cdktf_provider_aws` imports all ~2,135 resource modules (15 s,
~600 MB; upstream hashicorp/terraform-cdk#3753). `enable_fast_provider_import()`
registers a light stand-in for the package whose `__path__` is the real package
directory, makes the provider's index in the jsii kernel (node) lazy
(provider_loading/lazy_index.py) and loads the provider's jsii assembly; `modules.aws`
then imports only the resource modules the constructs use. The classes are the
same classes, so the synthesized JSON is byte-identical (tests/provider_loading/test_fast_import.py).

Callers: main.py (before it imports stacks.app) and tests/conftest.py (at session
start). Without the call, `modules.aws` imports the real package: slow, same output.

The stand-in depends on the package's layout (`_jsii`, one module per resource) and
the lazy index on the layout of its JavaScript index, so it is used only with the
provider version it was checked against (`WRITTEN_FOR`, the Pipfile pin). Any other
installed version gets the plain import and a `ProviderVersionWarning` naming both.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
import types
import warnings

from provider_loading import lazy_index

PACKAGE = "cdktf_cdktf_provider_aws"
DISTRIBUTION = "cdktf-cdktf-provider-aws"
# The provider version the stand-in and the lazy index were checked against (Pipfile: cdktf-cdktf-provider-aws
# == this). After an upgrade, run tests/provider_loading/test_fast_import.py against the new version, then change this.
WRITTEN_FOR = "20.1.0"
EAGER_INDEX_VAR = "AURORA_MIGRATION_EAGER_PROVIDER_INDEX"  # =1: stand-in only, the node index stays eager (experiments)
_MARKER = "__aurora_fast_import__"


class ProviderVersionWarning(RuntimeWarning):
    """The installed provider is not the version the fast load was written for: the plain import is used."""


def fast_import_active() -> bool:
    """Whether `cdktf_cdktf_provider_aws` in this process is the light stand-in."""
    return bool(getattr(sys.modules.get(PACKAGE), _MARKER, False))


def enable_fast_provider_import() -> bool:
    """Register the light provider package; True if it is in place, False if the plain import will be (or was) used.

    Idempotent. Does nothing if the real package was already imported. Call it before anything imports
    `modules.aws` (or `cdktf_cdktf_provider_aws`); afterwards it can only report.
    """
    if PACKAGE in sys.modules:
        return fast_import_active()
    try:
        installed = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ImportError(f"{DISTRIBUTION} is not installed: run `pipenv sync --dev`") from None
    if installed != WRITTEN_FOR:
        warnings.warn(
            f"{DISTRIBUTION} {installed} is installed, but the fast provider import (provider_loading/fast_import.py) "
            f"was written for {WRITTEN_FOR}: using the plain import (same output, ~15 s and ~600 MB more). "
            f"Run tests/provider_loading/test_fast_import.py against {installed}, then update WRITTEN_FOR.",
            ProviderVersionWarning,
            stacklevel=2,
        )
        return False
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{PACKAGE} is not importable: run `pipenv sync --dev`")

    stand_in = types.ModuleType(PACKAGE)
    stand_in.__path__ = list(spec.submodule_search_locations)
    stand_in.__spec__ = spec
    setattr(stand_in, _MARKER, True)
    sys.modules[PACKAGE] = stand_in
    try:
        if os.environ.get(EAGER_INDEX_VAR) != "1":
            lazy_index.install()  # node side: 2.8 s and ~430 MB less (bench/synth.py); before the provider's assembly
        importlib.import_module(f"{PACKAGE}._jsii")
    except BaseException:  # leave no half-registered package behind: a later import is then the plain one
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]
        raise
    return True
