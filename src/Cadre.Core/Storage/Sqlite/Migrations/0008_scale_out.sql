-- Schema 8: scale-out (issue 9): many nodes on one database. One section per part.
-- compatible-with: 7
-- Every section keeps this script additive (new tables; new columns nullable or with a default; new
-- indexes), so nodes of schema 7 keep working on it during an upgrade. Builds of schema 7 predate the
-- compatible-with rule: once this is applied they keep running, but refuse to restart.

-- Rolling upgrades: each applied migration records the oldest schema version whose builds may still
-- run on the database (its "-- compatible-with: N" line; NULL: only builds that know it).
ALTER TABLE cadre_schema_migrations ADD COLUMN compatible_with INTEGER NULL;

-- Retention (finished runs, dispatched events and settled webhook deliveries deleted after a period).
-- The sweep looks per workspace for what finished before its cutoff, oldest first.
CREATE INDEX ix_runs_workspace_id_finished_at ON runs (workspace_id, finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX ix_events_workspace_id_created_at ON events (workspace_id, created_at);
CREATE INDEX ix_webhook_deliveries_workspace_id_finished_at ON webhook_deliveries (workspace_id, finished_at) WHERE finished_at IS NOT NULL;
-- Deleting a run cascades to its session notes: without this, each deleted run would scan the table.
CREATE INDEX ix_persona_memories_run_id ON persona_memories (run_id) WHERE run_id IS NOT NULL;
-- An event a waiting step claimed but has not read yet is kept (the step reads it when it wakes).
CREATE INDEX ix_event_waits_event_id ON event_waits (event_id) WHERE event_id IS NOT NULL;

-- Nodes (issue 9: the registry of Cadre processes and their roles). Each node writes its row at
-- start, moves last_heartbeat_at on every few seconds and sets stopped_at on a clean shutdown. Its id
-- is the lease owner on the tasks it leases (tasks.lease_owner). On SQLite there is one node (role
-- 'all'); its rows from earlier starts show as stopped, or dead after a kill, for a day.
CREATE TABLE nodes (
    id                 TEXT    NOT NULL PRIMARY KEY,
    name               TEXT    NOT NULL,
    role               TEXT    NOT NULL CHECK (role IN ('all', 'api', 'worker')),
    version            TEXT    NOT NULL,
    started_at         TEXT    NOT NULL,
    last_heartbeat_at  TEXT    NOT NULL,
    tasks_in_flight    INTEGER NOT NULL,
    stopped_at         TEXT    NULL
);

-- Queue (issue 9): leases take turns across workspaces by walking this index one workspace at a
-- time (a loose index scan), so a lease costs the same whatever the backlog and the history.
CREATE INDEX ix_tasks_queued_turns ON tasks (workspace_id, available_at, id) WHERE status = 'queued';
