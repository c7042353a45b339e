-- Customers, their logins, accounts, sessions and login throttling: the PostgreSQL edition.
--
-- Column names are identical to the SQLite schema (crates/store-sqlite/migrations), so both
-- adapters map the same rows. Ids are UUIDv7, so `ORDER BY id DESC` lists newest first.
-- Constraint and index names are part of the adapter: it maps a unique violation to its
-- meaning by name (see src/error.rs).

-- Trigram indexes make the customer search (`q`, a substring anywhere) an index scan.
-- pg_trgm ships with PostgreSQL and is a trusted extension (a database owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE customers (
    id                  uuid        NOT NULL PRIMARY KEY,
    first_name          text        NOT NULL,
    last_name           text        NOT NULL,
    email               text        NOT NULL,
    birth_date          date        NOT NULL,
    address_line1       text        NOT NULL,
    address_line2       text,
    address_postal_code text        NOT NULL,
    address_city        text        NOT NULL,
    address_country     text        NOT NULL,
    kyc_status          text        NOT NULL CHECK (kyc_status IN ('PENDING', 'VERIFIED', 'REJECTED')),
    kyc_reason          text,
    version             bigint      NOT NULL CHECK (version >= 1),
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    -- lower('first_name last_name email'), what the list's `q` filter searches. Written by the
    -- adapter (coffre_store_sql::listing::search_text), not generated, so that it is lower-cased
    -- by the same Rust code as the query and as SQLite's column: SQL lower() depends on the
    -- database's LC_CTYPE, and under 'C' folds ASCII letters only ('É' would stay upper case).
    search_text         text        NOT NULL,
    CONSTRAINT customers_email_key UNIQUE (email)
);

CREATE INDEX customers_kyc_status_id ON customers (kyc_status, id);
CREATE INDEX customers_search_text_trgm ON customers USING gin (search_text gin_trgm_ops);

CREATE TABLE users (
    id            uuid        NOT NULL PRIMARY KEY,
    username      text        NOT NULL,
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('customer', 'teller', 'admin', 'auditor')),
    customer_id   uuid        REFERENCES customers (id),
    created_at    timestamptz NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_customer_id_key UNIQUE (customer_id),
    -- A customer's login is tied to exactly one customer; staff logins to none.
    CONSTRAINT users_customer_role CHECK ((role = 'customer') = (customer_id IS NOT NULL))
);

CREATE TABLE accounts (
    id                    uuid        NOT NULL PRIMARY KEY,
    customer_id           uuid        NOT NULL REFERENCES customers (id),
    iban                  text        NOT NULL,
    bic                   text        NOT NULL,
    type                  text        NOT NULL CHECK (type IN ('COURANT', 'EPARGNE', 'LIVRET_A')),
    status                text        NOT NULL CHECK (status IN ('PENDING_KYC', 'ACTIVE', 'FROZEN', 'CLOSED')),
    currency              text        NOT NULL CHECK (length(currency) = 3),
    nickname              text,
    status_reason         text,
    balance_minor         bigint      NOT NULL,
    overdraft_limit_minor bigint      NOT NULL CHECK (overdraft_limit_minor >= 0),
    version               bigint      NOT NULL CHECK (version >= 1),
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    closed_at             timestamptz,
    CONSTRAINT accounts_iban_key UNIQUE (iban),
    -- A closed account says when it closed, and only a closed one does.
    CONSTRAINT accounts_closed_at CHECK ((status = 'CLOSED') = (closed_at IS NOT NULL))
);

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
    token_hash      text        NOT NULL PRIMARY KEY,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token_hash text        NOT NULL,
    created_at      timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL
);

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE login_throttle (
    -- `user:<name>` or `ip:<address>`.
    key               text        NOT NULL PRIMARY KEY,
    failures          bigint      NOT NULL CHECK (failures >= 0),
    window_started_at timestamptz NOT NULL,
    locked_until      timestamptz
);
