-- Schema 9: analytics, observability and the audit log (issue 10). One section per part.
-- compatible-with: 8
-- Every section keeps this script additive (new tables; new columns nullable or with a default; new
-- indexes), so nodes of schema 8 keep working on it during a rolling upgrade.

-- Analytics: facts written with the commits they record, folded by one drain into quarter-hour
-- rollups per scope (workflow, persona, workspace) and dimension (total, model, persona, version,
-- workflow, step). Rollups outlive the runs retention deletes; facts live seconds.
ALTER TABLE runs ADD COLUMN rested_at timestamptz NULL;
ALTER TABLE runs ADD COLUMN personas text NULL;

CREATE TABLE analytics_facts (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id         text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    workflow_id          text COLLATE "C" NOT NULL,
    run_id               text COLLATE "C" NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('run', 'usage', 'approval')),
    at                   timestamptz NOT NULL,
    sign                 integer NOT NULL,
    status               text NULL,
    duration_ms          bigint NOT NULL,
    personas             text NULL,
    step_id              text COLLATE "C" NULL,
    model                text COLLATE "C" NULL,
    persona_id           text COLLATE "C" NULL,
    persona_version      integer NULL,
    input_tokens         bigint NOT NULL,
    output_tokens        bigint NOT NULL,
    cached_input_tokens  bigint NOT NULL,
    cost_nanos           bigint NOT NULL
);
CREATE INDEX ix_analytics_facts_workspace_id ON analytics_facts (workspace_id);

CREATE TABLE analytics_rollups (
    scope_id             text COLLATE "C" NOT NULL,
    dim                  text COLLATE "C" NOT NULL,
    bucket               timestamptz NOT NULL,
    dim_key              text COLLATE "C" NOT NULL,
    workspace_id         text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    succeeded            bigint NOT NULL,
    failed               bigint NOT NULL,
    compensated          bigint NOT NULL,
    halted               bigint NOT NULL,
    duration_ms          bigint NOT NULL,
    durations            text NULL,
    calls                bigint NOT NULL,
    input_tokens         bigint NOT NULL,
    output_tokens        bigint NOT NULL,
    cached_input_tokens  bigint NOT NULL,
    cost_nanos           bigint NOT NULL,
    approvals            bigint NOT NULL,
    approval_wait_ms     bigint NOT NULL,
    version              integer NOT NULL,
    PRIMARY KEY (scope_id, dim, bucket, dim_key)
);
CREATE INDEX ix_analytics_rollups_workspace_id ON analytics_rollups (workspace_id);
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
-- ─── Observability ──────────────────────────────────────────────────────────────────────────────
-- The W3C traceparent a run's spans hang under, wherever and whenever its attempts run: the span of
-- the run's creation (under the request that started it, if any). Null for runs made before schema 9.
ALTER TABLE runs ADD COLUMN trace_parent text NULL;
