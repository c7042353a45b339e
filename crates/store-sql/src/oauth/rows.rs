//! The OAuth2 rows (clients, authorization codes, refresh tokens) and the decision a refresh
//! token's presentation comes to, the same for both engines.
//!
//! A client's redirect URIs and grants are lists, which each engine stores its own way
//! (PostgreSQL `text[]`, SQLite JSON text): a [`ClientRow`] reads them as the engine's
//! [`TextList`](crate::engine::Engine::TextList) beside a flattened [`ClientColumns`].

use coffre_app::ports::{
    AuthorizationCodeRecord, ClientRecord, RefreshTokenRecord, RefreshTokenState, Rotation,
    StoreError,
};
use coffre_domain::UserId;
use coffre_domain::oauth::{ClientId, ClientType, GrantType, OAuthClient, Scopes};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::corrupt;
use crate::writes::stored_instant;

/// An `oauth_clients` row, with its lists as the engine stores them (`L`).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ClientRow<L> {
    #[sqlx(flatten)]
    pub(crate) columns: ClientColumns,
    pub(crate) redirect_uris: L,
    pub(crate) grants: L,
}

/// The `oauth_clients` columns that are not lists.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ClientColumns {
    id: Uuid,
    name: String,
    client_type: String,
    scope: String,
    first_party: bool,
    introspect: bool,
    service_user_id: Option<Uuid>,
    secret_hash: Option<String>,
    created_at: OffsetDateTime,
}

/// A client from its columns and its two lists, each parsed back through the domain.
pub(crate) fn client_record(
    columns: ClientColumns,
    redirect_uris: Vec<String>,
    grants: Vec<String>,
) -> Result<ClientRecord, StoreError> {
    let id = columns.id;
    let bad = |column| corrupt("oauth_clients", id, column);
    let grants = grants
        .iter()
        .map(|grant| GrantType::parse(grant))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| bad("grants"))?;
    Ok(ClientRecord {
        client: OAuthClient {
            id: ClientId(id),
            name: columns.name,
            client_type: ClientType::parse(&columns.client_type)
                .ok_or_else(|| bad("client_type"))?,
            redirect_uris,
            grants,
            scopes: Scopes::parse(&columns.scope).map_err(|_| bad("scope"))?,
            first_party: columns.first_party,
            service_user: columns.service_user_id.map(UserId),
            introspect: columns.introspect,
        },
        secret_hash: columns.secret_hash,
        created_at: columns.created_at,
    })
}

/// The stored names of a client's grants.
pub(crate) fn grant_names(grants: &[GrantType]) -> Vec<String> {
    grants
        .iter()
        .map(|grant| grant.as_str().to_owned())
        .collect()
}

/// Brings a client's creation time to the stored precision.
pub(crate) fn normalise_client(mut record: ClientRecord) -> ClientRecord {
    record.created_at = stored_instant(record.created_at);
    record
}

/// An `oauth_authorization_codes` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuthorizationCodeRow {
    code_hash: String,
    client_id: Uuid,
    user_id: Uuid,
    redirect_uri: String,
    scope: String,
    code_challenge: String,
    nonce: Option<String>,
    amr: String,
    auth_time: OffsetDateTime,
    expires_at: OffsetDateTime,
}

impl From<AuthorizationCodeRow> for AuthorizationCodeRecord {
    fn from(row: AuthorizationCodeRow) -> Self {
        AuthorizationCodeRecord {
            code_hash: row.code_hash,
            client_id: ClientId(row.client_id),
            user_id: UserId(row.user_id),
            redirect_uri: row.redirect_uri,
            scope: row.scope,
            code_challenge: row.code_challenge,
            nonce: row.nonce,
            amr: row.amr,
            auth_time: row.auth_time,
            expires_at: row.expires_at,
        }
    }
}

/// Brings a code's instants to the stored precision.
pub(crate) fn normalise_code(mut code: AuthorizationCodeRecord) -> AuthorizationCodeRecord {
    code.auth_time = stored_instant(code.auth_time);
    code.expires_at = stored_instant(code.expires_at);
    code
}

/// An `oauth_refresh_tokens` row, with whether any token of its family is revoked
/// (`family_revoked`, computed by the query).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RefreshTokenRow {
    token_hash: String,
    family_id: Uuid,
    client_id: Uuid,
    user_id: Uuid,
    scope: String,
    amr: String,
    auth_time: OffsetDateTime,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    used_at: Option<OffsetDateTime>,
    family_revoked: bool,
}

impl From<RefreshTokenRow> for RefreshTokenState {
    fn from(row: RefreshTokenRow) -> Self {
        RefreshTokenState {
            record: RefreshTokenRecord {
                token_hash: row.token_hash,
                family_id: row.family_id,
                client_id: ClientId(row.client_id),
                user_id: UserId(row.user_id),
                scope: row.scope,
                amr: row.amr,
                auth_time: row.auth_time,
                issued_at: row.issued_at,
                expires_at: row.expires_at,
            },
            used: row.used_at.is_some(),
            revoked: row.family_revoked,
        }
    }
}

