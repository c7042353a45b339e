-- The pgbench baseline of scripts/bench-compare: one transfer per call (one call per commit),
-- writing the same rows, with the same locks in the same order, as Coffre's PostgreSQL ledger
-- (crates/store-postgres/src/ledger/*, events.rs, accounts.rs) writes for one
-- `POST /v1/transactions` of type TRANSFER:
--
--   1. read the idempotency record of the request's key (none: a first use);
--   2. lock both customer accounts in id order (`FOR UPDATE`) and load them;
--   3. read their active holds;
--   4. lock the EUR internal accounts in id order (Coffre locks those of every currency a
--      batch touches, even when a transfer does not change them);
--   5. check status, funds and the daily outgoing limit;
--   6. update both accounts (balance, version, updated_at; the source's daily outgoing fields);
--   7. insert the transaction row and its two postings (with balance_after);
--   8. lock the event chain head, read the stream's version, insert the event
--      (hash = sha256(prev_hash || record)), move the chain head;
--   9. insert the idempotency record (the response body, as JSON bytes).
--
-- The JSON payloads and the hash input are shaped like Coffre's (same fields, similar sizes),
-- not byte-identical: what matters for the comparison is the rows, indexes, locks and commits.
--
-- Load it into a database migrated by `coffre migrate`, then call bench_seed(N) once.
--
-- bench_transfer(src, dst, amount, chained => false) is a reference, not Coffre's write path:
-- it skips the two locks every transfer shares (the internal accounts and the chain head, held
-- until the commit is on disk, so commits cannot share a WAL flush) and numbers its event from
-- a sequence, with no hash chain. It shows what one commit per transfer reaches when only the
-- two accounts are locked.

-- Event numbers for unchained transfers (far above what a chained run reaches, so the two kinds
-- never collide in one database).
CREATE SEQUENCE IF NOT EXISTS bench_unchained_event START WITH 1000000000000;

-- A stable account id for account number n (1..N): pgbench draws numbers, the transfer needs
-- ids, and computing them avoids a lookup table Coffre does not have.
CREATE OR REPLACE FUNCTION bench_account_id(n integer) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
    SELECT ('01900000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid
$$;

-- A time-ordered id, like Coffre's UUIDv7s: 48 bits of Unix milliseconds then random bits, so
-- new rows land at the right edge of the primary-key index as Coffre's do (PostgreSQL 15 has
-- no uuidv7()).
CREATE OR REPLACE FUNCTION bench_uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE AS $$
    SELECT encode(
        overlay(uuid_send(gen_random_uuid())
                placing substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                FROM 1 FOR 6),
        'hex')::uuid
$$;

-- One verified customer owning n funded current accounts (as `coffre bench` sets up over
-- HTTP): 1 000 000.00 EUR each and a daily limit no run can reach.
CREATE OR REPLACE FUNCTION bench_seed(n integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    customer uuid := '01900000-0000-7000-8000-ffffffffffff';
BEGIN
    INSERT INTO customers (id, first_name, last_name, email, birth_date, address_line1,
                           address_postal_code, address_city, address_country, kyc_status,
                           version, created_at, updated_at, search_text)
    VALUES (customer, 'Bench', 'Mark', 'bench-pgbench@example.org', '1990-01-01',
            '1 rue de la Paix', '75002', 'Paris', 'FR', 'VERIFIED', 2, now(), now(),
            'bench mark bench-pgbench@example.org');
    INSERT INTO accounts (id, customer_id, iban, bic, type, status, currency, balance_minor,
                          overdraft_limit_minor, daily_limit_minor, outgoing_today_minor,
                          version, created_at, updated_at)
    SELECT bench_account_id(i), customer,
           -- Distinct, IBAN-shaped (27 characters, like a French IBAN).
           'FR7699999' || lpad(i::text, 18, '0'), 'COFFFRPPXXX', 'COURANT', 'ACTIVE', 'EUR',
           100000000, 0, 100000000000, 0, 3, now(), now()
    FROM generate_series(1, n) AS i;
END;
$$;

-- One transfer of amount_minor cents from account src_n to account dst_n.
CREATE OR REPLACE FUNCTION bench_transfer(src_n integer, dst_n integer, amount_minor bigint,
                                          chained boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    src uuid := bench_account_id(src_n);
    dst uuid := bench_account_id(dst_n);
    -- Coffre's staff caller: the idempotency scope and the event's actor.
    caller text := 'user:01900000-0000-7000-8000-000000000001';
    idem_key text := 'bench-pgbench-' || gen_random_uuid();
    tx_id uuid := bench_uuid_v7();
    booked timestamptz := now();
    today date := (now() AT TIME ZONE 'UTC')::date;
    amount_text text := to_char(amount_minor / 100.0, 'FM999999990.00');
    acct accounts%ROWTYPE;
    src_row accounts%ROWTYPE;
    dst_row accounts%ROWTYPE;
    src_after bigint;
    dst_after bigint;
    src_outgoing bigint;
    head_sequence bigint;
    head_hash bytea;
    stream_version bigint;
    request text;
    payload text;
    body text;
    event_hash bytea;
BEGIN
    -- 1. A keyed request first looks for an earlier use of its key.
    PERFORM 1 FROM idempotency_keys WHERE scope = caller AND key = idem_key;

    -- 2. Both accounts, locked in id order (the one lock order: no deadlock).
    FOR acct IN SELECT * FROM accounts WHERE id IN (src, dst) ORDER BY id FOR UPDATE LOOP
        IF acct.id = src THEN src_row := acct; ELSE dst_row := acct; END IF;
    END LOOP;
    IF src_row.id IS NULL OR dst_row.id IS NULL THEN
        RAISE EXCEPTION 'account % or % does not exist', src_n, dst_n;
    END IF;

    -- 3. Their active holds (they reduce what the source may spend).
    PERFORM 1 FROM holds WHERE account_id IN (src, dst) AND status = 'ACTIVE';

    -- 4. The internal accounts of the currency, in id order.
    IF chained THEN
        PERFORM 1 FROM internal_accounts WHERE currency = 'EUR' ORDER BY id FOR UPDATE;
    END IF;

    -- 5. The ledger's checks.
    IF src_row.status <> 'ACTIVE' OR dst_row.status <> 'ACTIVE' THEN
        RAISE EXCEPTION 'account not active';
    END IF;
    IF src_row.balance_minor - amount_minor < -src_row.overdraft_limit_minor THEN
        RAISE EXCEPTION 'insufficient funds';
    END IF;
    src_outgoing := amount_minor
        + CASE WHEN src_row.outgoing_day = today THEN src_row.outgoing_today_minor ELSE 0 END;
    IF src_outgoing > coalesce(src_row.daily_limit_minor, 1000000) THEN
        RAISE EXCEPTION 'daily limit exceeded';
    END IF;
    src_after := src_row.balance_minor - amount_minor;
    dst_after := dst_row.balance_minor + amount_minor;

    -- 6. Both accounts written back over the version read under the lock.
    UPDATE accounts SET balance_minor = src_after, outgoing_today_minor = src_outgoing,
                        outgoing_day = today, version = src_row.version + 1, updated_at = booked
    WHERE id = src AND version = src_row.version;
    UPDATE accounts SET balance_minor = dst_after, version = dst_row.version + 1,
                        updated_at = booked
    WHERE id = dst AND version = dst_row.version;

    -- 7. The transaction and its postings, debit first.
    INSERT INTO transactions (id, type, status, amount_minor, currency, source_account_id,
                              destination_account_id, created_at, completed_at)
    VALUES (tx_id, 'TRANSFER', 'COMPLETED', amount_minor, 'EUR', src, dst, booked, booked);
    INSERT INTO postings (transaction_id, line, account_id, direction, amount_minor, currency,
                          balance_after_minor, booked_at)
    VALUES (tx_id, 0, src, 'DEBIT', amount_minor, 'EUR', src_after, booked);
    INSERT INTO postings (transaction_id, line, account_id, direction, amount_minor, currency,
                          balance_after_minor, booked_at)
    VALUES (tx_id, 1, dst, 'CREDIT', amount_minor, 'EUR', dst_after, booked);

    -- 8. The event, chained after the head (locked last).
    IF chained THEN
        SELECT last_sequence, last_hash INTO head_sequence, head_hash
        FROM event_chain_head WHERE id = 1 FOR UPDATE;
    ELSE
        head_sequence := nextval('bench_unchained_event') - 1;
        head_hash := decode(repeat('00', 32), 'hex');
    END IF;
    SELECT coalesce(max(e.stream_version), 0) + 1 INTO stream_version
    FROM events e WHERE e.stream_id = tx_id;
    payload := json_build_object(
        'transaction_id', tx_id, 'transaction_type', 'Transfer', 'amount_minor', amount_minor,
        'currency', 'EUR', 'reverses', NULL, 'hold_id', NULL,
        'postings', json_build_array(
            json_build_object('account_id', src, 'direction', 'Debit',
                              'amount_minor', amount_minor, 'balance_after_minor', src_after),
            json_build_object('account_id', dst, 'direction', 'Credit',
                              'amount_minor', amount_minor, 'balance_after_minor', dst_after)))::text;
    event_hash := sha256(head_hash || convert_to(
        concat_ws(E'\x1f', head_sequence + 1, tx_id, stream_version, 'TransactionCompleted',
                  payload, caller, extract(epoch FROM booked) * 1000000), 'UTF8'));
    INSERT INTO events (sequence, stream_id, stream_version, event_type, payload, actor,
                        occurred_at, prev_hash, hash)
    VALUES (head_sequence + 1, tx_id, stream_version, 'TransactionCompleted', payload, caller,
            booked, head_hash, event_hash);
    IF chained THEN
        UPDATE event_chain_head SET last_sequence = head_sequence + 1, last_hash = event_hash
        WHERE id = 1;
    END IF;

    -- 9. The response, stored under the request's key.
    request := json_build_object(
        'amount', json_build_object('amount', amount_text, 'currency', 'EUR'),
        'destination_account_id', dst, 'source_account_id', src, 'type', 'TRANSFER')::text;
    body := json_build_object(
        'id', tx_id, 'type', 'TRANSFER', 'status', 'COMPLETED',
        'amount', json_build_object('amount', amount_text, 'currency', 'EUR'),
        'source_account_id', src, 'destination_account_id', dst, 'counterparty_iban', NULL,
        'label', NULL, 'reverses', NULL, 'reversed_by', NULL,
        'postings', json_build_array(
            json_build_object('account_id', src, 'direction', 'DEBIT',
                              'amount', json_build_object('amount', amount_text, 'currency', 'EUR')),
            json_build_object('account_id', dst, 'direction', 'CREDIT',
                              'amount', json_build_object('amount', amount_text, 'currency', 'EUR'))),
        'created_at', to_char(booked AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'completed_at', to_char(booked AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text;
    INSERT INTO idempotency_keys (scope, key, fingerprint, status_code, content_type, body,
                                  created_at, expires_at)
    VALUES (caller, idem_key,
            encode(sha256(convert_to('POST /v1/transactions' || E'\n' || request, 'UTF8')), 'hex'),
            201, 'application/json', convert_to(body, 'UTF8'), booked, booked + interval '24 hours');
END;
$$;
