-- Cadre schema version 6 (PostgreSQL): model providers per workspace, the workspace's price
-- overrides, and each run's token usage and cost.

CREATE TABLE model_providers (
    id                 text COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id       text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name               text COLLATE "C" NOT NULL,
    kind               text        NOT NULL CHECK (kind IN ('openai', 'anthropic', 'mock')),
    base_url           text        NULL,
    -- Encrypted with the instance's key ring; never returned.
    api_key_protected  text        NULL,
    api_key_hint       text        NULL,
    default_model      text        NULL,
    timeout_seconds    integer     NOT NULL,
    max_retries        integer     NOT NULL,
    version            integer     NOT NULL,
    created_by         text        NULL,
    updated_by         text        NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
CREATE UNIQUE INDEX ix_model_providers_workspace_id_name ON model_providers (workspace_id, name);

-- Prices in millionths of a US dollar per million tokens (2.5 $/M tokens is 2500000).
CREATE TABLE model_prices (
    workspace_id                 text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    model                        text COLLATE "C" NOT NULL,
    input_micros_per_mtok        bigint      NOT NULL,
    output_micros_per_mtok       bigint      NOT NULL,
    cached_input_micros_per_mtok bigint      NOT NULL,
    updated_by                   text        NULL,
    updated_at                   timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, model)
);

-- Cost in billionths of a US dollar, so a ten-token call on a cheap model still counts.
ALTER TABLE runs ADD COLUMN input_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN output_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN cached_input_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN cost_nanos bigint NOT NULL DEFAULT 0;

-- An attempt's progress inside a long step (an agent's conversation after each turn and tool
-- call), so a redelivered attempt resumes where the lost one stopped. Keyed by the attempt's
-- idempotency key.
CREATE TABLE step_checkpoints (
    run_id       text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    attempt_key  text COLLATE "C" NOT NULL,
    state        text        NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (run_id, attempt_key)
);

-- What a persona remembers: notes the agent (or a person) wrote, for the whole persona
-- (run_id NULL, memory mode persistent) or one run's conversation (memory mode session).
CREATE TABLE persona_memories (
    id               text COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id     text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    persona_id       text COLLATE "C" NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    run_id           text COLLATE "C" NULL REFERENCES runs (id) ON DELETE CASCADE,
    content          text        NOT NULL,
    source           text        NOT NULL CHECK (source IN ('agent', 'auto', 'person')),
    -- A note the agent wrote once per tool call, however often a resumed attempt replays it.
    idempotency_key  text COLLATE "C" NULL,
    created_by       text        NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX ix_persona_memories_idempotency ON persona_memories (persona_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX ix_persona_memories_persona_id_id ON persona_memories (persona_id, id);

-- Checks run around model calls: on what goes in (the prompt), what comes out (the answer), or both.
CREATE TABLE guardrails (
    id            text COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          text COLLATE "C" NOT NULL,
    description   text        NULL,
    stage         text        NOT NULL CHECK (stage IN ('input', 'output', 'both')),
    kind          text        NOT NULL,
    config        text        NOT NULL,
    action        text        NOT NULL CHECK (action IN ('block', 'redact', 'warn')),
    -- Labels (a JSON array) a workflow's guardrailTags select by.
    tags          text        NOT NULL DEFAULT '[]',
    version       integer     NOT NULL,
    created_by    text        NULL,
    updated_by    text        NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX ix_guardrails_workspace_id_name ON guardrails (workspace_id, name);

-- Tools agents may call, defined by the workspace (kind http: a request template; kind mcp: an MCP
-- server's tools over streamable HTTP). The auth
-- header's value is encrypted and never returned.
CREATE TABLE skills (
    id              text COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id    text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name            text COLLATE "C" NOT NULL,
    description     text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('http', 'mcp')),
    config          text        NOT NULL,
    auth_header     text        NULL,
    auth_protected  text        NULL,
    -- Labels (a JSON array) a workflow's skillTags select by.
    tags            text        NOT NULL DEFAULT '[]',
    -- Who must approve a call of the skill's tools before it runs (a step's approval shape, JSON).
    approval        text        NULL,
    version         integer     NOT NULL,
    created_by      text        NULL,
    updated_by      text        NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX ix_skills_workspace_id_name ON skills (workspace_id, name);

-- An approval an agent asked for before a tool call keeps the tool's settings (the step has none).
ALTER TABLE approvals ADD COLUMN spec text NULL;

-- An event's de-duplication key: the same key in a workspace is the same event (an agent's
-- emit_event call replayed after a crash emits once).
ALTER TABLE events ADD COLUMN idempotency_key text COLLATE "C" NULL;
CREATE UNIQUE INDEX ix_events_workspace_id_idempotency_key ON events (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
