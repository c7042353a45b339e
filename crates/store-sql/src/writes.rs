//! What an adapter writes, decided before any SQL: instants at the precision both engines
//! keep, and what an insert or an update under lock may write. Each adapter then writes the
//! values these functions hand back with its own SQL.

use std::fmt::Display;

use coffre_app::ports::{StoreError, ThrottleState};
use coffre_domain::{Account, Customer, CustomerId};
use time::{OffsetDateTime, UtcOffset};

/// An instant as the stores keep it: in UTC, truncated to the microsecond (PostgreSQL's
/// precision; truncating here rather than letting a driver do it keeps both engines exactly
/// alike). Values handed back to callers go through this too, so that what a method returns is
/// what a later read returns.
pub fn stored_instant(instant: OffsetDateTime) -> OffsetDateTime {
    instant.to_offset(UtcOffset::UTC).truncate_to_microsecond()
}

/// Brings a customer's instants to the stored precision (see [`stored_instant`]).
pub fn normalise_customer(customer: &mut Customer) {
    customer.created_at = stored_instant(customer.created_at);
    customer.updated_at = stored_instant(customer.updated_at);
}

/// Brings an account's instants to the stored precision (see [`stored_instant`]).
pub fn normalise_account(account: &mut Account) {
    account.created_at = stored_instant(account.created_at);
    account.updated_at = stored_instant(account.updated_at);
    account.closed_at = account.closed_at.map(stored_instant);
}

/// Brings a throttle state's instants to the stored precision (see [`stored_instant`]).
pub fn normalise_throttle(state: &mut ThrottleState) {
    state.window_started_at = stored_instant(state.window_started_at);
    state.locked_until = state.locked_until.map(stored_instant);
}

/// The account to insert for `customer_id`, from what the caller's closure built under the
/// customer's lock: the lock only protects this customer, so an account of another is a bug.
pub fn account_to_insert(
    mut account: Account,
    customer_id: CustomerId,
) -> Result<Account, StoreError> {
    if account.customer_id != customer_id {
        return Err(StoreError::Unknown(anyhow::anyhow!(
            "an account was built for another customer"
        )));
    }
    normalise_account(&mut account);
    Ok(account)
}

/// What an update under lock writes for an account: `None` if the closure did not bump the
/// version (what is stored is still `before`), else `after` at the stored precision.
///
/// Only the fields an account's life changes are written; its identity (owner, IBAN, BIC, type,
/// currency, creation time) is fixed at opening, and a closure that changes it is a bug. That
/// also catches a closure that reordered a customer's accounts.
pub fn account_to_update(
    before: &Account,
    mut after: Account,
) -> Result<Option<Account>, StoreError> {
    if after.version == before.version {
        return Ok(None);
    }
    let same_identity = after.id == before.id
        && after.customer_id == before.customer_id
        && after.iban == before.iban
        && after.bic == before.bic
        && after.account_type == before.account_type
        && after.currency == before.currency
        && after.created_at == before.created_at;
    if !same_identity {
        return Err(StoreError::Unknown(anyhow::anyhow!(
            "an update changed the identity of account {}",
            before.id
        )));
    }
    normalise_account(&mut after);
    Ok(Some(after))
}

/// What an update under lock writes for a customer: `None` if the closure did not bump the
/// version (what is stored is still `before`), else `after` at the stored precision. A
/// customer's id and creation time never change.
pub fn customer_to_update(
    before: &Customer,
    mut after: Customer,
) -> Result<Option<Customer>, StoreError> {
    if after.version == before.version {
        return Ok(None);
    }
    if after.id != before.id || after.created_at != before.created_at {
        return Err(StoreError::Unknown(anyhow::anyhow!(
            "a customer update changed the customer's id or creation time"
        )));
    }
    normalise_customer(&mut after);
    Ok(Some(after))
}

