"""The catalog queries behind `write_paths` (read that module's docstring first).

Every query reads catalog views only (pg_roles, pg_class, pg_rewrite, pg_depend, pg_proc, pg_trigger,
pg_stat_activity, ...), never a user table. Parameters, all passed by psycopg:
  %(exempt)s     text[]  the DMS users; the role that logged in to run the check (session_user) is exempt too
  %(tables)s     oid[]   the in-scope tables
  %(relations)s  oid[]   the in-scope tables and every relation whose writes reach them (`feeders`)
"""

from __future__ import annotations

# Login roles a write path matters for, and every role each can reach by SET ROLE. pg_has_role(..., 'MEMBER') is
# membership through any chain, whether the grants are INHERIT or NOINHERIT and with or without ADMIN OPTION
# (checked on PostgreSQL 15 by test_write_paths.py::test_pg_has_role_member_follows_noinherit_and_admin).
# Superusers are left to freeze.superusers.
REACH = """
logins AS (
    SELECT oid, rolname FROM pg_roles
     WHERE rolcanlogin AND NOT rolsuper AND rolname <> session_user AND rolname <> ALL(%(exempt)s::text[])
), reach AS (
    SELECT l.rolname::text AS login, r.oid AS via_oid, r.rolname::text AS via
      FROM logins l JOIN pg_roles r ON pg_has_role(l.oid, r.oid, 'MEMBER')
)"""


def can_write(role: str, relation: str, privileges: str = "INSERT, UPDATE, DELETE") -> str:
    """SQL true when `role` (an oid expression) owns `relation` (a pg_class alias) or may write it or some of its columns."""
    return (
        f"({relation}.relowner = {role} OR has_table_privilege({role}, {relation}.oid, '{privileges}')"
        f" OR has_any_column_privilege({role}, {relation}.oid, 'INSERT, UPDATE'))"
    )


def _reaches_writer(role: str, relation: str) -> str:
    """SQL true when `role` can reach (SET ROLE, any chain) a superuser or a role that can write `relation`."""
    return (
        f"EXISTS (SELECT 1 FROM pg_roles w WHERE pg_has_role({role}, w.oid, 'MEMBER') AND (w.rolsuper OR "
        f"{can_write('w.oid', relation)}))"
    )


# Relations whose writes land in a relation already reached, starting from the in-scope tables:
#   view         an automatically updatable view (its _RETURN rule reads the target), checked as its owner
#                unless security_invoker (then the invoker needs the rights on the target itself)
#   rule         a non-SELECT rule whose action touches the target: it runs with the rule's table owner's rights,
#                also on security_invoker views (PostgreSQL docs, "Rules and Privileges")
#   parent       an inheritance or partition parent: INSERT/UPDATE/DELETE on it are checked on the parent only
#   foreign key  a referenced table whose DELETE/UPDATE cascades (or sets null/default) into the target; the
#                referential action runs as the owner of the referencing table
# `actions` is the rule's event (pg_rewrite.ev_type) or the foreign key's confdeltype and confupdtype;
# `carries` says whether the edge carries a write: a view's or rule's owner must be able to write the target.
FEEDER_EDGES = f"""
WITH RECURSIVE edge AS (
    SELECT r.ev_class AS source, d.refobjid AS target,
           CASE WHEN r.rulename = '_RETURN' THEN 'view' ELSE 'rule' END AS kind, r.rulename::text AS label,
           r.ev_type::text AS actions
      FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
     WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class AND (r.ev_type <> '1' OR r.rulename = '_RETURN')
    UNION
    SELECT i.inhparent, i.inhrelid, 'parent', '', '' FROM pg_inherits i
    UNION
    SELECT k.confrelid, k.conrelid, 'foreign key', k.conname::text, k.confdeltype::text || k.confupdtype::text
      FROM pg_constraint k
     WHERE k.contype = 'f' AND (k.confdeltype IN ('c', 'n', 'd') OR k.confupdtype IN ('c', 'n', 'd'))
), reached(oid) AS (
    SELECT unnest(%(tables)s::oid[])
    UNION
    SELECT e.source FROM edge e JOIN reached ON e.target = reached.oid
)
SELECT e.source, e.target, e.kind, e.label, e.actions, s.relkind::text,
       format('%%I.%%I', sn.nspname, s.relname), format('%%I.%%I', tn.nspname, t.relname),
       CASE e.kind
         WHEN 'view' THEN (pg_relation_is_updatable(s.oid, false) & 28) <> 0
                          AND NOT coalesce((SELECT o.option_value FROM pg_options_to_table(s.reloptions) o
                                             WHERE o.option_name = 'security_invoker'), 'false')::boolean
                          AND {_reaches_writer("s.relowner", "t")}
         WHEN 'rule' THEN {_reaches_writer("s.relowner", "t")}
         ELSE true
       END AS carries
  FROM edge e
  JOIN pg_class s ON s.oid = e.source JOIN pg_namespace sn ON sn.oid = s.relnamespace
  JOIN pg_class t ON t.oid = e.target JOIN pg_namespace tn ON tn.oid = t.relnamespace
 WHERE e.target IN (SELECT oid FROM reached) AND e.source <> e.target
 ORDER BY 7, 8, 3, 4
"""

