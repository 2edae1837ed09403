"""The names of the write-path checks (`write_paths`) and how each reports: PASS evidence, FAIL summary, the fix."""

from __future__ import annotations

from collections.abc import Sequence

from migration_ops.results import CheckResult, failed, passed, warned

WRITE_PRIVILEGES = "freeze.write-privileges"
COLUMN_PRIVILEGES = "freeze.column-privileges"
CREATEROLE = "freeze.createrole"
DEFINER_FUNCTIONS = "freeze.definer-functions"
TRIGGERS = "freeze.triggers"
RULES = "freeze.rules"
VIEWS = "freeze.views"
PARENT_TABLES = "freeze.parent-tables"
FOREIGN_KEYS = "freeze.foreign-keys"
SUBSCRIPTIONS = "freeze.subscriptions"
SESSIONS = "freeze.sessions"
BACKENDS = "freeze.backends"
PREPARED = "freeze.prepared-transactions"
SUPERUSERS = "freeze.superusers"
CHECK_NAMES = (
    WRITE_PRIVILEGES, COLUMN_PRIVILEGES, CREATEROLE, DEFINER_FUNCTIONS, TRIGGERS, RULES, VIEWS, PARENT_TABLES,
    FOREIGN_KEYS, SUBSCRIPTIONS, SESSIONS, BACKENDS, PREPARED, SUPERUSERS,
)  # fmt: skip

_WRITES = "INSERT, UPDATE, DELETE"
_FIXES = {
    WRITE_PRIVILEGES: "ALTER ROLE <role> NOLOGIN and REVOKE its writes, or the membership that leads to the writer "
    "(`cutover freeze-sql --app-role <role>` prints the freeze and its rollback)",
    COLUMN_PRIVILEGES: "REVOKE INSERT (<column>), UPDATE (<column>) ON <table> FROM <role>, or `cutover freeze-sql`",
    CREATEROLE: "ALTER ROLE <role> NOCREATEROLE (or NOLOGIN) until sign-off",
    DEFINER_FUNCTIONS: "REVOKE EXECUTE ON FUNCTION <function> FROM PUBLIC, <role> (freeze-sql does it for the app roles)",
    TRIGGERS: f"REVOKE {_WRITES}, TRUNCATE on the trigger's relation from the roles that fire it; "
    "ALTER EVENT TRIGGER <name> DISABLE (freeze-sql does both for the app roles)",
    RULES: f"REVOKE {_WRITES} on the rule's table from those roles (freeze-sql does it for the app roles)",
    VIEWS: f"REVOKE {_WRITES} on the view from those roles (freeze-sql does it for the app roles)",
    PARENT_TABLES: f"REVOKE {_WRITES} on the parent from those roles (freeze-sql does it for the app roles)",
    FOREIGN_KEYS: "REVOKE UPDATE, DELETE on the referenced table from those roles (freeze-sql does it for the app roles)",
    SUBSCRIPTIONS: "ALTER SUBSCRIPTION <name> DISABLE (freeze-sql prints it)",
    SESSIONS: "freeze writes (ALTER ROLE ... NOLOGIN, REVOKE, then pg_terminate_backend the rest: `cutover freeze-sql`)",
    BACKENDS: "stop what runs them (ALTER SUBSCRIPTION ... DISABLE; pg_cron: UPDATE cron.job SET active = false) and check again",
    PREPARED: "COMMIT PREPARED '<gid>' (while DMS still replicates) or ROLLBACK PREPARED '<gid>'",
    SUPERUSERS: "ALTER ROLE <role> NOLOGIN and end its sessions (freeze-sql prints both; a CONNECTION LIMIT does not "
    "hold superusers back), or stop with --force and a reason",
}
UNREADABLE_FIX = "run the check as the master user or a superuser: it reads pg_catalog and pg_stat_activity"
_SHOWN = 10


def _summary(items: Sequence[str]) -> str:
    more = f"; and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return "; ".join(items[:_SHOWN]) + more


_PASSED = {
    WRITE_PRIVILEGES: "no login role other than {exempt} can write to the {tables} tables in scope",
    COLUMN_PRIVILEGES: "no login role other than {exempt} holds a column grant to write the {tables} tables in scope",
    CREATEROLE: "no login role other than {exempt} can reach a CREATEROLE role",
    DEFINER_FUNCTIONS: "no SECURITY DEFINER function that could write tables in scope is executable by a login role",
    TRIGGERS: "no trigger or event trigger outside the scope runs a SECURITY DEFINER function that could write them",
    RULES: "no rule outside the scope that writes tables in scope can be fired by a login role",
    VIEWS: "no view that writes tables in scope can be written by a login role",
    PARENT_TABLES: "no parent table outside the scope of a table in scope can be written by a login role",
    FOREIGN_KEYS: "no cascading foreign key from a table in scope starts at a table a login role can write",
    SUBSCRIPTIONS: "no enabled subscription in {database}{note}",
    SESSIONS: "no session on {database} other than {exempt_sessions} and this one",
    BACKENDS: "no background process on {database} that could write (only known harmless types)",
    PREPARED: "no prepared transaction in {database}",
    SUPERUSERS: "no superuser other than {me} can log in",
}
_FAILED = {
    WRITE_PRIVILEGES: "login roles can still write to tables in scope",
    COLUMN_PRIVILEGES: "login roles can still write columns of tables in scope",
    CREATEROLE: "login roles can grant themselves write rights (CREATEROLE lets them take any non-superuser role)",
    DEFINER_FUNCTIONS: "SECURITY DEFINER functions can write tables in scope for login roles",
    TRIGGERS: "triggers run SECURITY DEFINER functions that can write tables in scope",
    RULES: "rules on tables outside the scope write tables in scope",
    VIEWS: "views write tables in scope",
    PARENT_TABLES: "parent tables outside the scope pass writes to tables in scope",
    FOREIGN_KEYS: "cascading foreign keys write tables in scope",
    SUBSCRIPTIONS: "subscriptions write {database} without a session",
    SESSIONS: "other sessions on {database}",
    BACKENDS: "background processes on {database} may write",
    PREPARED: "prepared transactions in {database} can still commit",
    SUPERUSERS: "superusers other than {me} can log in and write anything",
}


def result(name: str, items: Sequence[str], *, values: dict[str, object], unreadable: str | None, force: bool) -> CheckResult:
    """The check `name` from what the probes found (`items`), or FAIL when they could not read it (`unreadable`).
    `values` fills the texts: exempt, tables, database, me, note, exempt_sessions."""
    if unreadable is not None:
        return failed(name, f"cannot tell: {unreadable}", fix=UNREADABLE_FIX)
    if not items:
        return passed(name, _PASSED[name].format(**values))
    evidence = f"{len(items)} {_FAILED[name].format(**values)}: {_summary(items)}"
    if name == SUPERUSERS and force:
        return warned(name, f"{evidence} (the stop was forced)", fix=_FIXES[name])
    return failed(name, evidence, fix=_FIXES[name])
