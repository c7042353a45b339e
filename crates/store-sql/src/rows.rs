//! Rows as a query returns them, on either engine, and their fallible conversion into domain
//! values.
//!
//! The structs derive [`sqlx::FromRow`] generically over the row type: they decode on any
//! database whose driver decodes their field types, which both engines' do. SQLite keeps
//! instants as text, and its driver parses that text back into an [`OffsetDateTime`], so the
//! same struct reads both engines; only the writing side formats instants per engine.
//!
//! Every stored string is parsed back through the domain's constructors, so a row that a
//! migration, a manual edit or a bug left invalid becomes a [`StoreError::Unknown`] naming the
//! table, row and column, never a panic and never an invalid domain value.

use std::str::FromStr;

use coffre_app::ports::{SessionRecord, StoreError, ThrottleState, UserRecord};
use coffre_domain::{
    Account, AccountId, AccountStatus, AccountType, Address, Bic, Currency, Customer, CustomerId,
    Email, Iban, KycStatus, PersonName, Role, UserId, Username,
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// A row that does not hold a valid domain value.
pub(crate) fn corrupt(table: &str, id: impl std::fmt::Display, column: &str) -> StoreError {
    StoreError::Unknown(anyhow::anyhow!("{table} row {id} has an invalid {column}"))
}

/// A `customers` row.
#[derive(Debug, sqlx::FromRow)]
pub struct CustomerRow {
    id: Uuid,
    first_name: String,
    last_name: String,
    email: String,
    birth_date: Date,
    address_line1: String,
    address_line2: Option<String>,
    address_postal_code: String,
    address_city: String,
    address_country: String,
    kyc_status: String,
    kyc_reason: Option<String>,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<CustomerRow> for Customer {
    type Error = StoreError;

    fn try_from(row: CustomerRow) -> Result<Self, Self::Error> {
        let id = row.id;
        let bad = |column| corrupt("customers", id, column);
        Ok(Customer {
            id: CustomerId(id),
            first_name: PersonName::parse(&row.first_name, "first_name")
                .map_err(|_| bad("first_name"))?,
            last_name: PersonName::parse(&row.last_name, "last_name")
                .map_err(|_| bad("last_name"))?,
            email: Email::parse(&row.email).map_err(|_| bad("email"))?,
            birth_date: row.birth_date,
            // Built field by field, not re-validated: an address stays as it was accepted even if
            // the address rules later tighten.
            address: Address {
                line1: row.address_line1,
                line2: row.address_line2,
                postal_code: row.address_postal_code,
                city: row.address_city,
                country: row.address_country,
            },
            kyc_status: KycStatus::parse(&row.kyc_status).ok_or_else(|| bad("kyc_status"))?,
            kyc_reason: row.kyc_reason,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// An `accounts` row.
#[derive(Debug, sqlx::FromRow)]
pub struct AccountRow {
    id: Uuid,
    customer_id: Uuid,
    iban: String,
    bic: String,
    #[sqlx(rename = "type")]
    account_type: String,
    status: String,
    currency: String,
    nickname: Option<String>,
    status_reason: Option<String>,
    balance_minor: i64,
    overdraft_limit_minor: i64,
    daily_limit_minor: Option<i64>,
    outgoing_today_minor: i64,
    outgoing_day: Option<Date>,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    closed_at: Option<OffsetDateTime>,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;

    fn try_from(row: AccountRow) -> Result<Self, Self::Error> {
        let id = row.id;
        let bad = |column| corrupt("accounts", id, column);
        Ok(Account {
            id: AccountId(id),
            customer_id: CustomerId(row.customer_id),
            iban: Iban::parse(&row.iban).map_err(|_| bad("iban"))?,
            bic: Bic::parse(&row.bic).map_err(|_| bad("bic"))?,
            account_type: AccountType::parse(&row.account_type).ok_or_else(|| bad("type"))?,
            status: AccountStatus::parse(&row.status).ok_or_else(|| bad("status"))?,
            currency: Currency::from_str(&row.currency).map_err(|_| bad("currency"))?,
            nickname: row.nickname,
            status_reason: row.status_reason,
            balance_minor: row.balance_minor,
            overdraft_limit_minor: row.overdraft_limit_minor,
            daily_limit_minor: row.daily_limit_minor,
            outgoing_today_minor: row.outgoing_today_minor,
            outgoing_day: row.outgoing_day,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
            closed_at: row.closed_at,
        })
    }
}

/// A `users` row.
#[derive(Debug, sqlx::FromRow)]
pub struct UserRow {
    id: Uuid,
    username: String,
    password_hash: String,
    role: String,
    customer_id: Option<Uuid>,
    created_at: OffsetDateTime,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, Self::Error> {
        let id = row.id;
        let bad = |column| corrupt("users", id, column);
        Ok(UserRecord {
            id: UserId(id),
            username: Username::parse(&row.username).map_err(|_| bad("username"))?,
            password_hash: row.password_hash,
            role: Role::parse(&row.role).ok_or_else(|| bad("role"))?,
            customer_id: row.customer_id.map(CustomerId),
            created_at: row.created_at,
        })
    }
}

/// A `sessions` row.
#[derive(Debug, sqlx::FromRow)]
pub struct SessionRow {
    token_hash: String,
    user_id: Uuid,
    csrf_token_hash: String,
    created_at: OffsetDateTime,
    amr: String,
    last_seen_at: OffsetDateTime,
    expires_at: OffsetDateTime,
}

impl From<SessionRow> for SessionRecord {
    fn from(row: SessionRow) -> Self {
        SessionRecord {
            token_hash: row.token_hash,
            user_id: UserId(row.user_id),
            csrf_token_hash: row.csrf_token_hash,
            created_at: row.created_at,
            amr: row.amr,
            last_seen_at: row.last_seen_at,
            expires_at: row.expires_at,
        }
    }
}

/// A `login_throttle` row.
#[derive(Debug, sqlx::FromRow)]
pub struct ThrottleRow {
    pub(crate) key: String,
    pub(crate) failures: i64,
    pub(crate) window_started_at: OffsetDateTime,
    pub(crate) locked_until: Option<OffsetDateTime>,
}

impl ThrottleRow {
    /// The key this row is about.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl TryFrom<ThrottleRow> for ThrottleState {
    type Error = StoreError;

    fn try_from(row: ThrottleRow) -> Result<Self, Self::Error> {
        Ok(ThrottleState {
            failures: u32::try_from(row.failures)
                .map_err(|_| corrupt("login_throttle", &row.key, "failures"))?,
            window_started_at: row.window_started_at,
            locked_until: row.locked_until,
        })
    }
}

/// Converts every row of a list, failing on the first invalid one.
pub fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// A `sessions` row joined with its `users` row.
#[derive(Debug, sqlx::FromRow)]
pub struct SessionUserRow {
    #[sqlx(flatten)]
    session: SessionRow,
    username: String,
    password_hash: String,
    role: String,
    customer_id: Option<Uuid>,
    user_created_at: OffsetDateTime,
}

impl TryFrom<SessionUserRow> for (SessionRecord, UserRecord) {
    type Error = StoreError;

    fn try_from(row: SessionUserRow) -> Result<Self, Self::Error> {
        let user = UserRow {
            id: row.session.user_id,
            username: row.username,
            password_hash: row.password_hash,
            role: row.role,
            customer_id: row.customer_id,
            created_at: row.user_created_at,
        };
        Ok((
            SessionRecord::from(row.session),
            UserRecord::try_from(user)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn throttle_row(key: &str, failures: i64) -> ThrottleRow {
        ThrottleRow {
            key: key.to_owned(),
            failures,
            window_started_at: datetime!(2025-03-01 09:00 UTC),
            locked_until: None,
        }
    }

    #[test]
    fn an_invalid_stored_value_names_its_table_row_and_column() {
        let id = Uuid::now_v7();
        let row = UserRow {
            id,
            username: "alice".to_owned(),
            password_hash: "hash".to_owned(),
            role: "superuser".to_owned(),
            customer_id: None,
            created_at: datetime!(2025-03-01 09:00 UTC),
        };
        let expected = format!("users row {id} has an invalid role");
        assert!(matches!(
            UserRecord::try_from(row),
            Err(StoreError::Unknown(error)) if error.to_string() == expected
        ));
    }

    #[test]
    fn a_negative_failure_count_is_corrupt() {
        assert!(matches!(
            ThrottleState::try_from(throttle_row("a", -1)),
            Err(StoreError::Unknown(_))
        ));
    }
}
