//! An account's history: `/v1/accounts/{id}/transactions` (statement lines, keyset-paginated)
//! and `/v1/accounts/{id}/statement` (a month, as JSON, CSV or PDF).

use axum::body::Body;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use coffre_app::Principal;
use coffre_app::ports::{Clock, Storage};
use coffre_app::statements::StatementMonth;
use coffre_domain::{Account, AccountId};

use crate::dto::statement::{
    StatementDto, StatementLineDto, StatementLinesDto, StatementLinesQuery, StatementQuery,
};
use crate::error::ApiError;
use crate::extract::{Caller, IdPath, Query};
use crate::problem_responses::{
    InvalidQuery, NotFound, RendersBusy, StatementInvalid, Unauthenticated,
};
use crate::state::AppState;
use crate::statement_pdf::{self, Issuer};
use crate::statement_stream::{self, Streamed};

/// The bank's name on its statements.
const BANK_NAME: &str = "Coffre";

/// The account's statement lines with their running balance, in booking order.
#[utoipa::path(
    operation_id = "listAccountTransactions", get, path = "/v1/accounts/{id}/transactions", tag = "accounts",
    params(("id" = uuid::Uuid, Path, description = "Account id"), StatementLinesQuery),
    security(("session" = [])),
    responses(
        (status = 200, description = "One page of statement lines", body = StatementLinesDto, headers(("Link" = String))),
        Unauthenticated, NotFound, InvalidQuery,
    ))]
pub async fn lines<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<StatementLinesQuery>,
) -> Result<Response, ApiError> {
    let (filter, cursor) = query.try_into_domain().map_err(ApiError::validation)?;
    let page = state
        .service
        .statement_lines(&caller, AccountId(id), filter, cursor, query.limit)
        .await?;
    let next_cursor = page.next_cursor.map(|cursor| cursor.to_string());
    let mut headers = HeaderMap::new();
    if let Some(link) = next_cursor.as_deref().and_then(|c| next_link(&uri, c)) {
        headers.insert(header::LINK, link);
    }
    let body = StatementLinesDto {
        items: page.items.iter().map(StatementLineDto::from).collect(),
        next_cursor,
    };
    Ok((headers, axum::Json(body)).into_response())
}

/// `Link: <same request, cursor=next>; rel="next"`.
fn next_link(uri: &Uri, cursor: &str) -> Option<HeaderValue> {
    let mut query: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .filter(|(key, _)| key != "cursor")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    query.push(("cursor".to_owned(), cursor.to_owned()));
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    HeaderValue::from_str(&format!("<{}?{encoded}>; rel=\"next\"", uri.path())).ok()
}

/// The formats a statement is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    Pdf,
}

/// The first of CSV or PDF the client accepts; JSON otherwise (the contract knows no 406).
fn negotiate(headers: &HeaderMap) -> Format {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|item| {
            item.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    for media_type in accept {
        match media_type.as_str() {
            "application/json" => return Format::Json,
            "text/csv" => return Format::Csv,
            "application/pdf" => return Format::Pdf,
            _ => {}
        }
    }
    Format::Json
}

/// A month's statement: opening and closing balances, totals and every line. JSON by default;
/// `Accept: text/csv` gives one CSV row per line, `Accept: application/pdf` a printable PDF.
/// JSON and CSV are streamed and have no size limit; a PDF holds at most the configured number
/// of lines (`statement_too_large` above it), and a node renders a bounded number of PDFs at
/// once (503 `service_unavailable` with `Retry-After` when they are all busy).
#[utoipa::path(
    operation_id = "getAccountStatement", get, path = "/v1/accounts/{id}/statement", tag = "accounts",
    params(("id" = uuid::Uuid, Path, description = "Account id"), StatementQuery),
    security(("session" = [])),
    responses(
        (status = 200, description = "The statement; JSON and CSV are streamed (chunked): a body \
            cut short by a server-side failure is an incomplete statement", content(
            (StatementDto = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/pdf"),
        )),
        Unauthenticated, NotFound, StatementInvalid, RendersBusy,
    ))]
pub async fn statement<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
    headers: HeaderMap,
    Query(query): Query<StatementQuery>,
) -> Result<Response, ApiError> {
    let month = query.try_into_domain().map_err(ApiError::validation)?;
    let streamed = match negotiate(&headers) {
        Format::Json => Streamed::Json,
        Format::Csv => Streamed::Csv,
        Format::Pdf => return pdf_statement(&state, &caller, AccountId(id), month).await,
    };
    let summary = state
        .service
        .statement_summary(&caller, AccountId(id), month)
        .await?;
    let file_name = file_name(&summary.account, month);
    let pages = state.service.statement_pages(&summary);
    let body = statement_stream::body(streamed, summary, pages);
    Ok(match streamed {
        Streamed::Json => {
            let json = HeaderValue::from_static("application/json");
            ([(header::CONTENT_TYPE, json)], body).into_response()
        }
        Streamed::Csv => attachment("text/csv; charset=utf-8", &format!("{file_name}.csv"), body),
    })
}

/// `statement-<IBAN>-<YYYY-MM>`.
fn file_name(account: &Account, month: StatementMonth) -> String {
    format!("statement-{}-{}", account.iban.electronic(), month)
}

/// The PDF, rendered whole: at most the configured lines, and only when the node has a free
/// render (waiting a bounded time for one).
async fn pdf_statement<S: Storage, C: Clock>(
    state: &AppState<S, C>,
    caller: &Principal,
    id: AccountId,
    month: StatementMonth,
) -> Result<Response, ApiError> {
    let limits = &state.settings.statements;
    let _turn = limits.renders.enter().await?;
    let statement = state
        .service
        .monthly_statement(caller, id, month, limits.pdf_max_lines)
        .await?;
    let file_name = file_name(&statement.summary.account, month);
    let bic = state.service.bank().bic.as_str().to_owned();
    // Rendering is CPU work: off the async workers, so other requests keep being served.
    let body = tokio::task::spawn_blocking(move || {
        let issuer = Issuer {
            name: BANK_NAME,
            bic: &bic,
        };
        statement_pdf::render(&statement, issuer)
    })
    .await
    .map_err(|e| ApiError::from(coffre_app::AppError::Unknown(e.into())))?;
    Ok(attachment(
        "application/pdf",
        &format!("{file_name}.pdf"),
        Body::from(body),
    ))
}

/// A downloadable body.
fn attachment(content_type: &'static str, file_name: &str, body: Body) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    (headers, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn the_format_follows_accept_and_defaults_to_json() {
        assert_eq!(negotiate(&HeaderMap::new()), Format::Json);
        assert_eq!(negotiate(&accept("text/csv")), Format::Csv);
        assert_eq!(negotiate(&accept("application/pdf;q=0.9")), Format::Pdf);
        assert_eq!(negotiate(&accept("text/html, */*")), Format::Json);
    }
}
