//! The second factors' rows (TOTP enrolments, login challenges) and what an update of an
//! enrolment may write, the same for both engines.
//!
//! An enrolment's recovery code hashes are a JSON array on both engines (SQLite JSON text,
//! PostgreSQL `jsonb`), so one row type with a [`Json`] column reads both.

use coffre_app::ports::{MfaChallengeRecord, StoreError, TotpRecord};
use coffre_domain::UserId;
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::writes::stored_instant;

/// A `user_totp` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TotpRow {
    user_id: Uuid,
    secret: Vec<u8>,
    confirmed_at: Option<OffsetDateTime>,
    last_used_step: Option<i64>,
    recovery_code_hashes: Json<Vec<String>>,
    created_at: OffsetDateTime,
}

impl From<TotpRow> for TotpRecord {
    fn from(row: TotpRow) -> Self {
        TotpRecord {
            user_id: UserId(row.user_id),
            secret: row.secret,
            confirmed_at: row.confirmed_at,
            last_used_step: row.last_used_step,
            recovery_code_hashes: row.recovery_code_hashes.0,
            created_at: row.created_at,
        }
    }
}

/// Brings an enrolment's instants to the stored precision (see [`stored_instant`]).
pub(crate) fn normalise_totp(mut record: TotpRecord) -> TotpRecord {
    record.confirmed_at = record.confirmed_at.map(stored_instant);
    record.created_at = stored_instant(record.created_at);
    record
}

/// What an update of `user_id`'s enrolment writes, from what the caller's closure returned
/// under the user's lock: `None` deletes the enrolment, a record is stored at the stored
/// precision. The lock only protects this user, so a record of another user is a bug.
pub(crate) fn totp_to_write(
    user_id: UserId,
    record: Option<TotpRecord>,
) -> Result<Option<TotpRecord>, StoreError> {
    match record {
        Some(record) if record.user_id != user_id => Err(StoreError::Unknown(anyhow::anyhow!(
            "an update of user {}'s TOTP enrolment returned another user's",
            user_id.0
        ))),
        record => Ok(record.map(normalise_totp)),
    }
}

/// An `mfa_challenges` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MfaChallengeRow {
    token_hash: String,
    user_id: Uuid,
    expires_at: OffsetDateTime,
}

impl From<MfaChallengeRow> for MfaChallengeRecord {
    fn from(row: MfaChallengeRow) -> Self {
        MfaChallengeRecord {
            token_hash: row.token_hash,
            user_id: UserId(row.user_id),
            expires_at: row.expires_at,
        }
    }
}

/// Brings a challenge's expiry to the stored precision.
pub(crate) fn normalise_challenge(mut challenge: MfaChallengeRecord) -> MfaChallengeRecord {
    challenge.expires_at = stored_instant(challenge.expires_at);
    challenge
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use time::{Duration, UtcOffset};

    use super::*;

    fn enrolment(user_id: UserId) -> TotpRecord {
        TotpRecord {
            user_id,
            secret: vec![7; 20],
            confirmed_at: None,
            last_used_step: None,
            recovery_code_hashes: vec!["a".repeat(64)],
            created_at: datetime!(2025-03-01 09:00 UTC),
        }
    }

    #[test]
    fn an_enrolment_is_written_at_the_stored_precision() -> Result<(), StoreError> {
        let user_id = UserId(Uuid::now_v7());
        let mut record = enrolment(user_id);
        let created_at = datetime!(2025-03-01 10:00:00.123_456_789 +01:00);
        record.created_at = created_at;
        record.confirmed_at = Some(created_at + Duration::minutes(1));
        let written = totp_to_write(user_id, Some(record))?;
        let expected = datetime!(2025-03-01 09:00:00.123_456 UTC);
        assert_eq!(written.as_ref().map(|r| r.created_at), Some(expected));
        assert_eq!(
            written.and_then(|r| r.confirmed_at).map(|at| at.offset()),
            Some(UtcOffset::UTC)
        );
        assert_eq!(totp_to_write(user_id, None)?, None);
        Ok(())
    }

    #[test]
    fn an_enrolment_of_another_user_is_a_bug() {
        let user_id = UserId(Uuid::now_v7());
        let other = enrolment(UserId(Uuid::now_v7()));
        assert!(matches!(
            totp_to_write(user_id, Some(other)),
            Err(StoreError::Unknown(_))
        ));
    }
}
