//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use std::sync::OnceLock;

use axum::http::Method;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation as OpenApiOperation;
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Header, PathItem, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::operation::{Operation, method};
use crate::routes::lookup::rate_class;
use crate::routes::table::OPERATIONS;

/// The document: every operation of the route table ([`RouteTable`]), with the security schemes,
/// the scopes and the rate limits the table declares for each.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Coffre",
        description = "Open-source core-banking API: customers, accounts with French IBANs, a double-entry ledger. \
Errors are RFC 9457 problem documents with a stable `code` (the OAuth endpoints answer RFC 6749 errors). \
Call the API with an OAuth 2.0 access token (`Authorization: Bearer`, scopes per operation) or a first-party session cookie; \
cookie-authenticated writes need the `X-CSRF-Token` header.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&RouteTable, &SessionSecurity, &TokenScopes, &RateLimits),
    tags(
        (name = "auth", description = "Session login"),
        (name = "oauth", description = "OAuth 2.0 / OpenID Connect authorization server"),
        (name = "mfa", description = "Two-factor authentication: TOTP enrolment and recovery codes"),
        (name = "customers", description = "Customers and KYC"),
        (name = "accounts", description = "Accounts"),
        (name = "transactions", description = "Moving money: deposits, withdrawals, transfers, batches, reversals"),
        (name = "holds", description = "Card-style holds: reserve, capture, release"),
        (name = "audit", description = "Event log, hash-chain check, trial balance"),
        (name = "operations", description = "Health, metrics, documentation"),
    )
)]
pub struct ApiDoc;

/// Adds every operation of the route table, from its handler's `#[utoipa::path]`, and the
/// schemas they refer to: what `paths(..)` in the derive would do, from the table the router is
/// built from.
struct RouteTable;

impl Modify for RouteTable {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for operation in OPERATIONS {
            let documented = (operation.documented)();
            openapi.paths.merge(documented.paths());
            components.schemas.extend(documented.schemas);
        }
    }
}

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

/// Adds the bearer scheme and, to every operation open to access tokens, the scope it needs,
/// from the route table the caller extractor enforces.
struct TokenScopes;

impl Modify for TokenScopes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token (RFC 9068 JWT) from POST /oauth/token. It may do what \
both its scopes and its user's role allow.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
        for (operation, scope) in OPERATIONS
            .iter()
            .filter_map(|operation| Some((operation, operation.scope()?)))
        {
            require_bearer(openapi, operation, scope.as_str());
        }
    }
}

/// Adds the bearer requirement with `scope` to the document's entry for `operation`.
fn require_bearer(openapi: &mut utoipa::openapi::OpenApi, operation: &Operation, scope: &str) {
    let documented = (operation.documented)();
    let Some(item) = openapi.paths.paths.get_mut(&documented.path) else {
        return;
    };
    let verbs: Vec<Method> = documented.methods.iter().map(method).collect();
    for (_, entry) in operations(item).filter(|(verb, _)| verbs.contains(verb)) {
        let bearer = SecurityRequirement::new("bearer", [scope]);
        let security = entry.security.get_or_insert_with(Vec::new);
        if !security.contains(&bearer) {
            security.push(bearer);
        }
    }
}

/// Adds to every operation the rate limiter counts (the route table's [`rate_class`]) its
/// `RateLimit-*` headers on every response, and the 429 it may answer.
struct RateLimits;

/// The headers every counted response carries, with what they say.
const RATE_LIMIT_HEADERS: [(&str, &str); 3] = [
    (
        "RateLimit-Limit",
        "Requests allowed per minute for this client and route class",
    ),
    ("RateLimit-Remaining", "Requests still allowed now"),
    (
        "RateLimit-Reset",
        "Seconds until the allowance is whole again",
    ),
];

fn integer_header(description: &str) -> RefOr<Header> {
    RefOr::T(
        HeaderBuilder::new()
            .schema(Some(Object::with_type(Type::Integer)))
            .description(Some(description))
            .build(),
    )
}

/// The operations of a path, with their methods.
fn operations(item: &mut PathItem) -> impl Iterator<Item = (Method, &mut OpenApiOperation)> {
    [
        (Method::GET, item.get.as_mut()),
        (Method::PUT, item.put.as_mut()),
        (Method::POST, item.post.as_mut()),
        (Method::DELETE, item.delete.as_mut()),
        (Method::OPTIONS, item.options.as_mut()),
        (Method::HEAD, item.head.as_mut()),
        (Method::PATCH, item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| Some((method, operation?)))
}

impl Modify for RateLimits {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            for (method, operation) in operations(item) {
                if rate_class(&method, path).is_none() {
                    continue;
                }
                let responses = &mut operation.responses.responses;
                responses.entry("429".to_owned()).or_insert_with(|| {
                    let problem = ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build();
                    let retry_after = HeaderBuilder::new()
                        .schema(Some(Object::with_type(Type::Integer)))
                        .description(Some("Seconds to wait before trying again"))
                        .build();
                    RefOr::T(
                        ResponseBuilder::new()
                            .description("Too many requests from this client (`rate_limited`)")
                            .content("application/problem+json", problem)
                            .header("Retry-After", retry_after)
                            .build(),
                    )
                });
                for response in responses.values_mut() {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    for (name, description) in RATE_LIMIT_HEADERS {
                        response
                            .headers
                            .entry(name.to_owned())
                            .or_insert_with(|| integer_header(description));
                    }
                }
            }
        }
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
