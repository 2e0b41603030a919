-- Schema 7: triggers and integrations (issue 8).

-- Workspace secrets.
-- Values are encrypted with AES-256-GCM under the instance's encryption key (CADRE_ENCRYPTION_KEY
-- or the data directory's key file), never by the database: ciphertext is the format byte, the
-- 96-bit nonce, the encrypted value and the 128-bit tag; key_id names the key that sealed it, so
-- a rotation finds what is still under an old key. The associated data binds each value to its
-- workspace and name: a ciphertext copied into another row does not decrypt.
CREATE TABLE secrets (
    id            text COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          text COLLATE "C" NOT NULL,
    description   text        NULL,
    ciphertext    bytea       NOT NULL,
    key_id        text COLLATE "C" NOT NULL,
    version       integer     NOT NULL,
    created_by    text        NULL,
    updated_by    text        NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX ix_secrets_workspace_id_name ON secrets (workspace_id, name);
CREATE INDEX ix_secrets_key_id ON secrets (key_id);
