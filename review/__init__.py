"""Review tooling over the synthesized stacks: the plan report and plan risk report, checkov and terraform gates.

Nothing here calls AWS: every tool reads `cdktf.out/` (or a copy), the Terraform plans it is given, and the
reviewed exceptions in `exceptions/` (loaded by exception_files.py). The committed snapshots are the tests'
(tests/review/snapshots/): `make review` passes them to `python -m review.plan_report --snapshots`.
"""
