//! The revocation list kept in the database, through the OAuth store's own table.

use std::fmt::Debug;

use coffre_app::ports::{BoxFuture, OAuthStore, RevocationList, StoreError};
use time::OffsetDateTime;
use uuid::Uuid;

/// The revocation list in the database (the default).
#[derive(Clone)]
pub struct StoreRevocations<S>(pub S);

impl<S> Debug for StoreRevocations<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreRevocations")
    }
}

impl<S: OAuthStore> RevocationList for StoreRevocations<S> {
    fn revoke(
        &self,
        jti: Uuid,
        expires_at: OffsetDateTime,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.0.revoke_access_token(jti, expires_at))
    }

    fn is_revoked(&self, jti: Uuid) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(self.0.access_token_revoked(jti))
    }
}
