-- Schema 9: analytics, observability and the audit log (issue 10). One section per part.
-- compatible-with: 8
-- Every section keeps this script additive (new tables; new columns nullable or with a default; new
-- indexes), so nodes of schema 8 keep working on it during a rolling upgrade.

-- Audit log (issue 10): who did what to which resource, when and from where; one row per audited
-- request (docs/audit.md). No foreign keys: an entry outlives the workspace, key, person and resource
-- it names (who and what are copied in). workspace_id is NULL for instance-level entries.
CREATE TABLE audit_entries (
    id              text COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id    text COLLATE "C" NULL,
    workspace_name  text        NULL,
    at              timestamptz NOT NULL,
    actor_kind      text        NOT NULL,
    actor_id        text COLLATE "C" NULL,
    actor_name      text        NULL,
    actor_email     text        NULL,
    via             text        NOT NULL,
    key_id          text COLLATE "C" NULL,
    key_prefix      text        NULL,
    action          text COLLATE "C" NOT NULL,
    resource_type   text COLLATE "C" NULL,
    resource_id     text COLLATE "C" NULL,
    resource_name   text        NULL,
    method          text        NOT NULL,
    path            text        NOT NULL,
    status          integer     NOT NULL,
    client_ip       text        NULL,
    user_agent      text        NULL,
    trace_id        text        NULL,
    details         text        NULL
);
-- A workspace's log newest first, and its filters (action, actor or key, resource); the retention pass by age.
CREATE INDEX ix_audit_entries_workspace_id_id ON audit_entries (workspace_id, id);
CREATE INDEX ix_audit_entries_workspace_id_action_id ON audit_entries (workspace_id, action, id);
CREATE INDEX ix_audit_entries_workspace_id_actor_id_id ON audit_entries (workspace_id, actor_id, id);
CREATE INDEX ix_audit_entries_workspace_id_resource_id_id ON audit_entries (workspace_id, resource_id, id);
CREATE INDEX ix_audit_entries_at ON audit_entries (at);

-- Append-only: no statement may change an entry or empty the table, and only the retention pass
-- deletes, inside a transaction that holds a row in audit_retention_pass (which no other transaction
-- sees before it commits, and which the pass deletes again before committing). This stops mistakes
-- and application bugs; a database superuser can still drop the trigger (docs/audit.md).
CREATE TABLE audit_retention_pass (
    id  integer NOT NULL PRIMARY KEY
);
CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_retention_pass) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only();
