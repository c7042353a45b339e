//! Who is calling: the authenticated user, their role and, for customers, which customer.

use coffre_domain::events::Actor;
use coffre_domain::oauth::{ClientId, Scope, Scopes};
use coffre_domain::{CustomerId, Role, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppError;

/// The authenticated caller of a use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// Their role.
    pub role: Role,
    /// For customers, the customer they are.
    pub customer_id: Option<CustomerId>,
    /// What they authenticated with.
    pub credential: Credential,
}

/// How a caller authenticated, which bounds what they may do beyond their role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A first-party session (cookie): the full rights of the role.
    Session(SignIn),
    /// An OAuth2 access token: the rights of the role narrowed to the token's scopes.
    AccessToken(TokenGrant),
    /// Coffre's own command-line tools, acting directly on the database.
    Internal,
}

/// How and when the user of a session signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// How the user authenticated (RFC 8176 values: `pwd`, `otp`, `mfa`).
    pub amr: Vec<String>,
    /// When.
    pub auth_time: OffsetDateTime,
}

/// The `amr` values of a login with a second factor: a password and a one-time code (a TOTP
/// or a recovery code), hence multi-factor (RFC 8176).
pub const AMR_WITH_OTP: [&str; 3] = ["pwd", "otp", "mfa"];

/// The `amr` values of a password-only login.
pub const AMR_PASSWORD: [&str; 1] = ["pwd"];

/// What an access token carries beyond who its subject is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The token id (what revocation lists).
    pub jti: Uuid,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// Its scopes.
    pub scopes: Scopes,
    /// How the user authenticated (`pwd`, `otp`).
    pub amr: Vec<String>,
    /// When the user authenticated (none for service accounts).
    pub auth_time: Option<OffsetDateTime>,
    /// When the token expires.
    pub expires_at: OffsetDateTime,
}

impl Principal {
    /// True when the caller's credential allows `scope`: always for sessions, and for tokens
    /// only when granted. Roles are checked by the use cases on top of this.
    pub fn has_scope(&self, scope: Scope) -> bool {
        match &self.credential {
            Credential::Session(_) | Credential::Internal => true,
            Credential::AccessToken(grant) => grant.scopes.contains(scope),
        }
    }

    /// How the caller authenticated and when: the session's login, or the login that started
    /// the token's grant. `None` for the command line and service accounts.
    pub fn sign_in(&self) -> Option<(&[String], OffsetDateTime)> {
        match &self.credential {
            Credential::Session(sign_in) => Some((&sign_in.amr, sign_in.auth_time)),
            Credential::AccessToken(grant) => grant.auth_time.map(|at| (grant.amr.as_slice(), at)),
            Credential::Internal => None,
        }
    }

    /// When the caller last proved a one-time code, if their login included one.
    pub fn one_time_code_at(&self) -> Option<OffsetDateTime> {
        self.sign_in()
            .filter(|(amr, _)| amr.iter().any(|method| method == "otp"))
            .map(|(_, at)| at)
    }

    /// Refuses, with 403, anyone not signed in with a session: managing one's own second
    /// factor is not something an application may do with a token.
    pub fn require_session(&self) -> Result<(), AppError> {
        match self.credential {
            Credential::Session(_) => Ok(()),
            _ => Err(AppError::Forbidden),
        }
    }

    /// The caller as the event log records them.
    pub fn actor(&self) -> Actor {
        Actor::User(self.user_id)
    }

    /// True when the caller is this customer. Staff are never "the owner".
    pub fn is_customer(&self, customer_id: CustomerId) -> bool {
        self.role == Role::Customer && self.customer_id == Some(customer_id)
    }

    /// May read this customer's records: the customer themself, or any staff member.
    pub fn can_read(&self, owner: CustomerId) -> bool {
        self.role.is_staff() || self.is_customer(owner)
    }

    /// Refuses anyone but staff who service accounts (teller, admin), with 403: the resource's
    /// existence is not a secret from staff.
    pub fn require_servicing_staff(&self) -> Result<(), AppError> {
        if self.role.can_service_accounts() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Refuses non-staff with 403 (staff-only collections such as the customer list).
    pub fn require_staff(&self) -> Result<(), AppError> {
        if self.role.is_staff() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The 404 rule: a resource the caller may not read does not exist for them.
    pub fn require_read(&self, owner: CustomerId) -> Result<(), AppError> {
        if self.can_read(owner) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}