/// Refuses a customer update whose closure added or removed accounts: only the accounts it was
/// given are locked, and each is written back over the one at the same position.
pub fn check_same_accounts(before: &[Account], after: &[Account]) -> Result<(), StoreError> {
    if before.len() != after.len() {
        return Err(StoreError::Unknown(anyhow::anyhow!(
            "a customer update added or removed accounts"
        )));
    }
    Ok(())
}

/// Checks that a write-back (`... WHERE id = ? AND version = <before>`) hit its one row: under
/// the lock nothing else can have changed it, so anything else is a bug, not a conflict.
pub fn check_updated_under_lock(
    rows_affected: u64,
    what: &str,
    id: impl Display,
) -> Result<(), StoreError> {
    if rows_affected != 1 {
        return Err(StoreError::Unknown(anyhow::anyhow!(
            "{what} {id} changed under its lock"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use coffre_domain::{
        AccountId, AccountStatus, AccountType, Bic, Currency, CustomerId, FrenchRib,
    };
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    /// An open current account, created with a nanosecond part the stores do not keep.
    fn account() -> anyhow::Result<Account> {
        let created_at = datetime!(2025-03-01 10:00:00.123_456_789 +01:00);
        Ok(Account {
            id: AccountId(Uuid::now_v7()),
            customer_id: CustomerId(Uuid::now_v7()),
            iban: FrenchRib::new("99999", "00001", "00000000001")?.to_iban(),
            bic: Bic::parse("COFRFRPPXXX")?,
            account_type: AccountType::Courant,
            status: AccountStatus::Active,
            currency: Currency::EUR,
            nickname: None,
            status_reason: None,
            balance_minor: 0,
            overdraft_limit_minor: 0,
            daily_limit_minor: None,
            outgoing_today_minor: 0,
            outgoing_day: None,
            version: 1,
            created_at,
            updated_at: created_at,
            closed_at: None,
        })
    }

    #[test]
    fn stored_instants_are_utc_microseconds() {
        assert_eq!(
            stored_instant(datetime!(2025-03-01 10:00:00.123_456_789 +01:00)),
            datetime!(2025-03-01 09:00:00.123_456 UTC)
        );
    }

    #[test]
    fn an_update_that_keeps_the_version_writes_nothing() -> anyhow::Result<()> {
        let before = account()?;
        let mut after = before.clone();
        after.nickname = Some("Vacances".to_owned());
        assert!(account_to_update(&before, after)?.is_none());
        Ok(())
    }

    #[test]
    fn an_update_writes_the_account_at_the_stored_precision() -> anyhow::Result<()> {
        let before = account()?;
        let mut after = before.clone();
        after.version += 1;
        after.updated_at = datetime!(2025-03-02 10:00:00.999_999_999 UTC);
        let written = account_to_update(&before, after)?;
        assert_eq!(
            written.map(|account| account.updated_at),
            Some(datetime!(2025-03-02 10:00:00.999_999 UTC))
        );
        Ok(())
    }

    #[test]
    fn an_update_may_not_change_an_account_s_identity() -> anyhow::Result<()> {
        let before = account()?;
        let mut after = before.clone();
        after.version += 1;
        after.currency = Currency::USD;
        assert!(matches!(
            account_to_update(&before, after),
            Err(StoreError::Unknown(_))
        ));
        Ok(())
    }

    #[test]
    fn an_account_built_for_another_customer_is_not_inserted() -> anyhow::Result<()> {
        let account = account()?;
        let owner = account.customer_id;
        assert!(account_to_insert(account.clone(), owner).is_ok());
        assert!(matches!(
            account_to_insert(account, CustomerId(Uuid::now_v7())),
            Err(StoreError::Unknown(_))
        ));
        Ok(())
    }

    #[test]
    fn a_write_back_must_hit_exactly_one_row() {
        assert!(check_updated_under_lock(1, "account", "a").is_ok());
        assert!(matches!(
            check_updated_under_lock(0, "account", "a"),
            Err(StoreError::Unknown(error)) if error.to_string() == "account a changed under its lock"
        ));
    }
}
