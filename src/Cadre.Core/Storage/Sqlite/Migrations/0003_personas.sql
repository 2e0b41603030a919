-- Cadre schema version 3 (SQLite): personas, their labels (for filters), versions and drafts, and
-- full-text search over them with FTS5, kept in step by triggers.

CREATE TABLE personas (
    id             TEXT    NOT NULL PRIMARY KEY,
    workspace_id   TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    display_name   TEXT    NOT NULL,
    description    TEXT    NULL,
    instructions   TEXT    NOT NULL,
    provider       TEXT    NULL,
    model          TEXT    NULL,
    definition     TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    created_by     TEXT    NULL,
    updated_by     TEXT    NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    deleted_at     TEXT    NULL,
    deleted_by     TEXT    NULL
);
-- A name is unique among the workspace's live personas; a deleted one's name may be reused.
CREATE UNIQUE INDEX ix_personas_workspace_id_name ON personas (workspace_id, name) WHERE deleted_at IS NULL;
CREATE INDEX ix_personas_workspace_id_id ON personas (workspace_id, id);
CREATE INDEX ix_personas_workspace_id_display_name_id ON personas (workspace_id, display_name, id);
CREATE INDEX ix_personas_workspace_id_updated_at_id ON personas (workspace_id, updated_at, id);
CREATE INDEX ix_personas_workspace_id_provider_model ON personas (workspace_id, provider, model);

CREATE TABLE persona_labels (
    persona_id    TEXT NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('department', 'tag', 'flag', 'parameter')),
    value         TEXT NOT NULL,
    workspace_id  TEXT NOT NULL,
    PRIMARY KEY (persona_id, kind, value)
);
CREATE INDEX ix_persona_labels_workspace_id_kind_value ON persona_labels (workspace_id, kind, value);

CREATE TABLE persona_versions (
    persona_id  TEXT    NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    definition  TEXT    NOT NULL,
    change      TEXT    NOT NULL CHECK (change IN ('created', 'updated', 'published', 'reverted', 'restored', 'imported')),
    created_by  TEXT    NULL,
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (persona_id, version)
);

CREATE TABLE persona_drafts (
    persona_id    TEXT    NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    owner_id      TEXT    NOT NULL,
    workspace_id  TEXT    NOT NULL,
    definition    TEXT    NOT NULL,
    base_version  INTEGER NOT NULL,
    revision      INTEGER NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    PRIMARY KEY (persona_id, owner_id)
);
CREATE INDEX ix_persona_drafts_workspace_id_owner_id ON persona_drafts (workspace_id, owner_id);

-- Full-text search with FTS5. Its rows are keyed by a stable integer from persona_search_keys (an
-- INTEGER PRIMARY KEY survives VACUUM; a plain table's rowid may not), so the triggers find a persona's
-- row by key instead of scanning the index.
CREATE TABLE persona_search_keys (
    search_id   INTEGER PRIMARY KEY,
    persona_id  TEXT    NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE personas_fts USING fts5(
    name, display_name, description, instructions,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER personas_fts_insert AFTER INSERT ON personas BEGIN
    INSERT INTO persona_search_keys (persona_id) VALUES (new.id);
    INSERT INTO personas_fts (rowid, name, display_name, description, instructions)
    VALUES ((SELECT search_id FROM persona_search_keys WHERE persona_id = new.id), new.name, new.display_name, new.description, new.instructions);
END;
CREATE TRIGGER personas_fts_update AFTER UPDATE OF name, display_name, description, instructions ON personas BEGIN
    UPDATE personas_fts
    SET name = new.name, display_name = new.display_name, description = new.description, instructions = new.instructions
    WHERE rowid = (SELECT search_id FROM persona_search_keys WHERE persona_id = new.id);
END;
CREATE TRIGGER personas_fts_delete AFTER DELETE ON personas BEGIN
    DELETE FROM personas_fts WHERE rowid = (SELECT search_id FROM persona_search_keys WHERE persona_id = old.id);
    DELETE FROM persona_search_keys WHERE persona_id = old.id;
END;
