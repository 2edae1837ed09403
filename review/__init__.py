"""Review tooling over the synthesized stacks: snapshots, the plan report, checkov and terraform gates.

Nothing here calls AWS: every tool reads `cdktf.out/` (or a copy) and the
committed snapshots under `tests/review/snapshots/`.
"""
