//! `/v1/audit`: the event log, its hash-chain check and the trial balance (auditors, admins).

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use coffre_app::ports::{Clock, Storage};

use crate::dto::audit::{
    ChainReportDto, EventListQuery, EventPageDto, TrialBalanceDto, TrialBalanceListDto,
};
use crate::error::ApiError;
use crate::extract::{Caller, Query};
use crate::problem_responses::{Forbidden, InvalidQuery, Unauthenticated};
use crate::state::AppState;

/// The RFC 8288 `Link` to the next page of a keyset list: same path and filters, the new
/// `cursor`.
fn next_link(uri: &Uri, cursor: &str) -> Option<HeaderValue> {
    let mut query: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .filter(|(key, _)| key != "cursor")
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
    query.push(("cursor".to_owned(), cursor.to_owned()));
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    HeaderValue::from_str(&format!("<{}?{encoded}>; rel=\"next\"", uri.path())).ok()
}

/// The event log, in sequence order, keyset-paginated.
#[utoipa::path(
    operation_id = "listAuditEvents", get, path = "/v1/audit/events", tag = "audit",
    params(EventListQuery),
    security(("session" = [])),
    responses(
        (status = 200, description = "One page of events", body = EventPageDto, headers(("Link" = String))),
        Unauthenticated, Forbidden, InvalidQuery,
    ))]
pub async fn events<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<EventListQuery>,
) -> Result<Response, ApiError> {
    let page = state
        .service
        .audit_events(&caller, &query.into_query())
        .await?;
    let mut headers = HeaderMap::new();
    if let Some(link) = page
        .next_cursor
        .as_deref()
        .and_then(|cursor| next_link(&uri, cursor))
    {
        headers.insert(header::LINK, link);
    }
    Ok((headers, axum::Json(EventPageDto::from(page))).into_response())
}

/// Re-checks the hash chain of the whole event log.
#[utoipa::path(
    operation_id = "verifyAuditLog", get, path = "/v1/audit/verify", tag = "audit",
    security(("session" = [])),
    responses(
        (status = 200, description = "What the check found", body = ChainReportDto),
        Unauthenticated, Forbidden,
    ))]
pub async fn verify<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
) -> Result<Response, ApiError> {
    let report = state.service.verify_log(&caller).await?;
    Ok(axum::Json(ChainReportDto::from(report)).into_response())
}

/// Per currency, customer and internal totals from one snapshot; each `total` is zero.
#[utoipa::path(
    operation_id = "trialBalance", get, path = "/v1/audit/trial-balance", tag = "audit",
    security(("session" = [])),
    responses(
        (status = 200, description = "The trial balance", body = TrialBalanceListDto),
        Unauthenticated, Forbidden,
    ))]
pub async fn trial_balance<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
) -> Result<Response, ApiError> {
    let lines = state.service.trial_balance(&caller).await?;
    let items = lines.into_iter().map(TrialBalanceDto::from).collect();
    Ok(axum::Json(TrialBalanceListDto { items }).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_keeps_filters_and_replaces_the_cursor() {
        let uri = Uri::from_static("/v1/audit/events?type=AccountFrozen&cursor=3&limit=2");
        let link = next_link(&uri, "5").map(|h| h.to_str().map(str::to_owned).unwrap_or_default());
        assert_eq!(
            link.as_deref(),
            Some("</v1/audit/events?type=AccountFrozen&limit=2&cursor=5>; rel=\"next\"")
        );
    }
}
