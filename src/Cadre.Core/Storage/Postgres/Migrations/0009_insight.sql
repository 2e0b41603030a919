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
