//! What the router, the OpenAPI document, the caller extractor and the rate limiter know of one
//! HTTP operation. Each operation is declared once, as a row of the route table
//! (`routes::table`, ADR 0020); this module holds the row's type and nothing that names a
//! handler, so the extractors the handlers use can read it without an import circle.

use axum::http::Method;
use axum::routing::MethodFilter;
use coffre_domain::oauth::Scope;
use utoipa::openapi::path::{HttpMethod, Operation as OpenApiOperation, PathItem};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{Paths, PathsBuilder, RefOr};

/// Who may call an operation with an OAuth access token. Sessions are first-party and keep
/// their role's full rights; the role is checked by the use cases for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAccess {
    /// Open to access tokens that carry this scope.
    Scope(Scope),
    /// First-party sessions only, never access tokens: managing the user's own second factor
    /// is not something to delegate to an application.
    SessionOnly,
    /// Not called with an access token (login, the OAuth endpoints themselves, health, docs):
    /// a token sent anyway is refused with `insufficient_scope`.
    Closed,
}

/// The allowance a counted request uses (ADR 0013): logins and the OAuth endpoints, reads and
/// writes apart, so that a burst of reads cannot use up the allowance for money movements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateClass {
    /// Logins and the OAuth endpoints (and what is not found under their paths).
    Auth,
    /// Reads (`GET`, `HEAD`).
    Read,
    /// Everything else.
    Write,
}

impl RateClass {
    /// The class's name, in the limiter's keys and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            RateClass::Auth => "auth",
            RateClass::Read => "read",
            RateClass::Write => "write",
        }
    }
}

/// Which listeners serve an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// The API listener only.
    Api,
    /// The API listener and the metrics listener (health probes: load balancers and monitoring
    /// both ask).
    Both,
    /// The metrics listener when the server has one, else the API listener (`/metrics`).
    Metrics,
}

impl Listener {
    /// Whether the metrics listener serves the operation.
    pub fn on_metrics_listener(self) -> bool {
        self != Listener::Api
    }

    /// Whether the API listener serves the operation, given whether it serves `/metrics` too.
    pub fn on_api_listener(self, with_metrics: bool) -> bool {
        self != Listener::Metrics || with_metrics
    }
}

/// One HTTP operation, as declared in the route table. Its method and path are the ones of its
/// handler's `#[utoipa::path]`, so the router and the document cannot disagree on them.
#[derive(Debug)]
pub struct Operation {
    /// The handler, as written in the table (`accounts::open`): for messages.
    pub handler: &'static str,
    /// Who may call it with an access token.
    pub access: TokenAccess,
    /// The allowance it counts against; `None` for the health probes and metrics, never counted.
    pub rate: Option<RateClass>,
    /// Whether each of its answers, the limiter's 429 included, is an RFC 6749 error document
    /// rather than problem+json (OAuth client libraries read only those).
    pub oauth_errors: bool,
    /// Which listeners serve it.
    pub listener: Listener,
    /// Its handler's `#[utoipa::path]`.
    pub(crate) documented: fn() -> Documented,
}

impl Operation {
    /// A row of the table with the common defaults: problem+json errors, the API listener only.
    pub const fn declared(
        handler: &'static str,
        access: TokenAccess,
        rate: Option<RateClass>,
        documented: fn() -> Documented,
    ) -> Self {
        Operation {
            handler,
            access,
            rate,
            oauth_errors: false,
            listener: Listener::Api,
            documented,
        }
    }

    /// The scope an access token needs for it; `None` when it is closed to access tokens.
    pub fn scope(&self) -> Option<Scope> {
        match self.access {
            TokenAccess::Scope(scope) => Some(scope),
            TokenAccess::SessionOnly | TokenAccess::Closed => None,
        }
    }

    /// Its route template, as registered (`/v1/accounts/{id}`).
    pub fn path(&self) -> String {
        (self.documented)().path
    }

    /// The methods it answers (one per operation in Coffre; utoipa allows several).
    pub fn methods(&self) -> Vec<Method> {
        (self.documented)().methods.iter().map(method).collect()
    }
}

/// The request's operation, put in its extensions by the `operation` middleware, for the
/// extractors that depend on it (the caller's required scope). Absent when the request matched
/// no operation (404, 405, the Swagger UI's assets).
#[derive(Debug, Clone, Copy)]
pub struct MatchedOperation(pub &'static Operation);

/// What a handler's `#[utoipa::path]` declares: its path, methods, OpenAPI operation and the
/// schemas that operation refers to.
pub struct Documented {
    /// The route template (`/v1/accounts/{id}`).
    pub path: String,
    /// The methods it answers.
    pub methods: Vec<HttpMethod>,
    /// The OpenAPI operation, tags included.
    pub operation: OpenApiOperation,
    /// The schemas the operation refers to, for the document's components.
    pub schemas: Vec<(String, RefOr<Schema>)>,
}

impl Documented {
    /// The description of `P`, the type `#[utoipa::path]` generates for a handler, exactly as
    /// `#[derive(OpenApi)]` with `paths(..)` would put it in the document: the operation with
    /// its tags, and the schemas it refers to. These are the hooks `utoipa-axum` uses too.
    pub fn of<P>() -> Self
    where
        P: utoipa::Path + utoipa::__dev::SchemaReferences + for<'t> utoipa::__dev::Tags<'t>,
    {
        let mut operation = P::operation();
        let tags = <P as utoipa::__dev::Tags>::tags();
        let operation_tags = operation.tags.get_or_insert(Vec::new());
        operation_tags.extend(tags.iter().map(ToString::to_string));
        let mut schemas = Vec::new();
        P::schemas(&mut schemas);
        Documented {
            path: P::path(),
            methods: P::methods(),
            operation,
            schemas,
        }
    }

    /// The document's `paths` entry for it.
    pub fn paths(&self) -> Paths {
        let item = PathItem::from_http_methods(self.methods.clone(), self.operation.clone());
        PathsBuilder::new().path(self.path.clone(), item).build()
    }
}

/// The HTTP method of an OpenAPI verb.
pub fn method(verb: &HttpMethod) -> Method {
    match verb {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// The router's filter for an OpenAPI verb.
pub fn method_filter(verb: &HttpMethod) -> MethodFilter {
    match verb {
        HttpMethod::Get => MethodFilter::GET,
        HttpMethod::Post => MethodFilter::POST,
        HttpMethod::Put => MethodFilter::PUT,
        HttpMethod::Delete => MethodFilter::DELETE,
        HttpMethod::Options => MethodFilter::OPTIONS,
        HttpMethod::Head => MethodFilter::HEAD,
        HttpMethod::Patch => MethodFilter::PATCH,
        HttpMethod::Trace => MethodFilter::TRACE,
    }
}
