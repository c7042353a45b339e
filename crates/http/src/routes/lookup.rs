//! Finding the operation a request is for in the route table, by its method and matched route
//! template, and what follows from it: the rate class it counts against, even for a request
//! no operation answers.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::http::Method;

use crate::operation::{Operation, RateClass, method};
use crate::routes::table::OPERATIONS;

/// The table's operations by route template, each with its method.
static BY_TEMPLATE: LazyLock<HashMap<String, Vec<(Method, &'static Operation)>>> =
    LazyLock::new(|| {
        let mut index: HashMap<String, Vec<(Method, &'static Operation)>> = HashMap::new();
        for operation in OPERATIONS {
            let documented = (operation.documented)();
            let entry = index.entry(documented.path).or_default();
            entry.extend(
                documented
                    .methods
                    .iter()
                    .map(|verb| (method(verb), operation)),
            );
        }
        index
    });

/// How the table's operations of each path family count (see [`family`]): `Some` of their one
/// class when they are all `auth` or all uncounted, `None` when they differ.
static FAMILY_CLASS: LazyLock<HashMap<&'static str, Option<Option<RateClass>>>> =
    LazyLock::new(|| {
        let mut classes: HashMap<&'static str, Option<Option<RateClass>>> = HashMap::new();
        for (template, operations) in BY_TEMPLATE.iter() {
            for (_, operation) in operations {
                let shared = match operation.rate {
                    Some(RateClass::Auth) | None => Some(operation.rate),
                    Some(RateClass::Read | RateClass::Write) => None,
                };
                classes
                    .entry(family(template))
                    .and_modify(|class| {
                        if *class != shared {
                            *class = None;
                        }
                    })
                    .or_insert(shared);
            }
        }
        classes
    });

/// The operation for `method` on the route `template` (`/v1/accounts/{id}`), if there is one.
/// A `HEAD` the router answers with a `GET` handler is no operation of its own: it is closed to
/// access tokens, and [`rate_class`] counts it as a read.
pub fn find(method: &Method, template: &str) -> Option<&'static Operation> {
    BY_TEMPLATE
        .get(template)?
        .iter()
        .find(|(served, _)| served == method)
        .map(|(_, operation)| *operation)
}

/// The class a request for `method` on `path` counts against, or `None` when it is not counted
/// (CORS preflights, the health probes and metrics). `path` is the matched route template, or
/// the raw path when the request matched no route.
pub fn rate_class(method: &Method, path: &str) -> Option<RateClass> {
    if *method == Method::OPTIONS {
        return None;
    }
    if let Some(operation) = find(method, path) {
        return operation.rate;
    }
    // No operation answers (404, 405, the Swagger UI's assets): the request counts like its
    // family's operations when they agree (an unknown `/oauth/…` path is still `auth`, an
    // unknown `/health/…` one still uncounted), else as a read or a write.
    match FAMILY_CLASS.get(family(path)) {
        Some(Some(shared)) => *shared,
        _ if *method == Method::GET || *method == Method::HEAD => Some(RateClass::Read),
        _ => Some(RateClass::Write),
    }
}

/// Whether the operations on `template`, whatever the method, answer RFC 6749 error documents.
pub fn answers_oauth_errors(template: &str) -> bool {
    BY_TEMPLATE.get(template).is_some_and(|operations| {
        operations
            .iter()
            .any(|(_, operation)| operation.oauth_errors)
    })
}

/// A path's family: its first segment with the slash after it (`/oauth/`) when it has more
/// segments, else the whole path (`/metrics`).
fn family(path: &str) -> &str {
    match path.get(1..).and_then(|rest| rest.find('/')) {
        Some(slash) => &path[..slash + 2],
        None => path,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// How requests were classed before the route table (issue 15): by path prefix.
    fn prefix_rules(method: &Method, path: &str) -> Option<RateClass> {
        if *method == Method::OPTIONS || path.starts_with("/health/") || path == "/metrics" {
            return None;
        }
        if path.starts_with("/auth/")
            || path.starts_with("/oauth/")
            || path.starts_with("/.well-known/")
        {
            return Some(RateClass::Auth);
        }
        if *method == Method::GET || *method == Method::HEAD {
            Some(RateClass::Read)
        } else {
            Some(RateClass::Write)
        }
    }

    #[test]
    fn every_request_counts_as_the_former_prefix_rules_counted_it() {
        let unknown = [
            "/",
            "/nowhere",
            "/v1/nowhere",
            "/v1",
            "/oauth",
            "/oauth/nowhere",
            "/auth/x",
            "/.well-known/x",
            "/health",
            "/health/",
            "/health/x",
            "/metrics",
            "/metrics/",
            "/metricsx",
            "/docs/ui/",
            "/docs/ui/index.css",
            "/openapi.json/x",
        ];
        let templates: Vec<&str> = BY_TEMPLATE.keys().map(String::as_str).collect();
        let methods = [
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ];
        for path in templates.iter().copied().chain(unknown) {
            for method in &methods {
                assert_eq!(
                    rate_class(method, path),
                    prefix_rules(method, path),
                    "{method} {path}"
                );
            }
        }
    }

    #[test]
    fn each_method_and_route_is_declared_once_and_found() {
        let mut seen = BTreeSet::new();
        for operation in OPERATIONS {
            let path = operation.path();
            for method in operation.methods() {
                assert!(
                    seen.insert((method.to_string(), path.clone())),
                    "{method} {path} declared twice ({})",
                    operation.handler
                );
                assert!(find(&method, &path).is_some_and(|found| std::ptr::eq(found, operation)));
            }
        }
        assert_eq!(seen.len(), OPERATIONS.len());
    }

    #[test]
    fn only_the_oauth_protocol_endpoints_answer_oauth_errors() {
        let answering: BTreeSet<&str> = BY_TEMPLATE
            .keys()
            .map(String::as_str)
            .filter(|template| answers_oauth_errors(template))
            .collect();
        let expected = [
            "/oauth/introspect",
            "/oauth/refresh",
            "/oauth/revoke",
            "/oauth/token",
        ];
        assert_eq!(answering, BTreeSet::from(expected));
    }
}
