"""What the freeze takes away and the rollback gives back: the grants to the app roles and PUBLIC, read from the ACLs.

One `Grant` per ACL entry (aclexplode of relacl, attacl, proacl, or the default ACL when none is set) whose grantee is
an app role or PUBLIC, or whose grantor is an app role (a grant it passed on with its grant option: REVOKE ... CASCADE
takes it too, so the rollback must give it back). The queries run with search_path = pg_catalog, so every name
they print outside pg_catalog is schema-qualified and the statements mean the same under any search_path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from migration_ops.cutover import write_paths_sql

WRITE_PRIVILEGES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
COLUMN_PRIVILEGES = ("INSERT", "UPDATE")
PUBLIC = "PUBLIC"

_ENTRY = """
       pg_get_userbyid(a.grantor)::text, coalesce(g.rolname::text, 'PUBLIC'), a.privilege_type, a.is_grantable,
       a.grantor = {owner}"""
_WHO = """
   AND a.grantee <> {owner}
   AND (a.grantee = 0 OR g.rolname = ANY(%(roles)s::text[]) OR pg_get_userbyid(a.grantor) = ANY(%(roles)s::text[]))"""

RELATION_GRANTS = f"""
SELECT n.nspname::text, c.relname::text, '', {_ENTRY.format(owner="c.relowner")}
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
  LEFT JOIN pg_roles g ON g.oid = a.grantee
 WHERE c.oid = ANY(%(relations)s::oid[]) AND a.privilege_type = ANY(%(privileges)s::text[]){_WHO.format(owner="c.relowner")}
 ORDER BY 1, 2, 4, 5, 6
"""

COLUMN_GRANTS = f"""
SELECT n.nspname::text, c.relname::text, t.attname::text, {_ENTRY.format(owner="c.relowner")}
  FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL aclexplode(t.attacl) a
  LEFT JOIN pg_roles g ON g.oid = a.grantee
 WHERE t.attrelid = ANY(%(relations)s::oid[]) AND t.attnum > 0 AND NOT t.attisdropped AND t.attacl IS NOT NULL
   AND a.privilege_type = ANY(%(column_privileges)s::text[]){_WHO.format(owner="c.relowner")}
 ORDER BY 1, 2, 4, 5, 6, 3
"""

# SECURITY DEFINER functions (not trigger functions) whose owner could write what is in scope: the definer functions
# freeze.definer-functions looks at.
FUNCTION_GRANTS = f"""
WITH {write_paths_sql.CODE_WRITERS}
SELECT n.nspname::text, p.proname::text, pg_get_function_identity_arguments(p.oid), {_ENTRY.format(owner="p.proowner")}
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN code_writers cw ON cw.oid = p.proowner
 CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
  LEFT JOIN pg_roles g ON g.oid = a.grantee
 WHERE p.prosecdef AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
   AND a.privilege_type = 'EXECUTE'{_WHO.format(owner="p.proowner")}
 ORDER BY 1, 2, 3, 4, 5
"""

# Relations outside the scope that carry a SECURITY DEFINER trigger of a code writer (freeze.triggers, freeze.views).
DEFINER_TRIGGER_RELATIONS = f"""
WITH {write_paths_sql.CODE_WRITERS}
SELECT DISTINCT tg.tgrelid
  FROM pg_trigger tg JOIN pg_proc p ON p.oid = tg.tgfoid JOIN code_writers cw ON cw.oid = p.proowner
 WHERE NOT tg.tgisinternal AND p.prosecdef AND tg.tgrelid <> ALL(%(tables)s::oid[])
"""

DEFINER_EVENT_TRIGGERS = f"""
WITH {write_paths_sql.CODE_WRITERS}
SELECT e.evtname::text, e.evtenabled::text
  FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid JOIN code_writers cw ON cw.oid = p.proowner
 WHERE p.prosecdef AND e.evtenabled <> 'D'
 ORDER BY 1
"""


@dataclass(frozen=True, kw_only=True)
class Grant:
    """One ACL entry: `grantor` gave `privilege` on `target` (a table, a column of it, or a routine) to `grantee`."""

    kind: str
    """TABLE or ROUTINE"""
    schema: str
    name: str
    detail: str
    """the column (TABLE) or the identity arguments (ROUTINE); empty for a whole table"""
    grantor: str
    grantee: str
    privilege: str
    grantable: bool
    by_owner: bool

    def object(self) -> sql.Composable:
        if self.kind == "ROUTINE":
            return sql.SQL("ROUTINE {}({})").format(sql.Identifier(self.schema, self.name), sql.SQL(self.detail))
        return sql.SQL("TABLE {}").format(sql.Identifier(self.schema, self.name))

    def privilege_sql(self) -> sql.Composable:
        if self.kind == "TABLE" and self.detail:
            return sql.SQL("{} ({})").format(sql.SQL(self.privilege), sql.Identifier(self.detail))
        return sql.SQL(self.privilege)

    def grantee_sql(self) -> sql.Composable:
        return sql.SQL(PUBLIC) if self.grantee == PUBLIC else sql.Identifier(self.grantee)


def read_grants(
    conn: psycopg.Connection[Any], *, roles: Sequence[str], relations: Sequence[int], code_relations: Sequence[int]
) -> list[Grant]:
    """The grants to `roles` and PUBLIC (or passed on by `roles`) on `relations`, their columns and the definer routines."""
    params = {
        "roles": list(roles), "relations": list(relations), "privileges": list(WRITE_PRIVILEGES),
        "column_privileges": list(COLUMN_PRIVILEGES),
    }  # fmt: skip
    found = [
        Grant(kind="TABLE", schema=schema, name=name, detail=detail, grantor=grantor, grantee=grantee,
              privilege=privilege, grantable=bool(grantable), by_owner=bool(by_owner))
        for query in (RELATION_GRANTS, COLUMN_GRANTS)
        for schema, name, detail, grantor, grantee, privilege, grantable, by_owner in conn.execute(query, params)
    ]  # fmt: skip
    rows = conn.execute(FUNCTION_GRANTS, {**params, "relations": list(code_relations)}).fetchall()
    found += [
        Grant(kind="ROUTINE", schema=schema, name=name, detail=args, grantor=grantor, grantee=grantee,
              privilege=privilege, grantable=bool(grantable), by_owner=bool(by_owner))
        for schema, name, args, grantor, grantee, privilege, grantable, by_owner in rows
    ]  # fmt: skip
    return found
