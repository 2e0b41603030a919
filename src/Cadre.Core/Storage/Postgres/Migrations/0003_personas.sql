-- Cadre schema version 3 (PostgreSQL): personas, their labels (for filters), versions and drafts, and
-- full-text search over them with a generated tsvector column and a GIN index.

CREATE TABLE personas (
    id             text COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id   text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name           text COLLATE "C" NOT NULL,
    display_name   text        NOT NULL,
    description    text        NULL,
    instructions   text        NOT NULL,
    provider       text        NULL,
    model          text        NULL,
    definition     text        NOT NULL,
    version        integer     NOT NULL,
    created_by     text        NULL,
    updated_by     text        NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    deleted_at     timestamptz NULL,
    deleted_by     text        NULL,
    -- 'simple': no stemming or stop words, so names and jargon match as typed (with prefixes).
    search_vector  tsvector GENERATED ALWAYS AS (to_tsvector('simple',
        name || ' ' || display_name || ' ' || coalesce(description, '') || ' ' || instructions)) STORED
);
-- A name is unique among the workspace's live personas; a deleted one's name may be reused.
CREATE UNIQUE INDEX ix_personas_workspace_id_name ON personas (workspace_id, name) WHERE deleted_at IS NULL;
CREATE INDEX ix_personas_workspace_id_id ON personas (workspace_id, id);
CREATE INDEX ix_personas_workspace_id_display_name_id ON personas (workspace_id, display_name, id);
CREATE INDEX ix_personas_workspace_id_updated_at_id ON personas (workspace_id, updated_at, id);
CREATE INDEX ix_personas_workspace_id_provider_model ON personas (workspace_id, provider, model);
CREATE INDEX ix_personas_search_vector ON personas USING gin (search_vector);

CREATE TABLE persona_labels (
    persona_id    text COLLATE "C" NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('department', 'tag', 'flag', 'parameter')),
    value         text NOT NULL,
    workspace_id  text COLLATE "C" NOT NULL,
    PRIMARY KEY (persona_id, kind, value)
);
CREATE INDEX ix_persona_labels_workspace_id_kind_value ON persona_labels (workspace_id, kind, value);

CREATE TABLE persona_versions (
    persona_id  text COLLATE "C" NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    version     integer     NOT NULL,
    definition  text        NOT NULL,
    change      text        NOT NULL CHECK (change IN ('created', 'updated', 'published', 'reverted', 'restored', 'imported')),
    created_by  text        NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (persona_id, version)
);

CREATE TABLE persona_drafts (
    persona_id    text COLLATE "C" NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    owner_id      text COLLATE "C" NOT NULL,
    workspace_id  text COLLATE "C" NOT NULL,
    definition    text        NOT NULL,
    base_version  integer     NOT NULL,
    revision      integer     NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (persona_id, owner_id)
);
CREATE INDEX ix_persona_drafts_workspace_id_owner_id ON persona_drafts (workspace_id, owner_id);
