-- Second factors: each user's TOTP enrolment and the logins waiting for their second factor,
-- and how each session was authenticated: the PostgreSQL edition. Same columns as the SQLite
-- schema.

-- How the session's user authenticated, space-separated RFC 8176 values (`pwd`, `pwd otp mfa`).
-- Every session opened before this migration was a password login.
ALTER TABLE sessions ADD COLUMN amr text NOT NULL DEFAULT 'pwd';

-- One enrolment per user: started when the row appears, enabled once confirmed. The secret
-- must be readable to check codes, so unlike every other secret here it is stored as is.
-- Updates hold the user's row lock (see src/mfa.rs), so that one code is never accepted twice.
CREATE TABLE user_totp (
    user_id              uuid        NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret               bytea       NOT NULL,
    confirmed_at         timestamptz,
    -- The TOTP step of the last code accepted: a code of that step or before is refused, so
    -- that each code works once.
    last_used_step       bigint,
    -- The hex SHA-256 of each recovery code not used yet, as a JSON array. jsonb rather than
    -- text[] or text: the server checks that it is an array (as SQLite's json_valid check
    -- does), and both engines then read and write it as the same JSON value, one row type.
    recovery_code_hashes jsonb       NOT NULL CHECK (jsonb_typeof(recovery_code_hashes) = 'array'),
    created_at           timestamptz NOT NULL
);

-- A login whose password was right, waiting for its second factor: short-lived, and of no use
-- once expired (the purge deletes it).
CREATE TABLE mfa_challenges (
    -- Hex SHA-256 of the challenge token.
    token_hash text        NOT NULL PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL
);

CREATE INDEX mfa_challenges_expires_at ON mfa_challenges (expires_at);
