-- Customers, their logins, accounts, sessions and login throttling: the SQLite edition.
--
-- Column names are identical to the PostgreSQL schema (crates/store-postgres/migrations), so
-- both adapters map the same rows. SQLite has no uuid, timestamptz or date types, hence:
--   * ids are UUIDv7 as 16-byte BLOBs: their byte order is their time order, so
--     `ORDER BY id DESC` lists newest first;
--   * instants are TEXT in one fixed-width UTC form, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (written by
--     the adapter, microsecond precision like PostgreSQL), so text order is time order;
--   * dates are TEXT `YYYY-MM-DD`.
-- Tables are STRICT so that a value of the wrong type is refused rather than stored.

CREATE TABLE customers (
    id                  BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    first_name          TEXT    NOT NULL,
    last_name           TEXT    NOT NULL,
    email               TEXT    NOT NULL,
    birth_date          TEXT    NOT NULL,
    address_line1       TEXT    NOT NULL,
    address_line2       TEXT,
    address_postal_code TEXT    NOT NULL,
    address_city        TEXT    NOT NULL,
    address_country     TEXT    NOT NULL,
    kyc_status          TEXT    NOT NULL CHECK (kyc_status IN ('PENDING', 'VERIFIED', 'REJECTED')),
    kyc_reason          TEXT,
    version             INTEGER NOT NULL CHECK (version >= 1),
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    -- lower('first_name last_name email'), what the list's `q` filter searches. Written by the
    -- adapter, not generated, because SQLite's lower() folds ASCII letters only ('É' would stay
    -- upper case). `LIKE '%q%'` cannot use a B-tree index, so the embedded engine scans this
    -- column; PostgreSQL has a trigram index for it.
    search_text         TEXT    NOT NULL
) STRICT;

CREATE UNIQUE INDEX customers_email_key ON customers (email);
CREATE INDEX customers_kyc_status_id ON customers (kyc_status, id);

CREATE TABLE users (
    id            BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    username      TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('customer', 'teller', 'admin', 'auditor')),
    customer_id   BLOB REFERENCES customers (id),
    created_at    TEXT NOT NULL,
    -- A customer's login is tied to exactly one customer; staff logins to none.
    CHECK ((role = 'customer') = (customer_id IS NOT NULL))
) STRICT;

CREATE UNIQUE INDEX users_username_key ON users (username);
CREATE UNIQUE INDEX users_customer_id_key ON users (customer_id);

CREATE TABLE accounts (
    id                    BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    customer_id           BLOB    NOT NULL REFERENCES customers (id),
    iban                  TEXT    NOT NULL,
    bic                   TEXT    NOT NULL,
    type                  TEXT    NOT NULL CHECK (type IN ('COURANT', 'EPARGNE', 'LIVRET_A')),
    status                TEXT    NOT NULL CHECK (status IN ('PENDING_KYC', 'ACTIVE', 'FROZEN', 'CLOSED')),
    currency              TEXT    NOT NULL CHECK (length(currency) = 3),
    nickname              TEXT,
    status_reason         TEXT,
    balance_minor         INTEGER NOT NULL,
    overdraft_limit_minor INTEGER NOT NULL CHECK (overdraft_limit_minor >= 0),
    version               INTEGER NOT NULL CHECK (version >= 1),
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    closed_at             TEXT,
    -- A closed account says when it closed, and only a closed one does.
    CHECK ((status = 'CLOSED') = (closed_at IS NOT NULL))
) STRICT;

CREATE UNIQUE INDEX accounts_iban_key ON accounts (iban);
-- French law: one open Livret A per person. Closed ones are kept and do not count.
CREATE UNIQUE INDEX accounts_one_open_livret_a ON accounts (customer_id)
    WHERE type = 'LIVRET_A' AND status <> 'CLOSED';
-- One index per list filter, each ending in id so that a filtered page is read newest first
-- straight from the index.
CREATE INDEX accounts_customer_id_id ON accounts (customer_id, id);
CREATE INDEX accounts_type_id ON accounts (type, id);
CREATE INDEX accounts_status_id ON accounts (status, id);

CREATE TABLE sessions (
    -- Hex SHA-256 of the session token: the token itself is never stored.
    token_hash      TEXT NOT NULL PRIMARY KEY,
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token_hash TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    expires_at      TEXT NOT NULL
) STRICT;

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE login_throttle (
    -- `user:<name>` or `ip:<address>`.
    key               TEXT    NOT NULL PRIMARY KEY,
    failures          INTEGER NOT NULL CHECK (failures >= 0),
    window_started_at TEXT    NOT NULL,
    locked_until      TEXT
) STRICT;
