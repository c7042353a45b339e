-- The ledger (transactions, postings, holds, internal accounts), the hash-chained event log and
-- idempotency records: the SQLite edition. Same columns as the PostgreSQL schema; see 0001 for
-- how ids, instants and dates are stored.

-- Daily outgoing limit: the account's own (NULL: the bank's default), and what left it on
-- `outgoing_day` (a UTC date, YYYY-MM-DD), kept on the row so that the check costs no query.
ALTER TABLE accounts ADD COLUMN daily_limit_minor INTEGER CHECK (daily_limit_minor >= 0);
ALTER TABLE accounts ADD COLUMN outgoing_today_minor INTEGER NOT NULL DEFAULT 0 CHECK (outgoing_today_minor >= 0);
ALTER TABLE accounts ADD COLUMN outgoing_day TEXT;

-- The bank's own accounts, one per kind and currency, with fixed UUIDv8 ids (seeded by the
-- adapter at migration time, from the domain's list).
CREATE TABLE internal_accounts (
    id            BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    kind          TEXT    NOT NULL CHECK (kind IN ('cash', 'interbank_settlement', 'card_settlement')),
    currency      TEXT    NOT NULL CHECK (length(currency) = 3),
    balance_minor INTEGER NOT NULL,
    UNIQUE (kind, currency)
) STRICT;

CREATE TABLE transactions (
    id                     BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    type                   TEXT    NOT NULL CHECK (type IN ('DEPOSIT', 'WITHDRAWAL', 'TRANSFER', 'REVERSAL', 'HOLD_CAPTURE')),
    status                 TEXT    NOT NULL CHECK (status IN ('PENDING', 'COMPLETED', 'FAILED', 'REVERSED')),
    amount_minor           INTEGER NOT NULL CHECK (amount_minor > 0),
    currency               TEXT    NOT NULL CHECK (length(currency) = 3),
    source_account_id      BLOB REFERENCES accounts (id),
    destination_account_id BLOB REFERENCES accounts (id),
    counterparty_iban      TEXT,
    label                  TEXT,
    reverses_id            BLOB REFERENCES transactions (id),
    reversed_by_id         BLOB REFERENCES transactions (id),
    hold_id                BLOB,
    created_at             TEXT    NOT NULL,
    completed_at           TEXT
) STRICT;

-- A transaction is reversed at most once.
CREATE UNIQUE INDEX transactions_reverses_key ON transactions (reverses_id) WHERE reverses_id IS NOT NULL;
CREATE INDEX transactions_source_id ON transactions (source_account_id, id);
CREATE INDEX transactions_destination_id ON transactions (destination_account_id, id);
CREATE INDEX transactions_type_id ON transactions (type, id);

-- One row per posting. `entry_id` increases in booking order per account (the account's lock
-- is held when it is assigned), so it orders statements and is their cursor.
CREATE TABLE postings (
    entry_id            INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    transaction_id      BLOB    NOT NULL REFERENCES transactions (id),
    line                INTEGER NOT NULL CHECK (line >= 0),
    account_id          BLOB    NOT NULL CHECK (length(account_id) = 16),
    direction           TEXT    NOT NULL CHECK (direction IN ('DEBIT', 'CREDIT')),
    amount_minor        INTEGER NOT NULL CHECK (amount_minor > 0),
    currency            TEXT    NOT NULL CHECK (length(currency) = 3),
    balance_after_minor INTEGER NOT NULL,
    booked_at           TEXT    NOT NULL,
    UNIQUE (transaction_id, line)
) STRICT;

CREATE INDEX postings_account_entry ON postings (account_id, entry_id);
CREATE INDEX postings_account_booked ON postings (account_id, booked_at, entry_id);

CREATE TABLE holds (
    id                     BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    account_id             BLOB    NOT NULL REFERENCES accounts (id),
    amount_minor           INTEGER NOT NULL CHECK (amount_minor > 0),
    currency               TEXT    NOT NULL CHECK (length(currency) = 3),
    status                 TEXT    NOT NULL CHECK (status IN ('ACTIVE', 'CAPTURED', 'RELEASED', 'EXPIRED')),
    expires_at             TEXT    NOT NULL,
    captured_minor         INTEGER CHECK (captured_minor > 0),
    capture_transaction_id BLOB REFERENCES transactions (id),
    created_at             TEXT    NOT NULL,
    updated_at             TEXT    NOT NULL
) STRICT;

CREATE INDEX holds_account_status ON holds (account_id, status);
CREATE INDEX holds_active_expiry ON holds (expires_at) WHERE status = 'ACTIVE';

-- The event log: append-only, hash-chained (domain::events). `sequence` is gap-free and in
-- commit order because every appending transaction updates the chain head first.
CREATE TABLE events (
    sequence       INTEGER NOT NULL PRIMARY KEY,
    stream_id      BLOB    NOT NULL CHECK (length(stream_id) = 16),
    stream_version INTEGER NOT NULL CHECK (stream_version >= 1),
    event_type     TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    occurred_at    TEXT    NOT NULL,
    prev_hash      BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    hash           BLOB    NOT NULL CHECK (length(hash) = 32),
    UNIQUE (stream_id, stream_version)
) STRICT;

CREATE INDEX events_type_sequence ON events (event_type, sequence);

-- The log is never updated or deleted, whoever runs the SQL.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;

-- The chain head: the last sequence and hash, one row, locked by every appending transaction.
CREATE TABLE event_chain_head (
    id            INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last_sequence INTEGER NOT NULL,
    last_hash     BLOB    NOT NULL CHECK (length(last_hash) = 32)
) STRICT;

INSERT INTO event_chain_head (id, last_sequence, last_hash) VALUES (1, 0, zeroblob(32));

-- Responses to requests sent with an Idempotency-Key, written in the same transaction as the
-- money movement they answer, kept until `expires_at` (at least 24 h).
CREATE TABLE idempotency_keys (
    scope        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    status_code  INTEGER NOT NULL,
    content_type TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    created_at   TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT;

CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
