"""Plan risk report: what a Terraform plan creates, updates, replaces and destroys, and which of it is dangerous.

    python -m review.plan_risk PLAN [PLAN ...] [--stack-dir DIR] [--acknowledgements FILE]
                               [--acknowledge ADDRESS@STACK:KIND ...] [--json] [--output FILE] [--terraform PATH]

PLAN is the output of `terraform show -json <saved plan>` (a JSON file), or a saved binary plan
(`terraform plan -out=...`), for which this tool runs `terraform show -json` in the stack's working
directory (`--stack-dir`, default the plan's own folder, which must be initialized). The stack a plan is for
is read from the plan itself (its AWS provider's default tags, or a saved plan's cdktf metadata), never from
its file name; `NAME=PLAN`, or a plan inside a stack folder, says which stack it must be, and a plan that says
otherwise is refused.

The gate fails closed. Dangerous: a replacement or destruction of any type not on the reviewed stateless list
(the stateful types with their cost, any other as "cannot tell"); a `moved` block to another type; an in-place
update that takes a protection away or deletes backups or logs (`TRANSITIONS`); an in-place update of the DMS
task or an endpoint (it stops a running task, and the report names the command that resumes it). A dangerous
change passes only when acknowledged, by address, stack and kind of change: an entry in
`review/exceptions/acknowledged-risks.toml` checked in with the pull request, or `--acknowledge` on the command
line. An acknowledgement that matches nothing fails the report. What changed outside Terraform
(`resource_drift`) has its own section; drift on a stateful resource is called out.

Exit codes: 0 no unacknowledged dangerous change and no stale acknowledgement; 1 at least one; 2 a plan cannot
be read, is not the documented structure (format 1.x), or names no stack, the acknowledgements cannot be read,
or the report cannot be written. Markdown (for a pull-request comment, marked `<!-- plan-risk -->` so a workflow
can update one comment) or `--json`.

One module per step, in the order a plan passes through them:

- `schema`: the documented structure of the plan JSON, checked first;
- `identity`: which stack the plan is for;
- `reading`: plan files and saved plans (`terraform show -json`), and the stale-plan check;
- `values`: values as a reviewer may see them, sensitive parts hidden;
- `classify`: each resource change as created, updated, replaced, destroyed, forgotten, moved or imported;
- `stateful`, `stateless`: what losing each type costs, and the reviewed list of types whose loss costs nothing;
- `transitions`: risky in-place updates and the updates that stop DMS, and the kinds of change (`KINDS`);
- `acknowledgements`: the accepted dangerous changes (the file's entries are modelled in review/exception_files.py);
- `assess`: which changes are dangerous, which acknowledgement covers each, stale acknowledgements, the exit code;
- `render`, `render_json`: Markdown and JSON;
- `__main__`: the command line.
"""
