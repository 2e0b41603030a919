-- Cadre schema version 5 (SQLite): runs, their steps' state, the task queue (one row per attempt)
-- and the append-only run event log.

CREATE TABLE workflow_run_counters (
    workflow_id  TEXT    NOT NULL PRIMARY KEY REFERENCES workflows (id) ON DELETE CASCADE,
    last_number  INTEGER NOT NULL
);

CREATE TABLE runs (
    id                TEXT    NOT NULL PRIMARY KEY,
    workspace_id      TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    workflow_id       TEXT    NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    workflow_version  INTEGER NOT NULL,
    number            INTEGER NOT NULL,
    display_id        TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'halted', 'compensating', 'compensated')),
    trigger_type      TEXT    NOT NULL,
    started_by        TEXT    NULL,
    input             TEXT    NOT NULL,
    context           TEXT    NOT NULL,
    output            TEXT    NULL,
    error             TEXT    NULL,
    links             TEXT    NOT NULL,
    parent_run_id     TEXT    NULL,
    parent_step_id    TEXT    NULL,
    idempotency_key   TEXT    NULL,
    halt_requested    INTEGER NOT NULL,
    created_at        TEXT    NOT NULL,
    started_at        TEXT    NULL,
    finished_at       TEXT    NULL,
    updated_at        TEXT    NOT NULL,
    version           INTEGER NOT NULL
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
    run_id           TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id          TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'queued', 'running', 'waiting', 'retrying', 'succeeded', 'failed', 'skipped', 'cancelled', 'compensating', 'compensated', 'compensation_failed')),
    attempts         INTEGER NOT NULL,
    iteration        INTEGER NOT NULL,
    output           TEXT    NULL,
    error            TEXT    NULL,
    completed_order  INTEGER NULL,
    started_at       TEXT    NULL,
    finished_at      TEXT    NULL,
    PRIMARY KEY (run_id, step_id)
);

-- One row per attempt. Workers lease queued rows whose time has come; a finished row stays as the attempt's record.
CREATE TABLE tasks (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id            TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    workspace_id      TEXT    NOT NULL,
    step_id           TEXT    NOT NULL,
    kind              TEXT    NOT NULL CHECK (kind IN ('step', 'timer', 'compensation')),
    iteration         INTEGER NOT NULL,
    attempt           INTEGER NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('queued', 'leased', 'succeeded', 'failed', 'abandoned', 'cancelled')),
    available_at      TEXT    NOT NULL,
    lease_owner       TEXT    NULL,
    lease_expires_at  TEXT    NULL,
    started_at        TEXT    NULL,
    finished_at       TEXT    NULL,
    error             TEXT    NULL,
    created_at        TEXT    NOT NULL
);
-- The hot path: only queued rows are in this index, so finished history never slows leasing.
CREATE INDEX ix_tasks_queued ON tasks (available_at, id) WHERE status = 'queued';
CREATE INDEX ix_tasks_leased ON tasks (lease_expires_at) WHERE status = 'leased';
CREATE INDEX ix_tasks_run_id ON tasks (run_id, id);

CREATE TABLE run_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id        TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    workspace_id  TEXT    NOT NULL,
    type          TEXT    NOT NULL,
    data          TEXT    NOT NULL,
    created_at    TEXT    NOT NULL
);
CREATE INDEX ix_run_events_run_id_id ON run_events (run_id, id);
CREATE INDEX ix_run_events_workspace_id_id ON run_events (workspace_id, id);

-- A question to people that an approval step waits on. Approvers are team or user IDs; a decision
-- is one person's, once, and the approval settles when the quorum approves or any approver rejects.
CREATE TABLE approvals (
    id                TEXT    NOT NULL PRIMARY KEY,
    workspace_id      TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    run_id            TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id           TEXT    NOT NULL,
    iteration         INTEGER NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
    quorum            INTEGER NOT NULL,
    deadline          TEXT    NULL,
    escalations       INTEGER NOT NULL,
    summary           TEXT    NOT NULL,
    outcome_reason    TEXT    NULL,
    created_at        TEXT    NOT NULL,
    decided_at        TEXT    NULL,
    version           INTEGER NOT NULL
);
CREATE INDEX ix_approvals_workspace_id_id ON approvals (workspace_id, id);
CREATE INDEX ix_approvals_run_id ON approvals (run_id);

-- Who may decide (a team or user ID each), so the inbox is one indexed join.
CREATE TABLE approval_approvers (
    approval_id  TEXT    NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    approver_id  TEXT    NOT NULL,
    PRIMARY KEY (approval_id, approver_id)
);
CREATE INDEX ix_approval_approvers_approver_id ON approval_approvers (approver_id);

CREATE TABLE approval_decisions (
    approval_id  TEXT    NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    user_id      TEXT    NOT NULL,
    decision     TEXT    NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment      TEXT    NULL,
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (approval_id, user_id)
);

-- Events emitted into a workspace (by emit_event steps; later by the API and webhooks), kept as
-- the record of what happened and for the trigger dispatcher.
CREATE TABLE events (
    id                TEXT    NOT NULL PRIMARY KEY,
    workspace_id      TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    type              TEXT    NOT NULL,
    source            TEXT    NULL,
    payload           TEXT    NOT NULL,
    emitted_by_run    TEXT    NULL,
    emitted_by_step   TEXT    NULL,
    created_at        TEXT    NOT NULL
);
CREATE INDEX ix_events_workspace_id_id ON events (workspace_id, id);

-- A wait_for_event step waiting: matched against each event emitted after it began; the event that
-- matches is claimed here in the emitting transaction, so the step wakes with exactly that event.
CREATE TABLE event_waits (
    run_id        TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id       TEXT    NOT NULL,
    iteration     INTEGER NOT NULL,
    attempt       INTEGER NOT NULL,
    workspace_id  TEXT    NOT NULL,
    event_type    TEXT    NOT NULL,
    filters       TEXT    NULL,
    event_id      TEXT    NULL,
    deadline      TEXT    NULL,
    created_at    TEXT    NOT NULL,
    PRIMARY KEY (run_id, step_id, iteration)
);
CREATE INDEX ix_event_waits_open ON event_waits (workspace_id, event_type) WHERE event_id IS NULL;
