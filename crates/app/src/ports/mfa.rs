//! The second factors' port: each user's TOTP enrolment with its recovery codes, and the
//! short-lived challenges of logins waiting for their second factor.

use std::future::Future;

use coffre_domain::UserId;
use time::OffsetDateTime;

use crate::ports::StoreError;

/// A user's TOTP enrolment: started (not yet confirmed) or enabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRecord {
    /// Whose it is (one enrolment per user).
    pub user_id: UserId,
    /// The shared secret, sealed by the [`SecretSeal`](crate::ports::SecretSeal) port for this
    /// user. It must be readable to check codes, so it cannot be hashed.
    pub secret: Vec<u8>,
    /// When the user proved their app holds the secret; until then logins ignore it.
    pub confirmed_at: Option<OffsetDateTime>,
    /// The TOTP step of the last code accepted: no code of that step or before is accepted
    /// again.
    pub last_used_step: Option<i64>,
    /// Hex SHA-256 of each recovery code not used yet.
    pub recovery_code_hashes: Vec<String>,
    /// When the enrolment was started.
    pub created_at: OffsetDateTime,
}

/// A login whose password was right, waiting for its second factor (the TOTP step of the
/// authorization pages). A password alone opens no session for a user with MFA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaChallengeRecord {
    /// Hex SHA-256 of the challenge token carried by the TOTP form.
    pub token_hash: String,
    /// The user who gave the right password.
    pub user_id: UserId,
    /// After this, the login starts again from the password.
    pub expires_at: OffsetDateTime,
}

/// Persistence of second factors.
pub trait MfaStore: Clone + Send + Sync + 'static {
    /// Reads a user's TOTP enrolment.
    fn find_totp(
        &self,
        user_id: UserId,
    ) -> impl Future<Output = Result<Option<TotpRecord>, StoreError>> + Send;

    /// Locks the user's enrolment (the user's row when there is none yet), hands it to
    /// `change`, and stores what it returns: a new or changed record is written, `None`
    /// deletes it. An error from `change` writes nothing; an unknown user is
    /// [`StoreError::NotFound`] and `change` is not called. One transaction, so two requests
    /// can never both use one code.
    fn update_totp<E, F>(
        &self,
        user_id: UserId,
        change: F,
    ) -> impl Future<Output = Result<Option<TotpRecord>, E>> + Send
    where
        E: From<StoreError> + Send + 'static,
        F: FnOnce(Option<TotpRecord>) -> Result<Option<TotpRecord>, E> + Send + 'static;

    /// Stores a login challenge.
    fn insert_mfa_challenge(
        &self,
        challenge: &MfaChallengeRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Reads a login challenge by the hash of its token.
    fn find_mfa_challenge(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<MfaChallengeRecord>, StoreError>> + Send;

    /// Deletes a login challenge; true when it was there (so that only one request can
    /// complete it).
    fn delete_mfa_challenge(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
