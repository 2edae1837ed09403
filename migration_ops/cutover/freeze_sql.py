"""The write-freeze SQL for the application roles, and its rollback as a separate script.

The freeze closes, for the app roles and for PUBLIC, every path `write_paths` looks for:

    BEGIN;  (a guard first: the script refuses to run on another database than the one it was read from)
    ALTER EVENT TRIGGER ... DISABLE                        event triggers with a SECURITY DEFINER function whose
                                                           owner can write what is in scope (first: a REVOKE fires them)
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ... CASCADE   table and column grants on the in-scope tables, on the
           relations whose writes reach them (views, rule tables, parents, referenced tables of cascading foreign
           keys) and on relations with a SECURITY DEFINER trigger; each as its grantor (SET ROLE when the grantor
           is not the owner: a REVOKE takes only the grantor's own grants, and a table REVOKE the column grants of
           the same grantor only)
    REVOKE EXECUTE ON ROUTINE ... CASCADE                  SECURITY DEFINER routines whose owner can write them
    ALTER SUBSCRIPTION ... DISABLE                         enabled subscriptions in this database
    ALTER ROLE <app> NOLOGIN                               (and, only when asked, other superusers)
    COMMIT;
    SELECT pg_terminate_backend(pid) ...                   after the commit, so no one reconnects in between

and lists in comments what it cannot decide for the operator: other superusers (unless `freeze_superusers`),
prepared transactions, app roles that own tables. The rollback restores exactly what it took (LOGIN, every grant
with its grantor and grant option, the subscriptions' and event triggers' state). `cutover stop --check` then
proves the freeze, whoever applied it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql

from migration_ops.cutover import freeze_sql_acl as acl
from migration_ops.cutover import write_paths_sql
from migration_ops.cutover.write_paths_feeders import feeders
from migration_ops.write_freeze import Table
from plumbing.text import listed

_ENABLE = {"O": "ENABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}


def comment(text: str) -> str:
    """`-- text` on one line whatever `text` holds: names and prepared-transaction ids come from the catalog, and a
    newline in one would end the comment and make the rest of it a statement the operator runs as a superuser."""
    return "-- " + "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in text)


class FreezeRefusedError(ValueError):
    """An app role the freeze must not or cannot freeze (unknown, a DMS user, a superuser, the role running it)."""


@dataclass(frozen=True, kw_only=True)
class FreezeScript:
    database: str
    read_at: datetime
    read_by: str
    app_roles: tuple[str, ...]
    dms_users: tuple[str, ...]
    freeze: tuple[str, ...]
    """statements and comment lines, in order: freeze.sql"""
    rollback: tuple[str, ...]
    """rollback.sql"""

    def header(self, what: str) -> list[str]:
        when = self.read_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return [
            comment(f"{what} for database {self.database}, read from the server at {when} as {self.read_by}"),
            comment(f"app roles: {', '.join(self.app_roles)}; DMS users (kept): {', '.join(self.dms_users) or 'none'}"),
            comment(f"run it whole: psql -v ON_ERROR_STOP=1 -d {self.database} -f <this file>  (as a superuser, or as the"),
            comment("tables' owner when it is a member of every grantor named below); it stops at the first error and then"),
            comment("changes nothing. Generated from the ACLs at that time: regenerate it after any GRANT."),
        ]

    def freeze_text(self) -> str:
        return "\n".join([*self.header("write freeze"), *self.freeze]) + "\n"

    def rollback_text(self) -> str:
        return "\n".join([*self.header("rollback of the write freeze"), *self.rollback]) + "\n"


def freeze_script(
    conn: psycopg.Connection[Any],
    tables: Sequence[Table],
    *,
    app_roles: Sequence[str],
    dms_users: Sequence[str],
    freeze_superusers: bool = False,
) -> FreezeScript:
    """The freeze of `app_roles` for `tables` and its rollback; FreezeRefusedError for a role it must not freeze."""
    with conn.transaction():
        conn.execute("SET LOCAL search_path = pg_catalog")
        return _script(conn, tables, app_roles=list(app_roles), dms_users=list(dms_users), freeze_superusers=freeze_superusers)


def _script(
    conn: psycopg.Connection[Any], tables: Sequence[Table], *, app_roles: list[str], dms_users: list[str],
    freeze_superusers: bool,
) -> FreezeScript:  # fmt: skip
    database, me, now = conn.execute("SELECT current_database()::text, session_user::text, now()").fetchone() or ("", "", None)
    roles = {
        name: (bool(login), bool(su)) for name, login, su in conn.execute("SELECT rolname, rolcanlogin, rolsuper FROM pg_roles")
    }
    _refuse(app_roles, roles=roles, dms_users=dms_users, me=me)

    def text(statement: sql.Composable) -> str:
        return statement.as_string(conn)

    oids = [table.oid for table in tables]
    fed = feeders(conn, tables)
    code_relations = oids + list(fed)
    params = {"tables": oids, "relations": code_relations}
    triggered = [row[0] for row in conn.execute(acl.DEFINER_TRIGGER_RELATIONS, params)]
    relations = list(dict.fromkeys(code_relations + triggered))
    grants = acl.read_grants(conn, roles=app_roles, relations=relations, code_relations=code_relations)
    events = conn.execute(acl.DEFINER_EVENT_TRIGGERS, params).fetchall()
    subscriptions = [row[0] for row in conn.execute(write_paths_sql.SUBSCRIPTIONS) if row[2]]
    superusers = [row[0] for row in conn.execute(write_paths_sql.SUPERUSERS)]
    prepared = conn.execute(write_paths_sql.PREPARED).fetchall()
    owned = conn.execute(
        "SELECT format('%%I.%%I', n.nspname, c.relname), pg_get_userbyid(c.relowner)::text FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ANY(%s::oid[]) AND pg_get_userbyid(c.relowner) = ANY(%s)"
        " ORDER BY 1",
        (relations, app_roles),
    ).fetchall()

    guard = text(_guard(conn, database))
    freeze = ["BEGIN;", guard]
    grantees = frozenset(app_roles) | {acl.PUBLIC}
    # event triggers first: the REVOKEs below are DDL and would fire them
    freeze += [text(sql.SQL("ALTER EVENT TRIGGER {} DISABLE;").format(sql.Identifier(name))) for name, _ in events]
    freeze += [text(s) for s in _as_grantors(grants, revoke=True, grantees=grantees)]
    freeze += [text(sql.SQL("ALTER SUBSCRIPTION {} DISABLE;").format(sql.Identifier(name))) for name in subscriptions]
    logins = [role for role in app_roles if roles[role][0]]
    freeze += [text(sql.SQL("ALTER ROLE {} NOLOGIN;").format(sql.Identifier(role))) for role in logins]
    su_lines = [text(sql.SQL("ALTER ROLE {} NOLOGIN;").format(sql.Identifier(role))) for role in superusers]
    if superusers:
        freeze.append(
            comment(f"superusers other than {me} can log in and write anything")
            + ("; frozen too (asked for):" if freeze_superusers else ": freeze them with these statements")
        )
        freeze.append(
            comment("(ALTER ROLE ... CONNECTION LIMIT 0 would not stop them: connection limits do not apply to superusers)")
        )
        freeze += su_lines if freeze_superusers else [comment(line) for line in su_lines]
    freeze.append("COMMIT;")
    freeze.append(
        comment("end every session on this database but the DMS users' and this one (after the commit: no one gets back in)")
    )
    freeze.append(text(sql.SQL(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND backend_type IN ('client backend', 'walsender') AND usename <> ALL ({}::text[]);"
    ).format(sql.Literal(dms_users))))  # fmt: skip
    freeze += _left_to_operator(prepared, owned)

    rollback = ["BEGIN;", guard]
    rollback += [text(sql.SQL("ALTER ROLE {} LOGIN;").format(sql.Identifier(role))) for role in logins]
    if freeze_superusers:
        rollback += [text(sql.SQL("ALTER ROLE {} LOGIN;").format(sql.Identifier(role))) for role in superusers]
    rollback += [text(s) for s in _as_grantors(grants, revoke=False, grantees=grantees)]
    rollback += [text(sql.SQL("ALTER EVENT TRIGGER {} {};").format(sql.Identifier(name), sql.SQL(_ENABLE.get(mode, "ENABLE"))))
                 for name, mode in events]  # fmt: skip
    rollback += [text(sql.SQL("ALTER SUBSCRIPTION {} ENABLE;").format(sql.Identifier(name))) for name in subscriptions]
    rollback.append("COMMIT;")
    return FreezeScript(
        database=database, read_at=now or datetime.now(UTC), read_by=me, app_roles=tuple(app_roles),
        dms_users=tuple(dms_users), freeze=tuple(freeze), rollback=tuple(rollback),
    )  # fmt: skip


def _refuse(app_roles: Sequence[str], *, roles: dict[str, tuple[bool, bool]], dms_users: Sequence[str], me: str) -> None:
    if not app_roles:
        raise FreezeRefusedError("name at least one app role to freeze")
    problems = [f"no such role on the source: {role}" for role in app_roles if role not in roles]
    problems += [f"{role} is a DMS user: freezing it would stop replication before the freeze is proven"
                 for role in app_roles if role in dms_users]  # fmt: skip
    problems += [f"{role} is a superuser: REVOKE cannot touch it; the script prints ALTER ROLE ... NOLOGIN for superusers"
                 for role in app_roles if role in roles and roles[role][1]]  # fmt: skip
    problems += [f"{role} is the role reading the source: the freeze would lock out the operator"
                 for role in app_roles if role == me]  # fmt: skip
    if problems:
        raise FreezeRefusedError("; ".join(problems))


def _guard(conn: psycopg.Connection[Any], database: str) -> sql.Composable:
    body = sql.SQL(
        "BEGIN IF current_database() <> {db} THEN RAISE EXCEPTION 'this script was generated for database %, not %', {db},"
        " current_database(); END IF; END"
    ).format(db=sql.Literal(database))
    return sql.SQL("DO {};").format(sql.Literal(body.as_string(conn)))


def _as_grantors(grants: Iterable[acl.Grant], *, revoke: bool, grantees: frozenset[str]) -> list[sql.Composable]:
    """REVOKE ... CASCADE (or GRANT ... [WITH GRANT OPTION]) per object, grantee and grantor: the owner's grants first
    (a superuser's GRANT/REVOKE acts as the owner), then the others', each between SET ROLE and RESET ROLE, those an
    app role passed on last (the rollback must give the app role its grant option back first)."""
    groups: dict[tuple[str, str, str, str, str, str, bool, bool], list[acl.Grant]] = {}
    for grant in grants:
        if revoke and grant.grantee not in grantees:
            continue  # passed on by an app role: the CASCADE takes it, the rollback gives it back
        key = (grant.kind, grant.schema, grant.name, grant.grantor, grant.grantee,
               grant.detail if grant.kind == "ROUTINE" else "", grant.by_owner, grant.grantable and not revoke)  # fmt: skip
        groups.setdefault(key, []).append(grant)
    statements: list[sql.Composable] = []
    for key in sorted(groups, key=lambda key: (not key[6], key[3] in grantees, key)):
        members = groups[key]
        first = members[0]
        privileges = sql.SQL(", ").join(grant.privilege_sql() for grant in members)
        if revoke:
            statement = sql.SQL("REVOKE {} ON {} FROM {} CASCADE;").format(privileges, first.object(), first.grantee_sql())
        else:
            option = sql.SQL(" WITH GRANT OPTION") if first.grantable else sql.SQL("")
            statement = sql.SQL("GRANT {} ON {} TO {}{};").format(privileges, first.object(), first.grantee_sql(), option)
        if first.by_owner:
            statements.append(statement)
        else:
            statements += [sql.SQL("SET ROLE {};").format(sql.Identifier(first.grantor)), statement, sql.SQL("RESET ROLE;")]
    return statements


def _left_to_operator(prepared: Sequence[tuple[Any, ...]], owned: Sequence[tuple[Any, ...]]) -> list[str]:
    lines = []
    if prepared:
        lines.append(comment("prepared transactions can still commit their rows after the stop: decide each one now"))
        for gid, owner, when in prepared:
            quoted = "'" + str(gid).replace("'", "''") + "'"
            lines.append(
                comment(f"  COMMIT PREPARED {quoted};  or  ROLLBACK PREPARED {quoted};  (owner {owner}, prepared {when})")
            )
    if owned:
        lines.append(comment("app roles own these relations: a member of the owner keeps its rights (freeze.write-privileges"))
        lines.append(
            comment(f"shows who); give them another owner or end the memberships: {listed([f'{r} ({o})' for r, o in owned])}")
        )
    return lines
