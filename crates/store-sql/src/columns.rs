//! The column lists the rows read, as literals for `concat!` (declared before the modules that
//! use them, which is what makes them visible there).

/// The `customers` columns a `CustomerRow` reads.
macro_rules! customer_columns {
    () => {
        "id, first_name, last_name, email, birth_date, address_line1, address_line2, \
         address_postal_code, address_city, address_country, kyc_status, kyc_reason, version, \
         created_at, updated_at"
    };
}

/// The `accounts` columns an `AccountRow` reads.
macro_rules! account_columns {
    () => {
        "id, customer_id, iban, bic, type, status, currency, nickname, status_reason, \
         balance_minor, overdraft_limit_minor, daily_limit_minor, outgoing_today_minor, \
         outgoing_day, version, created_at, updated_at, closed_at"
    };
}

/// The `transactions` columns a `TransactionRow` reads.
macro_rules! transaction_columns {
    () => {
        "id, type, status, amount_minor, currency, source_account_id, destination_account_id, \
         counterparty_iban, label, reverses_id, reversed_by_id, hold_id, created_at, completed_at"
    };
}

/// The `postings` columns a `PostingRow` reads.
macro_rules! posting_columns {
    () => {
        "entry_id, transaction_id, account_id, direction, amount_minor, currency, \
         balance_after_minor"
    };
}

/// The `holds` columns a `HoldRow` reads.
macro_rules! hold_columns {
    () => {
        "id, account_id, amount_minor, currency, status, expires_at, captured_minor, \
         capture_transaction_id, created_at, updated_at"
    };
}
