//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use std::sync::OnceLock;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{accounts, audit, auth, customers, holds, ops, statements, transactions};

/// Every documented operation. `tests/openapi.rs` checks that this list and the router agree.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Coffre",
        description = "Open-source core-banking API: customers, accounts with French IBANs, a double-entry ledger. \
Errors are RFC 9457 problem documents with a stable `code`. Cookie-authenticated writes need the `X-CSRF-Token` header.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        auth::login, auth::logout,
        customers::sign_up, customers::list, customers::me, customers::get, customers::decide_kyc,
        accounts::open, accounts::list, accounts::get, accounts::patch, accounts::put, accounts::close,
        accounts::freeze, accounts::unfreeze, accounts::balance,
        statements::lines, statements::statement,
        holds::place, holds::get, holds::capture, holds::release,
        transactions::create, transactions::batch, transactions::get, transactions::list,
        transactions::reverse,
        audit::events, audit::verify, audit::trial_balance,
        ops::live, ops::ready, ops::metrics, ops::openapi, ops::docs,
    ),
    modifiers(&SessionSecurity),
    tags(
        (name = "auth", description = "Session login"),
        (name = "customers", description = "Customers and KYC"),
        (name = "accounts", description = "Accounts"),
        (name = "transactions", description = "Moving money: deposits, withdrawals, transfers, batches, reversals"),
        (name = "holds", description = "Card-style holds: reserve, capture, release"),
        (name = "audit", description = "Event log, hash-chain check, trial balance"),
        (name = "operations", description = "Health, metrics, documentation"),
    )
)]
pub struct ApiDoc;

struct SessionSecurity;

impl Modify for SessionSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "coffre_session",
                "Session cookie from POST /auth/login (`__Host-coffre_session` over HTTPS). \
Writes must also send the login's csrf_token as X-CSRF-Token.",
            ))),
        );
    }
}

/// The document as JSON, built once.
pub fn document_json() -> String {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT
        .get_or_init(|| {
            ApiDoc::openapi()
                .to_json()
                .unwrap_or_else(|_| "{}".to_owned())
        })
        .clone()
}
