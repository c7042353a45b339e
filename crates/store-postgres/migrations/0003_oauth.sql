-- The OAuth2 authorization server: clients, authorization codes, refresh tokens and revoked
-- access tokens: the PostgreSQL edition. Same columns as the SQLite schema. Secrets (client
-- secrets, codes, refresh tokens) are never stored, only their hashes.

CREATE TABLE oauth_clients (
    id              uuid        NOT NULL PRIMARY KEY,
    name            text        NOT NULL,
    client_type     text        NOT NULL CHECK (client_type IN ('confidential', 'public')),
    redirect_uris   text[]      NOT NULL,
    grants          text[]      NOT NULL
        CHECK (grants <@ ARRAY['authorization_code', 'refresh_token', 'client_credentials', 'password']),
    -- Space-separated, as OAuth2 writes scopes.
    scope           text        NOT NULL,
    first_party     boolean     NOT NULL,
    service_user_id uuid        REFERENCES users (id),
    -- Argon2 PHC hash of the secret: confidential clients have one, public clients none.
    secret_hash     text,
    created_at      timestamptz NOT NULL,
    CONSTRAINT oauth_clients_secret CHECK ((client_type = 'confidential') = (secret_hash IS NOT NULL))
);

CREATE TABLE oauth_authorization_codes (
    -- Hex SHA-256 of the code.
    code_hash      text        NOT NULL PRIMARY KEY,
    client_id      uuid        NOT NULL REFERENCES oauth_clients (id),
    user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   text        NOT NULL,
    scope          text        NOT NULL,
    code_challenge text        NOT NULL,
    nonce          text,
    amr            text        NOT NULL,
    auth_time      timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL
);

CREATE INDEX oauth_authorization_codes_expires_at ON oauth_authorization_codes (expires_at);

-- Every token ever issued in a family stays until it expires: presenting a used one again is
-- how a replay is detected, and revokes the whole family. Writes to a family's rows hold the
-- family's advisory lock (see src/oauth/refresh.rs).
CREATE TABLE oauth_refresh_tokens (
    -- Hex SHA-256 of the token.
    token_hash text        NOT NULL PRIMARY KEY,
    family_id  uuid        NOT NULL,
    client_id  uuid        NOT NULL REFERENCES oauth_clients (id),
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope      text        NOT NULL,
    amr        text        NOT NULL,
    auth_time  timestamptz NOT NULL,
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz
);

CREATE INDEX oauth_refresh_tokens_family_id ON oauth_refresh_tokens (family_id);
CREATE INDEX oauth_refresh_tokens_user_id ON oauth_refresh_tokens (user_id);
CREATE INDEX oauth_refresh_tokens_expires_at ON oauth_refresh_tokens (expires_at);

-- Access tokens revoked before their expiry; a row is of no use once the token has expired.
CREATE TABLE revoked_access_tokens (
    jti        uuid        NOT NULL PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

CREATE INDEX revoked_access_tokens_expires_at ON revoked_access_tokens (expires_at);
