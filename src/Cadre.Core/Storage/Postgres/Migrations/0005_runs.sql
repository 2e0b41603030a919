-- Cadre schema version 5 (PostgreSQL): runs, their steps' state, the task queue (one row per attempt)
-- and the append-only run event log.

CREATE TABLE workflow_run_counters (
    workflow_id  text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES workflows (id) ON DELETE CASCADE,
    last_number  integer NOT NULL
);

CREATE TABLE runs (
    id                text COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id      text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    workflow_id       text COLLATE "C" NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    workflow_version  integer NOT NULL,
    number            integer NOT NULL,
    display_id        text COLLATE "C" NOT NULL,
    status            text NOT NULL CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'halted', 'compensating', 'compensated')),
    trigger_type      text NOT NULL,
    started_by        text NULL,
    input             text NOT NULL,
    context           text NOT NULL,
    output            text NULL,
    error             text NULL,
    links             text NOT NULL,
    parent_run_id     text COLLATE "C" NULL,
    parent_step_id    text COLLATE "C" NULL,
    idempotency_key   text NULL,
    halt_requested    boolean NOT NULL,
    created_at        timestamptz NOT NULL,
    started_at        timestamptz NULL,
    finished_at       timestamptz NULL,
    updated_at        timestamptz NOT NULL,
    version           integer NOT NULL
);
CREATE UNIQUE INDEX ix_runs_workflow_id_number ON runs (workflow_id, number);
CREATE INDEX ix_runs_workspace_id_id ON runs (workspace_id, id);
CREATE INDEX ix_runs_workflow_id_id ON runs (workflow_id, id);
-- A start retried after a crash finds its run rather than making a second one.
CREATE UNIQUE INDEX ix_runs_workflow_id_idempotency_key ON runs (workflow_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX ix_runs_workflow_id_status ON runs (workflow_id, status);
-- Runs waiting for a concurrency slot, for the admission sweep.
CREATE INDEX ix_runs_queued ON runs (workspace_id, id) WHERE status = 'queued';
CREATE INDEX ix_runs_parent_run_id ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;

CREATE TABLE run_steps (
    run_id           text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id          text COLLATE "C" NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'queued', 'running', 'waiting', 'retrying', 'succeeded', 'failed', 'skipped', 'cancelled', 'compensating', 'compensated', 'compensation_failed')),
    attempts         integer NOT NULL,
    iteration        integer NOT NULL,
    output           text NULL,
    error            text NULL,
    completed_order  integer NULL,
    started_at       timestamptz NULL,
    finished_at      timestamptz NULL,
    PRIMARY KEY (run_id, step_id)
);

-- One row per attempt. Workers lease queued rows whose time has come; a finished row stays as the attempt's record.
CREATE TABLE tasks (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id            text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    workspace_id      text COLLATE "C" NOT NULL,
    step_id           text COLLATE "C" NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('step', 'timer', 'compensation')),
    iteration         integer NOT NULL,
    attempt           integer NOT NULL,
    status            text NOT NULL CHECK (status IN ('queued', 'leased', 'succeeded', 'failed', 'abandoned', 'cancelled')),
    available_at      timestamptz NOT NULL,
    lease_owner       text NULL,
    lease_expires_at  timestamptz NULL,
    started_at        timestamptz NULL,
    finished_at       timestamptz NULL,
    error             text NULL,
    created_at        timestamptz NOT NULL
);
-- The hot path: only queued rows are in this index, so finished history never slows leasing.
CREATE INDEX ix_tasks_queued ON tasks (available_at, id) WHERE status = 'queued';
CREATE INDEX ix_tasks_leased ON tasks (lease_expires_at) WHERE status = 'leased';
CREATE INDEX ix_tasks_run_id ON tasks (run_id, id);

CREATE TABLE run_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id        text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    workspace_id  text COLLATE "C" NOT NULL,
    type          text NOT NULL,
    data          text NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX ix_run_events_run_id_id ON run_events (run_id, id);
CREATE INDEX ix_run_events_workspace_id_id ON run_events (workspace_id, id);

-- A question to people that an approval step waits on. Approvers are team or user IDs; a decision
-- is one person's, once, and the approval settles when the quorum approves or any approver rejects.
CREATE TABLE approvals (
    id                text COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id      text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    run_id            text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id           text COLLATE "C" NOT NULL,
    iteration         integer NOT NULL,
    status            text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
    quorum            integer NOT NULL,
    deadline          timestamptz NULL,
    escalations       integer NOT NULL,
    summary           text NOT NULL,
    outcome_reason    text NULL,
    created_at        timestamptz NOT NULL,
    decided_at        timestamptz NULL,
    version           integer NOT NULL
);
CREATE INDEX ix_approvals_workspace_id_id ON approvals (workspace_id, id);
CREATE INDEX ix_approvals_run_id ON approvals (run_id);

-- Who may decide (a team or user ID each), so the inbox is one indexed join.
CREATE TABLE approval_approvers (
    approval_id  text COLLATE "C" NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    approver_id  text COLLATE "C" NOT NULL,
    PRIMARY KEY (approval_id, approver_id)
);
CREATE INDEX ix_approval_approvers_approver_id ON approval_approvers (approver_id);

CREATE TABLE approval_decisions (
    approval_id  text COLLATE "C" NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    user_id      text COLLATE "C" NOT NULL,
    decision     text NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment      text NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (approval_id, user_id)
);

-- Events emitted into a workspace (by emit_event steps; later by the API and webhooks), kept as
-- the record of what happened and for the trigger dispatcher.
CREATE TABLE events (
    id                text COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id      text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    type              text NOT NULL,
    source            text NULL,
    payload           text NOT NULL,
    emitted_by_run    text COLLATE "C" NULL,
    emitted_by_step   text NULL,
    created_at        timestamptz NOT NULL
);
CREATE INDEX ix_events_workspace_id_id ON events (workspace_id, id);

-- A wait_for_event step waiting: matched against each event emitted after it began; the event that
-- matches is claimed here in the emitting transaction, so the step wakes with exactly that event.
CREATE TABLE event_waits (
    run_id        text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id       text COLLATE "C" NOT NULL,
    iteration     integer NOT NULL,
    attempt       integer NOT NULL,
    workspace_id  text COLLATE "C" NOT NULL,
    event_type    text NOT NULL,
    filters       text NULL,
    event_id      text COLLATE "C" NULL,
    deadline      timestamptz NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (run_id, step_id, iteration)
);
CREATE INDEX ix_event_waits_open ON event_waits (workspace_id, event_type) WHERE event_id IS NULL;
