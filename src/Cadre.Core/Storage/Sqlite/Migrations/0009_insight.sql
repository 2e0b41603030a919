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