# Who can write the in-scope tables and their feeders: owns it, has one of the relation's privileges that carry a
# write (%(privileges)s, one string per relation: on the in-scope tables all four; on a parent TRUNCATE is checked on
# every child, so never) or a column grant of them (INSERT (col), UPDATE (col): has_table_privilege misses those;
# %(column_privileges)s, empty when none applies), reached through any membership chain.
WRITERS = f"""
WITH {REACH}
SELECT reach.login, reach.via, c.oid, f.owns, f.table_level,
       CASE WHEN f.owns OR f.table_level THEN '{{}}'::text[] ELSE ARRAY(
           SELECT a.attname::text FROM pg_attribute a
            WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
              AND has_column_privilege(reach.via_oid, c.oid, a.attnum, r.column_privileges)
            ORDER BY a.attnum) END
  FROM reach
 CROSS JOIN unnest(%(relations)s::oid[], %(privileges)s::text[], %(column_privileges)s::text[])
       AS r(oid, privileges, column_privileges)
  JOIN pg_class c ON c.oid = r.oid
 CROSS JOIN LATERAL (
    SELECT c.relowner = reach.via_oid AS owns,
           has_table_privilege(reach.via_oid, c.oid, r.privileges) AS table_level,
           r.column_privileges <> '' AND has_any_column_privilege(reach.via_oid, c.oid, r.column_privileges) AS any_column
 ) f
 WHERE f.owns OR f.table_level OR f.any_column
 ORDER BY 1, 3, 2
"""

# Owners of SECURITY DEFINER functions whose code could write a table in scope: superuser, CREATEROLE (it can
# grant itself a writer role inside the function), or a writer of an in-scope table or feeder, through any chain.
CODE_WRITERS = f"""
code_writers AS (
    SELECT o.oid, o.rolname::text AS rolname, why.reason
      FROM pg_roles o
     CROSS JOIN LATERAL (
        SELECT CASE WHEN w.rolsuper THEN 'is a superuser' WHEN w.rolcreaterole THEN 'has CREATEROLE'
                    ELSE 'can write tables in scope' END
               || CASE WHEN w.oid = o.oid THEN '' ELSE ' as ' || quote_ident(w.rolname) END AS reason
          FROM pg_roles w
         WHERE pg_has_role(o.oid, w.oid, 'MEMBER')
           AND (w.rolsuper OR w.rolcreaterole OR EXISTS (
                SELECT 1 FROM pg_class c
                 WHERE c.oid = ANY(%(relations)s::oid[]) AND {can_write("w.oid", "c", "INSERT, UPDATE, DELETE, TRUNCATE")}))
         ORDER BY w.rolsuper DESC, w.rolcreaterole DESC, w.oid = o.oid DESC
         LIMIT 1
     ) why
     WHERE o.oid IN (SELECT p.proowner FROM pg_proc p WHERE p.prosecdef)
)"""

_FUNCTION = "format('%%I.%%I(%%s)', pn.nspname, p.proname, pg_get_function_identity_arguments(p.oid))"

# Trigger functions are left out: they cannot be called directly, and EXECUTE is not checked when a trigger fires.
DEFINER_FUNCTIONS = f"""
WITH {REACH}, {CODE_WRITERS}
SELECT {_FUNCTION}, cw.rolname, cw.reason, array_agg(DISTINCT reach.login ORDER BY reach.login),
       EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
  FROM pg_proc p JOIN pg_namespace pn ON pn.oid = p.pronamespace
  JOIN code_writers cw ON cw.oid = p.proowner
  JOIN reach ON has_function_privilege(reach.via_oid, p.oid, 'EXECUTE')
 WHERE p.prosecdef AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
 GROUP BY p.oid, pn.nspname, p.proname, cw.rolname, cw.reason
 ORDER BY 1
"""

