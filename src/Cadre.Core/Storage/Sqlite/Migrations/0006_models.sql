-- Cadre schema version 6 (SQLite): model providers per workspace, the workspace's price overrides,
-- and each run's token usage and cost.

CREATE TABLE model_providers (
    id                 TEXT    NOT NULL PRIMARY KEY,
    workspace_id       TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name               TEXT    NOT NULL,
    kind               TEXT    NOT NULL CHECK (kind IN ('openai', 'anthropic', 'mock')),
    base_url           TEXT    NULL,
    -- Encrypted with the instance's key ring; never returned.
    api_key_protected  TEXT    NULL,
    api_key_hint       TEXT    NULL,
    default_model      TEXT    NULL,
    timeout_seconds    INTEGER NOT NULL,
    max_retries        INTEGER NOT NULL,
    version            INTEGER NOT NULL,
    created_by         TEXT    NULL,
    updated_by         TEXT    NULL,
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL
);
CREATE UNIQUE INDEX ix_model_providers_workspace_id_name ON model_providers (workspace_id, name);

-- Prices in millionths of a US dollar per million tokens (2.5 $/M tokens is 2500000).
CREATE TABLE model_prices (
    workspace_id                TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    model                       TEXT    NOT NULL,
    input_micros_per_mtok       INTEGER NOT NULL,
    output_micros_per_mtok      INTEGER NOT NULL,
    cached_input_micros_per_mtok INTEGER NOT NULL,
    updated_by                  TEXT    NULL,
    updated_at                  TEXT    NOT NULL,
    PRIMARY KEY (workspace_id, model)
);

-- Cost in billionths of a US dollar, so a ten-token call on a cheap model still counts.
ALTER TABLE runs ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN cached_input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN cost_nanos INTEGER NOT NULL DEFAULT 0;

-- An attempt's progress inside a long step (an agent's conversation after each turn and tool
-- call), so a redelivered attempt resumes where the lost one stopped. Keyed by the attempt's
-- idempotency key.
CREATE TABLE step_checkpoints (
    run_id       TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    attempt_key  TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (run_id, attempt_key)
);

-- What a persona remembers: notes the agent (or a person) wrote, for the whole persona
-- (run_id NULL, memory mode persistent) or one run's conversation (memory mode session).
CREATE TABLE persona_memories (
    id               TEXT    NOT NULL PRIMARY KEY,
    workspace_id     TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    persona_id       TEXT    NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    run_id           TEXT    NULL REFERENCES runs (id) ON DELETE CASCADE,
    content          TEXT    NOT NULL,
    source           TEXT    NOT NULL CHECK (source IN ('agent', 'auto', 'person')),
    -- A note the agent wrote once per tool call, however often a resumed attempt replays it.
    idempotency_key  TEXT    NULL,
    created_by       TEXT    NULL,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);
CREATE UNIQUE INDEX ix_persona_memories_idempotency ON persona_memories (persona_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX ix_persona_memories_persona_id_id ON persona_memories (persona_id, id);

-- Checks run around model calls: on what goes in (the prompt), what comes out (the answer), or both.
CREATE TABLE guardrails (
    id            TEXT    NOT NULL PRIMARY KEY,
    workspace_id  TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    description   TEXT    NULL,
    stage         TEXT    NOT NULL CHECK (stage IN ('input', 'output', 'both')),
    kind          TEXT    NOT NULL,
    config        TEXT    NOT NULL,
    action        TEXT    NOT NULL CHECK (action IN ('block', 'redact', 'warn')),
    -- Labels (a JSON array) a workflow's guardrailTags select by.
    tags          TEXT    NOT NULL DEFAULT '[]',
    version       INTEGER NOT NULL,
    created_by    TEXT    NULL,
    updated_by    TEXT    NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX ix_guardrails_workspace_id_name ON guardrails (workspace_id, name);

-- Tools agents may call, defined by the workspace (kind http: a request template; kind mcp: an MCP
-- server's tools over streamable HTTP). The auth
-- header's value is encrypted and never returned.
CREATE TABLE skills (
    id              TEXT    NOT NULL PRIMARY KEY,
    workspace_id    TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('http', 'mcp')),
    config          TEXT    NOT NULL,
    auth_header     TEXT    NULL,
    auth_protected  TEXT    NULL,
    -- Labels (a JSON array) a workflow's skillTags select by.
    tags            TEXT    NOT NULL DEFAULT '[]',
    -- Who must approve a call of the skill's tools before it runs (a step's approval shape, JSON).
    approval        TEXT    NULL,
    version         INTEGER NOT NULL,
    created_by      TEXT    NULL,
    updated_by      TEXT    NULL,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);
CREATE UNIQUE INDEX ix_skills_workspace_id_name ON skills (workspace_id, name);

-- An approval an agent asked for before a tool call keeps the tool's settings (the step has none).
ALTER TABLE approvals ADD COLUMN spec TEXT NULL;

-- An event's de-duplication key: the same key in a workspace is the same event (an agent's
-- emit_event call replayed after a crash emits once).
ALTER TABLE events ADD COLUMN idempotency_key TEXT NULL;
CREATE UNIQUE INDEX ix_events_workspace_id_idempotency_key ON events (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
