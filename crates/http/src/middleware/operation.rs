//! Finds the operation a request is for in the route table, once, and puts it in the request's
//! extensions ([`MatchedOperation`]) for the extractors that depend on it: the caller's required
//! scope. The extractors cannot look it up themselves: the table names the handlers, which use
//! them.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

use crate::operation::MatchedOperation;
use crate::routes::lookup::find;

/// Adds the request's [`MatchedOperation`], when its method and matched route are one.
pub async fn identify_operation(mut request: Request, next: Next) -> Response {
    let operation = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|matched| find(request.method(), matched.as_str()));
    if let Some(operation) = operation {
        request.extensions_mut().insert(MatchedOperation(operation));
    }
    next.run(request).await
}