# Triggers on relations outside the scope (tables, views: INSTEAD OF) whose function is SECURITY DEFINER and owned
# by a code writer, and the login roles that can fire them: own the relation or hold the privilege of one of the
# trigger's events (pg_trigger.tgtype bits 4 INSERT, 8 DELETE, 16 UPDATE, 32 TRUNCATE), for its table or a column.
DEFINER_TRIGGERS = f"""
WITH {REACH}, {CODE_WRITERS}
SELECT tg.tgname::text, format('%%I.%%I', n.nspname, c.relname), c.relkind::text, {_FUNCTION}, cw.rolname, cw.reason,
       array_agg(DISTINCT reach.login ORDER BY reach.login)
  FROM pg_trigger tg
  JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_proc p ON p.oid = tg.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
  JOIN code_writers cw ON cw.oid = p.proowner
 CROSS JOIN LATERAL (
    SELECT concat_ws(', ', CASE WHEN tg.tgtype & 4 <> 0 THEN 'INSERT' END, CASE WHEN tg.tgtype & 8 <> 0 THEN 'DELETE' END,
                     CASE WHEN tg.tgtype & 16 <> 0 THEN 'UPDATE' END,
                     CASE WHEN tg.tgtype & 32 <> 0 THEN 'TRUNCATE' END) AS events,
           concat_ws(', ', CASE WHEN tg.tgtype & 4 <> 0 THEN 'INSERT' END, CASE WHEN tg.tgtype & 16 <> 0 THEN 'UPDATE' END)
               AS column_events
 ) ev
  JOIN reach ON c.relowner = reach.via_oid OR has_table_privilege(reach.via_oid, c.oid, ev.events)
             OR (ev.column_events <> '' AND has_any_column_privilege(reach.via_oid, c.oid, ev.column_events))
 WHERE NOT tg.tgisinternal AND p.prosecdef AND c.oid <> ALL(%(tables)s::oid[])
 GROUP BY tg.oid, tg.tgname, n.nspname, c.relname, c.relkind, p.oid, pn.nspname, p.proname, cw.rolname, cw.reason
 ORDER BY 2, 1
"""

# Enabled event triggers with a SECURITY DEFINER function of a code writer: any role that runs DDL fires them.
EVENT_TRIGGERS = f"""
WITH {CODE_WRITERS}
SELECT e.evtname::text, e.evtevent::text, {_FUNCTION}, cw.rolname, cw.reason
  FROM pg_event_trigger e
  JOIN pg_proc p ON p.oid = e.evtfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
  JOIN code_writers cw ON cw.oid = p.proowner
 WHERE p.prosecdef AND e.evtenabled <> 'D'
 ORDER BY 1
"""

CREATEROLE = f"""
WITH {REACH}
SELECT reach.login, reach.via FROM reach JOIN pg_roles r ON r.oid = reach.via_oid
 WHERE r.rolcreaterole AND NOT r.rolsuper
 ORDER BY 1, 2
"""

SUPERUSERS = "SELECT rolname::text FROM pg_roles WHERE rolsuper AND rolcanlogin AND rolname <> session_user ORDER BY 1"

# subconninfo is not readable by every role (it may hold a password); the other columns are.
SUBSCRIPTIONS = """
SELECT s.subname::text, pg_get_userbyid(s.subowner)::text, s.subenabled, array_to_string(s.subpublications, ', ')
  FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid
 WHERE d.datname = current_database()
 ORDER BY 1
"""

SESSIONS = """
SELECT pid, usename::text, coalesce(application_name, ''), coalesce(client_addr::text, 'local'), coalesce(state, ''),
       backend_type
  FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid()
   AND backend_type IN ('client backend', 'walsender')
   AND (usename IS NULL OR usename <> ALL(%(exempt)s::text[]))
 ORDER BY pid
"""

# Every other backend on this database or on none (client backends and walsenders are freeze.sessions'), with its
# parallel leader. A physical walsender has no database and is left out with the other walsenders: it cannot run SQL.
BACKENDS = """
SELECT a.pid, coalesce(a.backend_type, ''), coalesce(a.usename::text, ''), coalesce(a.datname::text, ''), a.leader_pid,
       l.pid IS NOT NULL AND (l.pid = pg_backend_pid() OR l.usename = ANY(%(exempt)s::text[]))
  FROM pg_stat_activity a LEFT JOIN pg_stat_activity l ON l.pid = a.leader_pid AND l.pid <> a.pid
 WHERE a.pid <> pg_backend_pid() AND (a.datname = current_database() OR a.datname IS NULL)
   AND a.backend_type IS DISTINCT FROM 'client backend' AND a.backend_type IS DISTINCT FROM 'walsender'
 ORDER BY a.pid
"""

PREPARED = """
SELECT gid, owner::text, prepared FROM pg_prepared_xacts WHERE database = current_database() ORDER BY prepared, gid
"""
