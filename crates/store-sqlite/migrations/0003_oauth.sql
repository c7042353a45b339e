-- The OAuth2 authorization server: clients, authorization codes, refresh tokens and revoked
-- access tokens: the SQLite edition. Same columns as the PostgreSQL schema; see 0001 for how
-- ids and instants are stored. Secrets (client secrets, codes, refresh tokens) are never
-- stored, only their hashes.

CREATE TABLE oauth_clients (
    id              BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    name            TEXT    NOT NULL,
    client_type     TEXT    NOT NULL CHECK (client_type IN ('confidential', 'public')),
    -- JSON arrays of strings: SQLite has no array type.
    redirect_uris   TEXT    NOT NULL CHECK (json_valid(redirect_uris) AND json_type(redirect_uris) = 'array'),
    grants          TEXT    NOT NULL CHECK (json_valid(grants) AND json_type(grants) = 'array'),
    -- Space-separated, as OAuth2 writes scopes.
    scope           TEXT    NOT NULL,
    first_party     INTEGER NOT NULL CHECK (first_party IN (0, 1)),
    service_user_id BLOB REFERENCES users (id),
    -- Argon2 PHC hash of the secret: confidential clients have one, public clients none.
    secret_hash     TEXT,
    created_at      TEXT    NOT NULL,
    CHECK ((client_type = 'confidential') = (secret_hash IS NOT NULL))
) STRICT;

CREATE TABLE oauth_authorization_codes (
    -- Hex SHA-256 of the code.
    code_hash      TEXT NOT NULL PRIMARY KEY,
    client_id      BLOB NOT NULL REFERENCES oauth_clients (id),
    user_id        BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce          TEXT,
    amr            TEXT NOT NULL,
    auth_time      TEXT NOT NULL,
    expires_at     TEXT NOT NULL
) STRICT;

CREATE INDEX oauth_authorization_codes_expires_at ON oauth_authorization_codes (expires_at);

-- Every token ever issued in a family stays until it expires: presenting a used one again is
-- how a replay is detected, and revokes the whole family.
CREATE TABLE oauth_refresh_tokens (
    -- Hex SHA-256 of the token.
    token_hash TEXT NOT NULL PRIMARY KEY,
    family_id  BLOB NOT NULL CHECK (length(family_id) = 16),
    client_id  BLOB NOT NULL REFERENCES oauth_clients (id),
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    amr        TEXT NOT NULL,
    auth_time  TEXT NOT NULL,
    issued_at  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    revoked_at TEXT
) STRICT;

CREATE INDEX oauth_refresh_tokens_family_id ON oauth_refresh_tokens (family_id);
CREATE INDEX oauth_refresh_tokens_user_id ON oauth_refresh_tokens (user_id);
CREATE INDEX oauth_refresh_tokens_expires_at ON oauth_refresh_tokens (expires_at);

-- Access tokens revoked before their expiry; a row is of no use once the token has expired.
CREATE TABLE revoked_access_tokens (
    jti        BLOB NOT NULL PRIMARY KEY CHECK (length(jti) = 16),
    expires_at TEXT NOT NULL
) STRICT;

CREATE INDEX revoked_access_tokens_expires_at ON revoked_access_tokens (expires_at);
