-- Schema 9: analytics, observability and the audit log (issue 10). One section per part.
-- compatible-with: 8
-- Every section keeps this script additive (new tables; new columns nullable or with a default; new
-- indexes), so nodes of schema 8 keep working on it during a rolling upgrade.

-- Analytics: facts written with the commits they record, folded by one drain into quarter-hour
-- rollups per scope (workflow, persona, workspace) and dimension (total, model, persona, version,
-- workflow, step). Rollups outlive the runs retention deletes; facts live seconds.
ALTER TABLE runs ADD COLUMN rested_at TEXT NULL;
ALTER TABLE runs ADD COLUMN personas TEXT NULL;

CREATE TABLE analytics_facts (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id         TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    workflow_id          TEXT    NOT NULL,
    run_id               TEXT    NOT NULL,
    kind                 TEXT    NOT NULL CHECK (kind IN ('run', 'usage', 'approval')),
    at                   TEXT    NOT NULL,
    sign                 INTEGER NOT NULL,
    status               TEXT    NULL,
    duration_ms          INTEGER NOT NULL,
    personas             TEXT    NULL,
    step_id              TEXT    NULL,
    model                TEXT    NULL,
    persona_id           TEXT    NULL,
    persona_version      INTEGER NULL,
    input_tokens         INTEGER NOT NULL,
    output_tokens        INTEGER NOT NULL,
    cached_input_tokens  INTEGER NOT NULL,
    cost_nanos           INTEGER NOT NULL
);
CREATE INDEX ix_analytics_facts_workspace_id ON analytics_facts (workspace_id);

CREATE TABLE analytics_rollups (
    scope_id             TEXT    NOT NULL,
    dim                  TEXT    NOT NULL,
    bucket               TEXT    NOT NULL,
    dim_key              TEXT    NOT NULL,
    workspace_id         TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    succeeded            INTEGER NOT NULL,
    failed               INTEGER NOT NULL,
    compensated          INTEGER NOT NULL,
    halted               INTEGER NOT NULL,
    duration_ms          INTEGER NOT NULL,
    durations            TEXT    NULL,
    calls                INTEGER NOT NULL,
    input_tokens         INTEGER NOT NULL,
    output_tokens        INTEGER NOT NULL,
    cached_input_tokens  INTEGER NOT NULL,
    cost_nanos           INTEGER NOT NULL,
    approvals            INTEGER NOT NULL,
    approval_wait_ms     INTEGER NOT NULL,
    version              INTEGER NOT NULL,
    PRIMARY KEY (scope_id, dim, bucket, dim_key)
) WITHOUT ROWID;
CREATE INDEX ix_analytics_rollups_workspace_id ON analytics_rollups (workspace_id);
-- Audit log (issue 10): who did what to which resource, when and from where; one row per audited
-- request (docs/audit.md). No foreign keys: an entry outlives the workspace, key, person and resource
-- it names (who and what are copied in). workspace_id is NULL for instance-level entries.
CREATE TABLE audit_entries (
    id              TEXT    NOT NULL PRIMARY KEY,
    workspace_id    TEXT    NULL,
    workspace_name  TEXT    NULL,
    at              TEXT    NOT NULL,
    actor_kind      TEXT    NOT NULL,
    actor_id        TEXT    NULL,
    actor_name      TEXT    NULL,
    actor_email     TEXT    NULL,
    via             TEXT    NOT NULL,
    key_id          TEXT    NULL,
    key_prefix      TEXT    NULL,
    action          TEXT    NOT NULL,
    resource_type   TEXT    NULL,
    resource_id     TEXT    NULL,
    resource_name   TEXT    NULL,
    method          TEXT    NOT NULL,
    path            TEXT    NOT NULL,
    status          INTEGER NOT NULL,
    client_ip       TEXT    NULL,
    user_agent      TEXT    NULL,
    trace_id        TEXT    NULL,
    details         TEXT    NULL
);
-- A workspace's log newest first, and its filters (action, actor or key, resource); the retention pass by age.
CREATE INDEX ix_audit_entries_workspace_id_id ON audit_entries (workspace_id, id);
CREATE INDEX ix_audit_entries_workspace_id_action_id ON audit_entries (workspace_id, action, id);
CREATE INDEX ix_audit_entries_workspace_id_actor_id_id ON audit_entries (workspace_id, actor_id, id);
CREATE INDEX ix_audit_entries_workspace_id_resource_id_id ON audit_entries (workspace_id, resource_id, id);
CREATE INDEX ix_audit_entries_at ON audit_entries (at);

-- Append-only: no statement may change an entry, and only the retention pass deletes, inside a
-- transaction that holds a row in audit_retention_pass (which no other connection can see before
-- it commits, and which the pass deletes again before committing).
CREATE TABLE audit_retention_pass (
    id  INTEGER NOT NULL PRIMARY KEY
);
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
WHEN NOT EXISTS (SELECT 1 FROM audit_retention_pass) BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only: only the retention pass deletes them');
END;
-- ─── Observability ──────────────────────────────────────────────────────────────────────────────
-- The W3C traceparent a run's spans hang under, wherever and whenever its attempts run: the span of
-- the run's creation (under the request that started it, if any). Null for runs made before schema 9.
ALTER TABLE runs ADD COLUMN trace_parent TEXT NULL;
