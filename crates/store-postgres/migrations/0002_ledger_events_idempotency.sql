-- The ledger (transactions, postings, holds, internal accounts), the hash-chained event log and
-- idempotency records: the PostgreSQL edition. Same columns as the SQLite schema.

-- Daily outgoing limit: the account's own (NULL: the bank's default), and what left it on
-- `outgoing_day` (a UTC date), kept on the row so that the check costs no query.
ALTER TABLE accounts
    ADD COLUMN daily_limit_minor bigint CHECK (daily_limit_minor >= 0),
    ADD COLUMN outgoing_today_minor bigint NOT NULL DEFAULT 0 CHECK (outgoing_today_minor >= 0),
    ADD COLUMN outgoing_day date;

-- The bank's own accounts, one per kind and currency, with fixed UUIDv8 ids (seeded by the
-- adapter at migration time, from the domain's list).
CREATE TABLE internal_accounts (
    id            uuid   NOT NULL PRIMARY KEY,
    kind          text   NOT NULL CHECK (kind IN ('cash', 'interbank_settlement', 'card_settlement')),
    currency      text   NOT NULL CHECK (length(currency) = 3),
    balance_minor bigint NOT NULL,
    CONSTRAINT internal_accounts_kind_currency_key UNIQUE (kind, currency)
);

CREATE TABLE transactions (
    id                     uuid        NOT NULL PRIMARY KEY,
    type                   text        NOT NULL CHECK (type IN ('DEPOSIT', 'WITHDRAWAL', 'TRANSFER', 'REVERSAL', 'HOLD_CAPTURE')),
    status                 text        NOT NULL CHECK (status IN ('PENDING', 'COMPLETED', 'FAILED', 'REVERSED')),
    amount_minor           bigint      NOT NULL CHECK (amount_minor > 0),
    currency               text        NOT NULL CHECK (length(currency) = 3),
    source_account_id      uuid REFERENCES accounts (id),
    destination_account_id uuid REFERENCES accounts (id),
    counterparty_iban      text,
    label                  text,
    reverses_id            uuid REFERENCES transactions (id),
    reversed_by_id         uuid REFERENCES transactions (id),
    hold_id                uuid,
    created_at             timestamptz NOT NULL,
    completed_at           timestamptz
);

-- A transaction is reversed at most once.
CREATE UNIQUE INDEX transactions_reverses_key ON transactions (reverses_id) WHERE reverses_id IS NOT NULL;
CREATE INDEX transactions_source_id ON transactions (source_account_id, id);
CREATE INDEX transactions_destination_id ON transactions (destination_account_id, id);
CREATE INDEX transactions_type_id ON transactions (type, id);

-- One row per posting. `entry_id` increases in booking order per account (the account's row
-- lock is held when it is assigned), so it orders statements and is their cursor.
CREATE TABLE postings (
    entry_id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id      uuid        NOT NULL REFERENCES transactions (id),
    line                integer     NOT NULL CHECK (line >= 0),
    account_id          uuid        NOT NULL,
    direction           text        NOT NULL CHECK (direction IN ('DEBIT', 'CREDIT')),
    amount_minor        bigint      NOT NULL CHECK (amount_minor > 0),
    currency            text        NOT NULL CHECK (length(currency) = 3),
    balance_after_minor bigint      NOT NULL,
    booked_at           timestamptz NOT NULL,
    CONSTRAINT postings_transaction_line_key UNIQUE (transaction_id, line)
);

CREATE INDEX postings_account_entry ON postings (account_id, entry_id);
CREATE INDEX postings_account_booked ON postings (account_id, booked_at, entry_id);

CREATE TABLE holds (
    id                     uuid        NOT NULL PRIMARY KEY,
    account_id             uuid        NOT NULL REFERENCES accounts (id),
    amount_minor           bigint      NOT NULL CHECK (amount_minor > 0),
    currency               text        NOT NULL CHECK (length(currency) = 3),
    status                 text        NOT NULL CHECK (status IN ('ACTIVE', 'CAPTURED', 'RELEASED', 'EXPIRED')),
    expires_at             timestamptz NOT NULL,
    captured_minor         bigint CHECK (captured_minor > 0),
    capture_transaction_id uuid REFERENCES transactions (id),
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL
);

CREATE INDEX holds_account_status ON holds (account_id, status);
CREATE INDEX holds_active_expiry ON holds (expires_at) WHERE status = 'ACTIVE';

-- The event log: append-only, hash-chained (domain::events). `sequence` is gap-free and in
-- commit order because every appending transaction locks the chain head first.
CREATE TABLE events (
    sequence       bigint      NOT NULL PRIMARY KEY,
    stream_id      uuid        NOT NULL,
    stream_version bigint      NOT NULL CHECK (stream_version >= 1),
    event_type     text        NOT NULL,
    payload        text        NOT NULL,
    actor          text        NOT NULL,
    occurred_at    timestamptz NOT NULL,
    prev_hash      bytea       NOT NULL CHECK (length(prev_hash) = 32),
    hash           bytea       NOT NULL CHECK (length(hash) = 32),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_type_sequence ON events (event_type, sequence);

-- The log is never updated, deleted or truncated, whoever runs the SQL.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only';
END;
$$;
CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

-- The chain head: the last sequence and hash, one row, locked by every appending transaction.
CREATE TABLE event_chain_head (
    id            integer NOT NULL PRIMARY KEY CHECK (id = 1),
    last_sequence bigint  NOT NULL,
    last_hash     bytea   NOT NULL CHECK (length(last_hash) = 32)
);

INSERT INTO event_chain_head (id, last_sequence, last_hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

-- Responses to requests sent with an Idempotency-Key, written in the same transaction as the
-- money movement they answer, kept until `expires_at` (at least 24 h).
CREATE TABLE idempotency_keys (
    scope        text        NOT NULL,
    key          text        NOT NULL,
    fingerprint  text        NOT NULL,
    status_code  integer     NOT NULL,
    content_type text        NOT NULL,
    body         bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
