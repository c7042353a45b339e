//! Which OAuth2 scope each API operation needs from an access token: one table, used both to
//! enforce (in the caller extractor) and to document (the OpenAPI security requirements), so
//! the two cannot drift apart. A route missing from the table is closed to access tokens.
//! Sessions are first-party and keep their role's full rights; the role is checked by the use
//! cases for both.

use axum::http::Method;
use coffre_domain::oauth::Scope;

/// (method, route path as registered, the scope it needs).
pub const OPERATION_SCOPES: &[(&str, &str, Scope)] = &[
    ("POST", "/v1/customers", Scope::CustomersWrite),
    ("GET", "/v1/customers", Scope::CustomersRead),
    ("GET", "/v1/customers/me", Scope::CustomersRead),
    ("GET", "/v1/customers/{id}", Scope::CustomersRead),
    ("POST", "/v1/customers/{id}/kyc", Scope::CustomersWrite),
    ("POST", "/v1/accounts", Scope::AccountsWrite),
    ("GET", "/v1/accounts", Scope::AccountsRead),
    ("GET", "/v1/accounts/{id}", Scope::AccountsRead),
    ("PATCH", "/v1/accounts/{id}", Scope::AccountsWrite),
    ("PUT", "/v1/accounts/{id}", Scope::AccountsWrite),
    ("DELETE", "/v1/accounts/{id}", Scope::AccountsWrite),
    ("POST", "/v1/accounts/{id}/freeze", Scope::AccountsWrite),
    ("POST", "/v1/accounts/{id}/unfreeze", Scope::AccountsWrite),
    ("GET", "/v1/accounts/{id}/balance", Scope::AccountsRead),
    (
        "GET",
        "/v1/accounts/{id}/transactions",
        Scope::TransactionsRead,
    ),
    ("GET", "/v1/accounts/{id}/statement", Scope::AccountsRead),
    ("POST", "/v1/accounts/{id}/holds", Scope::TransactionsWrite),
    ("GET", "/v1/holds/{id}", Scope::TransactionsRead),
    ("POST", "/v1/holds/{id}/capture", Scope::TransactionsWrite),
    ("POST", "/v1/holds/{id}/release", Scope::TransactionsWrite),
    ("POST", "/v1/transactions", Scope::TransactionsWrite),
    ("GET", "/v1/transactions", Scope::TransactionsRead),
    ("POST", "/v1/transactions/batch", Scope::TransactionsWrite),
    ("GET", "/v1/transactions/{id}", Scope::TransactionsRead),
    (
        "POST",
        "/v1/transactions/{id}/reverse",
        Scope::TransactionsWrite,
    ),
    ("GET", "/v1/audit/events", Scope::AuditRead),
    ("GET", "/v1/audit/verify", Scope::AuditRead),
    ("GET", "/v1/audit/trial-balance", Scope::AuditRead),
    ("GET", "/oauth/userinfo", Scope::OpenId),
    ("POST", "/oauth/userinfo", Scope::OpenId),
];

/// Operations open to first-party sessions only, never to access tokens: managing the user's
/// own second factor is not something to delegate to an application.
pub const SESSION_ONLY: &[(&str, &str)] = &[
    ("POST", "/v1/me/mfa/totp"),
    ("POST", "/v1/me/mfa/totp/confirm"),
];

/// The scope an access token needs for `method` on the route `path` (as registered, e.g.
/// `/v1/accounts/{id}`); `None` when the route is not open to access tokens.
pub fn required_scope(method: &Method, path: &str) -> Option<Scope> {
    OPERATION_SCOPES
        .iter()
        .find(|(m, p, _)| *m == method.as_str() && *p == path)
        .map(|(_, _, scope)| *scope)
}
