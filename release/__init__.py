"""Archives for platform teams: one reproducible archive per stack (`make package`, `python -m release [--dist DIR]`).

Synthesizes every environment afresh (`main.py` into a temp dir through
CDKTF_OUTDIR, so a stale or emulator-bound `cdktf.out/` is never shipped) and
writes `<dist>/<stack>.tar.gz` (default `dist/`) holding one folder `<stack>/`:

- `cdk.tf.json`: the stack's Terraform JSON exactly as synthesized, S3
  backend block included (consumers override it with `-backend-config`);
- `.terraform.lock.hcl`: `terraform providers lock` against the local provider
  mirror, offline, so only the platforms the mirror holds get (h1) hashes;
- `manifest.json`: git revision and dirty flag, tool and provider versions,
  sha256 of every other file, the outputs and their meaning (contract/outputs.py);
- `README.md`: how to `terraform init` with one's own backend, the outputs, and
  what must exist before apply (the runbook's table), from `consumer_readme.md`.

Built twice from the same tree, the archives are byte-identical: entries
sorted, every mtime the commit time (or SOURCE_DATE_EPOCH), uid/gid 0, no
user names, fixed modes, gzip without file name and with mtime 0. `dist/` is
replaced as a whole, with a SHA256SUMS of the archives, and only when it holds
nothing but a previous build: a directory with other files, a git work tree, the
repository or a folder above it is refused (exit 2, nothing deleted). Needs
terraform and the provider mirror (review/terraform_validate.py finds them).
Exit codes: 0 written, 1 packaging failed, 2 no terraform or mirror, or a
`--dist` the builder may not replace.

Modules: `source` (the revision and a fresh synth), `lock` (the provider lock file), `contents` (manifest and
README of one stack), `dist` (which `--dist` may be replaced), `archive` (the tarballs and dist/), `__main__` (the
command line).
"""
