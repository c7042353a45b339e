//! The column lists the rows read, as literals for `concat!` (declared before the modules that
//! use them, which is what makes them visible there).

/// The `accounts` columns an `AccountRow` reads.
macro_rules! account_columns {
    () => {
        "id, customer_id, iban, bic, type, status, currency, nickname, status_reason, \
         balance_minor, overdraft_limit_minor, daily_limit_minor, outgoing_today_minor, \
         outgoing_day, version, created_at, updated_at, closed_at"
    };
}

/// The `holds` columns a `HoldRow` reads.
macro_rules! hold_columns {
    () => {
        "id, account_id, amount_minor, currency, status, expires_at, captured_minor, \
         capture_transaction_id, created_at, updated_at"
    };
}
