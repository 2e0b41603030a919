-- Cadre schema version 2 (PostgreSQL): users, sessions, workspace members, service accounts, teams,
-- invitations, one-time tokens, Data Protection keys. Every API key now has an owner: a user or a
-- service account (the instance admin keys excepted); existing workspace keys each get a service account.

CREATE TABLE users (
    id                text COLLATE "C" NOT NULL PRIMARY KEY,
    email             text        NOT NULL,
    normalized_email  text        NOT NULL,
    display_name      text        NOT NULL,
    avatar_url        text        NULL,
    status            text        NOT NULL CHECK (status IN ('active', 'disabled')),
    instance_role     text        NULL CHECK (instance_role IN ('owner', 'admin')),
    password_hash     text        NULL,
    security_stamp    text        NOT NULL,
    failed_sign_ins   integer     NOT NULL,
    locked_until      timestamptz NULL,
    version           integer     NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    last_sign_in_at   timestamptz NULL
);
CREATE UNIQUE INDEX ix_users_normalized_email ON users (normalized_email);

CREATE TABLE sessions (
    id             text COLLATE "C" NOT NULL PRIMARY KEY,
    user_id        text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    security_stamp text        NOT NULL,
    user_agent     text        NULL,
    ip_address     text        NULL,
    created_at     timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz NULL
);
CREATE INDEX ix_sessions_user_id ON sessions (user_id);
CREATE INDEX ix_sessions_expires_at ON sessions (expires_at);

CREATE TABLE workspace_members (
    workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id       text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          text        NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'operator', 'viewer')),
    added_by      text        NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX ix_workspace_members_user_id ON workspace_members (user_id);

CREATE TABLE service_accounts (
    id            text COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          text        NOT NULL,
    description   text        NULL,
    role          text        NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'operator', 'viewer')),
    status        text        NOT NULL CHECK (status IN ('active', 'disabled')),
    created_by    text        NULL,
    updated_by    text        NULL,
    version       integer     NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX ix_service_accounts_workspace_id_name ON service_accounts (workspace_id, name);

ALTER TABLE api_keys ADD COLUMN user_id text COLLATE "C" NULL REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE api_keys ADD COLUMN service_account_id text COLLATE "C" NULL REFERENCES service_accounts (id) ON DELETE CASCADE;
ALTER TABLE api_keys ADD COLUMN created_by text NULL;
ALTER TABLE api_keys ADD CONSTRAINT ck_api_keys_one_owner CHECK (user_id IS NULL OR service_account_id IS NULL);
CREATE INDEX ix_api_keys_user_id ON api_keys (user_id);
CREATE INDEX ix_api_keys_service_account_id ON api_keys (service_account_id);

-- Existing workspace keys become the keys of one service account each, with the key's role.
INSERT INTO service_accounts (id, workspace_id, name, description, role, status, created_by, version, created_at, updated_at)
SELECT 'sa_' || substr(id, 5), workspace_id, name || ' (' || id || ')', 'Created by the upgrade to schema 2 for a key made before service accounts existed.',
       role, 'active', created_by_key_id, 1, created_at, created_at
FROM api_keys WHERE workspace_id IS NOT NULL;
UPDATE api_keys SET service_account_id = 'sa_' || substr(id, 5) WHERE workspace_id IS NOT NULL;
UPDATE api_keys SET created_by = COALESCE(
    (SELECT creator.service_account_id FROM api_keys AS creator WHERE creator.id = api_keys.created_by_key_id),
    created_by_key_id);

ALTER TABLE workspaces ADD COLUMN created_by text NULL;
ALTER TABLE workspaces ADD COLUMN updated_by text NULL;

CREATE TABLE teams (
    id            text COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          text        NOT NULL,
    description   text        NULL,
    created_by    text        NULL,
    updated_by    text        NULL,
    version       integer     NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX ix_teams_workspace_id_name ON teams (workspace_id, name);

-- A team member is always a member of the team's workspace: leaving the workspace leaves its teams.
CREATE TABLE team_members (
    team_id       text COLLATE "C" NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id       text COLLATE "C" NOT NULL,
    workspace_id  text COLLATE "C" NOT NULL,
    added_by      text        NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (team_id, user_id),
    FOREIGN KEY (workspace_id, user_id) REFERENCES workspace_members (workspace_id, user_id) ON DELETE CASCADE
);
CREATE INDEX ix_team_members_workspace_id_user_id ON team_members (workspace_id, user_id);

CREATE TABLE invitations (
    id                text COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id      text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email             text        NOT NULL,
    normalized_email  text        NOT NULL,
    role              text        NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'operator', 'viewer')),
    token_hash        bytea       NOT NULL,
    created_by        text        NULL,
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    accepted_at       timestamptz NULL,
    accepted_by       text        NULL,
    revoked_at        timestamptz NULL
);
CREATE UNIQUE INDEX ix_invitations_token_hash ON invitations (token_hash);
CREATE INDEX ix_invitations_workspace_id_id ON invitations (workspace_id, id);

CREATE TABLE one_time_tokens (
    id          text COLLATE "C" NOT NULL PRIMARY KEY,
    purpose     text        NOT NULL CHECK (purpose IN ('setup', 'password_reset')),
    user_id     text COLLATE "C" NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  bytea       NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz NULL
);
CREATE UNIQUE INDEX ix_one_time_tokens_token_hash ON one_time_tokens (token_hash);

CREATE TABLE data_protection_keys (
    id             integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    friendly_name  text NULL,
    xml            text NULL
);