/// Brings a refresh token's instants to the stored precision.
pub(crate) fn normalise_refresh_token(mut token: RefreshTokenRecord) -> RefreshTokenRecord {
    token.auth_time = stored_instant(token.auth_time);
    token.issued_at = stored_instant(token.issued_at);
    token.expires_at = stored_instant(token.expires_at);
    token
}

/// What presenting a refresh token must write, decided from its state read under its family's
/// lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RotationPlan {
    /// Unknown, expired or of a revoked family: nothing to write.
    Refuse,
    /// Used already (a replay): revoke this family.
    RevokeFamily(Uuid),
    /// Live: mark the presented token used and store the next one.
    Rotate(RefreshTokenRecord),
}

impl RotationPlan {
    /// What the caller is told once the plan is written.
    pub(crate) fn outcome(self) -> Rotation {
        match self {
            RotationPlan::Refuse => Rotation::Invalid,
            RotationPlan::RevokeFamily(_) => Rotation::Reused,
            RotationPlan::Rotate(presented) => Rotation::Rotated(presented),
        }
    }
}

/// Decides what presenting a token in `state` at `now` does. An expired or revoked token is
/// refused before reuse is considered: only a replay of a token that would still work revokes
/// its family. A `next` token of another family, client or user is a bug: the family would
/// escape its revocation.
pub(crate) fn plan_rotation(
    state: Option<RefreshTokenState>,
    next: &RefreshTokenRecord,
    now: OffsetDateTime,
) -> Result<RotationPlan, StoreError> {
    let Some(state) = state else {
        return Ok(RotationPlan::Refuse);
    };
    if state.record.expires_at <= stored_instant(now) || state.revoked {
        return Ok(RotationPlan::Refuse);
    }
    if state.used {
        return Ok(RotationPlan::RevokeFamily(state.record.family_id));
    }
    let same_grant = next.family_id == state.record.family_id
        && next.client_id == state.record.client_id
        && next.user_id == state.record.user_id;
    if !same_grant {
        return Err(StoreError::Unknown(anyhow::anyhow!(
            "the next refresh token is not of the presented token's family, client and user"
        )));
    }
    Ok(RotationPlan::Rotate(state.record))
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2025-03-01 09:00 UTC);

    fn token() -> RefreshTokenRecord {
        RefreshTokenRecord {
            token_hash: "a".repeat(64),
            family_id: Uuid::now_v7(),
            client_id: ClientId(Uuid::now_v7()),
            user_id: UserId(Uuid::now_v7()),
            scope: "openid".to_owned(),
            amr: "pwd".to_owned(),
            auth_time: NOW,
            issued_at: NOW,
            expires_at: NOW + Duration::days(30),
        }
    }

    fn state(used: bool, revoked: bool) -> RefreshTokenState {
        RefreshTokenState {
            record: token(),
            used,
            revoked,
        }
    }

    fn next_of(state: &RefreshTokenState) -> RefreshTokenRecord {
        RefreshTokenRecord {
            token_hash: "b".repeat(64),
            ..state.record.clone()
        }
    }

    #[test]
    fn a_live_token_rotates_and_a_used_one_revokes_its_family() -> Result<(), StoreError> {
        let live = state(false, false);
        let next = next_of(&live);
        assert_eq!(
            plan_rotation(Some(live.clone()), &next, NOW)?,
            RotationPlan::Rotate(live.record.clone())
        );
        let used = RefreshTokenState { used: true, ..live };
        assert_eq!(
            plan_rotation(Some(used.clone()), &next, NOW)?,
            RotationPlan::RevokeFamily(used.record.family_id)
        );
        Ok(())
    }

    #[test]
    fn unknown_expired_and_revoked_tokens_are_refused() -> Result<(), StoreError> {
        let live = state(false, false);
        let next = next_of(&live);
        assert_eq!(plan_rotation(None, &next, NOW)?, RotationPlan::Refuse);
        let at_expiry = live.record.expires_at;
        assert_eq!(
            plan_rotation(Some(live), &next, at_expiry)?,
            RotationPlan::Refuse
        );
        assert_eq!(
            plan_rotation(Some(state(true, true)), &next, NOW)?,
            RotationPlan::Refuse
        );
        Ok(())
    }

    #[test]
    fn a_next_token_of_another_family_is_a_bug() {
        let live = state(false, false);
        let mut next = next_of(&live);
        next.family_id = Uuid::now_v7();
        assert!(matches!(
            plan_rotation(Some(live), &next, NOW),
            Err(StoreError::Unknown(_))
        ));
    }

    #[test]
    fn an_unknown_grant_is_corrupt() {
        let columns = ClientColumns {
            id: Uuid::now_v7(),
            name: "Budget".to_owned(),
            client_type: "public".to_owned(),
            scope: "openid".to_owned(),
            first_party: false,
            introspect: false,
            service_user_id: None,
            secret_hash: None,
            created_at: NOW,
        };
        assert!(matches!(
            client_record(columns, Vec::new(), vec!["implicit".to_owned()]),
            Err(StoreError::Unknown(error)) if error.to_string().ends_with("invalid grants")
        ));
    }
}
