-- Second factors: each user's TOTP enrolment and the logins waiting for their second factor,
-- and how each session was authenticated: the SQLite edition. Same columns as the PostgreSQL
-- schema; see 0001 for how ids and instants are stored.

-- How the session's user authenticated, space-separated RFC 8176 values (`pwd`, `pwd otp mfa`).
-- Every session opened before this migration was a password login.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';

-- One enrolment per user: started when the row appears, enabled once confirmed. The secret
-- must be readable to check codes, so unlike every other secret here it is stored as is.
CREATE TABLE user_totp (
    user_id              BLOB    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret               BLOB    NOT NULL,
    confirmed_at         TEXT,
    -- The TOTP step of the last code accepted: a code of that step or before is refused, so
    -- that each code works once.
    last_used_step       INTEGER,
    -- JSON array of the hex SHA-256 of each recovery code not used yet.
    recovery_code_hashes TEXT    NOT NULL
        CHECK (json_valid(recovery_code_hashes) AND json_type(recovery_code_hashes) = 'array'),
    created_at           TEXT    NOT NULL
) STRICT;

-- A login whose password was right, waiting for its second factor: short-lived, and of no use
-- once expired (the purge deletes it).
CREATE TABLE mfa_challenges (
    -- Hex SHA-256 of the challenge token.
    token_hash TEXT NOT NULL PRIMARY KEY,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL
) STRICT;

CREATE INDEX mfa_challenges_expires_at ON mfa_challenges (expires_at);
