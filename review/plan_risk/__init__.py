"""Plan risk report: what a Terraform plan creates, updates, replaces and destroys, and which of it loses state.

    python -m review.plan_risk PLAN [PLAN ...] [--stack-dir DIR] [--acknowledgements FILE]
                               [--acknowledge ADDRESS ...] [--json] [--output FILE] [--terraform PATH]

PLAN is the output of `terraform show -json <saved plan>` (a JSON file), or a saved binary plan
(`terraform plan -out=...`), for which this tool runs `terraform show -json` in the stack's working
directory (`--stack-dir`, default the plan's own folder, which must be initialized). `NAME=PLAN` names
the stack; otherwise a plan inside a stack folder (one holding `cdk.tf.json`, e.g.
`cdktf.out/stacks/aurora-migration-dev/dev.tfplan`) is named after that folder, any other after its file.

Every replacement or destruction of a resource in `STATEFUL` (the Aurora cluster and instances, KMS keys
and aliases, the secrets, the DMS replication instance, endpoints and task, the log groups, the alarm topic,
the account-wide DMS service roles) is a dangerous change, listed with the attribute that forces the
replacement and what it costs. A dangerous change passes only when it is acknowledged: an entry in
`review/exceptions/acknowledged-risks.toml` (address, stacks, reason), checked in with the pull request, or
`--acknowledge ADDRESS` on the command line.

Exit codes: 0 no unacknowledged dangerous change, 1 at least one, 2 a plan or the acknowledgement file
cannot be read. Markdown (for a pull-request comment, marked `<!-- plan-risk -->` so a workflow can
update one comment) or `--json`.

One module per step, in the order a plan passes through them:

- `stateful`: the table of stateful resource types (`STATEFUL`) and what losing each costs;
- `reading`: plan files and saved plans (`terraform show -json`), and the stale-plan check;
- `classify`: each resource change as created, updated, replaced, destroyed, forgotten or other, with what forces a
  replacement;
- `acknowledgements`: the accepted dangerous changes (the file's entries are modelled in review/exception_files.py);
- `assess`: which changes lose state, which acknowledgement covers each, and the exit code;
- `render`: Markdown and JSON;
- `__main__`: the command line.
"""
