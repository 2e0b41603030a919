-- Schema 7: triggers and integrations (issue 8).

-- Workspace secrets.
-- Values are encrypted with AES-256-GCM under the instance's encryption key (CADRE_ENCRYPTION_KEY
-- or the data directory's key file), never by the database: ciphertext is the format byte, the
-- 96-bit nonce, the encrypted value and the 128-bit tag; key_id names the key that sealed it, so
-- a rotation finds what is still under an old key. The associated data binds each value to its
-- workspace and name: a ciphertext copied into another row does not decrypt.
CREATE TABLE secrets (
    id            TEXT    NOT NULL PRIMARY KEY,
    workspace_id  TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    description   TEXT    NULL,
    ciphertext    BLOB    NOT NULL,
    key_id        TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    created_by    TEXT    NULL,
    updated_by    TEXT    NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX ix_secrets_workspace_id_name ON secrets (workspace_id, name);
CREATE INDEX ix_secrets_key_id ON secrets (key_id);
