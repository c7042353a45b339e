//! OAuth2 scopes: what a token may be used for. A token can never do more than both its scopes
//! and its user's role allow, so a scope only ever narrows a role.

use std::collections::BTreeSet;
use std::fmt;

use crate::Role;

/// One scope Coffre grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// OpenID Connect: an `id_token` and `/oauth/userinfo`.
    OpenId,
    /// OpenID Connect: the user's name in userinfo and the id token.
    Profile,
    /// Read accounts, balances and statements.
    AccountsRead,
    /// Open, change and close accounts.
    AccountsWrite,
    /// Read transactions and holds.
    TransactionsRead,
    /// Move money.
    TransactionsWrite,
    /// Read customers.
    CustomersRead,
    /// Register and change customers.
    CustomersWrite,
    /// Read the audit log.
    AuditRead,
    /// Administration.
    Admin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 10] = [
        Scope::OpenId,
        Scope::Profile,
        Scope::AccountsRead,
        Scope::AccountsWrite,
        Scope::TransactionsRead,
        Scope::TransactionsWrite,
        Scope::CustomersRead,
        Scope::CustomersWrite,
        Scope::AuditRead,
        Scope::Admin,
    ];

    /// The scope as tokens and requests spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::OpenId => "openid",
            Scope::Profile => "profile",
            Scope::AccountsRead => "accounts:read",
            Scope::AccountsWrite => "accounts:write",
            Scope::TransactionsRead => "transactions:read",
            Scope::TransactionsWrite => "transactions:write",
            Scope::CustomersRead => "customers:read",
            Scope::CustomersWrite => "customers:write",
            Scope::AuditRead => "audit:read",
            Scope::Admin => "admin",
        }
    }

    /// Parses one scope.
    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == text)
    }

    /// A short description for the consent page.
    pub fn description(self) -> &'static str {
        match self {
            Scope::OpenId => "Know who you are",
            Scope::Profile => "See your name",
            Scope::AccountsRead => "See your accounts, balances and statements",
            Scope::AccountsWrite => "Open, change and close your accounts",
            Scope::TransactionsRead => "See your transactions and card holds",
            Scope::TransactionsWrite => "Move money from your accounts",
            Scope::CustomersRead => "See your customer record",
            Scope::CustomersWrite => "Change your customer record",
            Scope::AuditRead => "Read the bank's audit log",
            Scope::Admin => "Administer the bank",
        }
    }

    /// True when a user with `role` may ever hold this scope.
    pub fn allowed_for(self, role: Role) -> bool {
        match self {
            Scope::OpenId | Scope::Profile => true,
            Scope::AuditRead => matches!(role, Role::Auditor | Role::Admin),
            Scope::Admin => role == Role::Admin,
            Scope::AccountsRead | Scope::TransactionsRead | Scope::CustomersRead => true,
            Scope::AccountsWrite | Scope::TransactionsWrite | Scope::CustomersWrite => {
                role != Role::Auditor
            }
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope string that is not a space-separated list of known scopes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{0}`")]
pub struct UnknownScope(pub String);

/// A set of scopes, written space-separated (RFC 6749 §3.3), in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    /// Parses `scope` (space-separated; empty is the empty set). Any unknown scope refuses the
    /// whole string (RFC 6749 `invalid_scope`).
    pub fn parse(text: &str) -> Result<Scopes, UnknownScope> {
        text.split(' ')
            .filter(|part| !part.is_empty())
            .map(|part| Scope::parse(part).ok_or_else(|| UnknownScope(part.to_owned())))
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Scopes)
    }

    /// True when `scope` is in the set.
    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    /// True when every scope of `self` is in `other`.
    pub fn is_subset(&self, other: &Scopes) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The scopes of `self` that a user with `role` may hold.
    pub fn allowed_for(&self, role: Role) -> Scopes {
        Scopes(
            self.0
                .iter()
                .copied()
                .filter(|scope| scope.allowed_for(role))
                .collect(),
        )
    }

    /// True when the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes, in order.
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Scopes(iter.into_iter().collect())
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_strings_round_trip_in_a_stable_order() -> Result<(), UnknownScope> {
        let scopes = Scopes::parse("transactions:write  openid accounts:read")?;
        assert_eq!(
            scopes.to_string(),
            "openid accounts:read transactions:write"
        );
        assert_eq!(Scopes::parse(&scopes.to_string())?, scopes);
        assert!(Scopes::parse("")?.is_empty());
        Ok(())
    }

    #[test]
    fn one_unknown_scope_refuses_the_whole_request() {
        assert_eq!(
            Scopes::parse("accounts:read accounts:delete"),
            Err(UnknownScope("accounts:delete".to_owned()))
        );
    }

    #[test]
    fn a_role_narrows_the_scopes_it_may_hold() -> Result<(), UnknownScope> {
        let asked = Scopes::parse("openid accounts:write audit:read admin")?;
        assert_eq!(
            asked.allowed_for(Role::Customer).to_string(),
            "openid accounts:write"
        );
        assert_eq!(
            asked.allowed_for(Role::Auditor).to_string(),
            "openid audit:read"
        );
        assert_eq!(asked.allowed_for(Role::Admin), asked);
        Ok(())
    }
}
