-- Schema 8: scale-out (issue 9): many nodes on one database. One section per part.

-- Queue (issue 9): leases take turns across workspaces by walking this index one workspace at a
-- time (a loose index scan), so a lease costs the same whatever the backlog and the history.
CREATE INDEX ix_tasks_queued_turns ON tasks (workspace_id, available_at, id) WHERE status = 'queued';
