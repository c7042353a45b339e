//! Which OAuth2 scope each API operation needs from an access token, as the route table
//! declares it (`routes::table`): the caller extractor enforces it and the OpenAPI document
//! publishes it, so the two cannot drift apart. An operation without a scope is closed to access
//! tokens. Sessions are first-party and keep their role's full rights; the role is checked by
//! the use cases for both.

use std::sync::LazyLock;

use axum::http::Method;
use coffre_domain::oauth::Scope;

use crate::operation::{Operation, TokenAccess};
use crate::routes::lookup::find;
use crate::routes::table::OPERATIONS;

/// Operations open to first-party sessions only, never to access tokens: managing the user's
/// own second factor is not something to delegate to an application. (method, route path.)
pub static SESSION_ONLY: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    OPERATIONS
        .iter()
        .filter(|operation| operation.access == TokenAccess::SessionOnly)
        .flat_map(|operation| {
            let path = operation.path();
            let methods = operation.methods().into_iter();
            methods.map(move |method| (method.to_string(), path.clone()))
        })
        .collect()
});

/// The scope an access token needs for `method` on the route `path` (as registered, e.g.
/// `/v1/accounts/{id}`); `None` when the route is not open to access tokens.
pub fn required_scope(method: &Method, path: &str) -> Option<Scope> {
    find(method, path).and_then(Operation::scope)
}

#[cfg(test)]
mod tests {
    use coffre_domain::oauth::Scope::{
        AccountsRead, AccountsWrite, AuditRead, CustomersRead, CustomersWrite, OpenId,
        TransactionsRead, TransactionsWrite,
    };

    use super::*;

    /// The scope table as it was written before the route table (issue 15).
    const FORMER_TABLE: &[(&str, &str, Scope)] = &[
        ("POST", "/v1/customers", CustomersWrite),
        ("GET", "/v1/customers", CustomersRead),
        ("GET", "/v1/customers/me", CustomersRead),
        ("GET", "/v1/customers/{id}", CustomersRead),
        ("POST", "/v1/customers/{id}/kyc", CustomersWrite),
        ("POST", "/v1/accounts", AccountsWrite),
        ("GET", "/v1/accounts", AccountsRead),
        ("GET", "/v1/accounts/{id}", AccountsRead),
        ("PATCH", "/v1/accounts/{id}", AccountsWrite),
        ("PUT", "/v1/accounts/{id}", AccountsWrite),
        ("DELETE", "/v1/accounts/{id}", AccountsWrite),
        ("POST", "/v1/accounts/{id}/freeze", AccountsWrite),
        ("POST", "/v1/accounts/{id}/unfreeze", AccountsWrite),
        ("GET", "/v1/accounts/{id}/balance", AccountsRead),
        ("GET", "/v1/accounts/{id}/transactions", TransactionsRead),
        ("GET", "/v1/accounts/{id}/statement", AccountsRead),
        ("POST", "/v1/accounts/{id}/holds", TransactionsWrite),
        ("GET", "/v1/holds/{id}", TransactionsRead),
        ("POST", "/v1/holds/{id}/capture", TransactionsWrite),
        ("POST", "/v1/holds/{id}/release", TransactionsWrite),
        ("POST", "/v1/transactions", TransactionsWrite),
        ("GET", "/v1/transactions", TransactionsRead),
        ("POST", "/v1/transactions/batch", TransactionsWrite),
        ("GET", "/v1/transactions/{id}", TransactionsRead),
        ("POST", "/v1/transactions/{id}/reverse", TransactionsWrite),
        ("GET", "/v1/audit/events", AuditRead),
        ("GET", "/v1/audit/verify", AuditRead),
        ("GET", "/v1/audit/trial-balance", AuditRead),
        ("GET", "/oauth/userinfo", OpenId),
        ("POST", "/oauth/userinfo", OpenId),
    ];

    #[test]
    fn every_operation_needs_the_scope_the_former_table_gave_it() {
        for operation in OPERATIONS {
            let path = operation.path();
            for method in operation.methods() {
                let former = FORMER_TABLE
                    .iter()
                    .find(|(m, p, _)| *m == method.as_str() && *p == path)
                    .map(|(_, _, scope)| *scope);
                assert_eq!(required_scope(&method, &path), former, "{method} {path}");
            }
        }
        assert_eq!(required_scope(&Method::HEAD, "/v1/accounts"), None);
    }

    #[test]
    fn only_the_second_factor_is_session_only() {
        let expected = [
            ("POST".to_owned(), "/v1/me/mfa/totp".to_owned()),
            ("POST".to_owned(), "/v1/me/mfa/totp/confirm".to_owned()),
        ];
        assert_eq!(*SESSION_ONLY, expected);
    }
}
