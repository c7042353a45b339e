//! `/v1/accounts`: opening, reading, listing, servicing and closing accounts.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coffre_app::PageRequest;
use coffre_app::ports::{Clock, Storage};
use coffre_domain::{Account, AccountId};

use crate::dto::account::{
    AccountDto, AccountListQuery, BalanceDto, FreezeBody, OpenAccountBody, PatchAccountBody,
    PutAccountBody,
};
use crate::dto::page::{PageDto, link_header};
use crate::error::{ApiError, Problem};
use crate::extract::if_match::etag;
use crate::extract::{Caller, IdPath, IfMatch, Json, Query};
use crate::problem_responses::{
    BadRequest, Forbidden, InvalidQuery, JsonBodyErrors, NotFound, PreconditionFailed,
    Unauthenticated,
};
use crate::state::AppState;

/// An account's representation: with its pending holds and daily limit in force.
async fn account_dto<S: Storage, C: Clock>(
    state: &AppState<S, C>,
    account: Account,
) -> Result<AccountDto, ApiError> {
    let figures = state.service.account_figures(&account).await?;
    Ok(AccountDto::new(account, figures))
}

/// An account with its `ETag` (and `Location` when just created).
async fn account_response<S: Storage, C: Clock>(
    state: &AppState<S, C>,
    status: StatusCode,
    account: Account,
) -> Result<Response, ApiError> {
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, etag(account.version));
    if status == StatusCode::CREATED {
        if let Ok(location) = format!("/v1/accounts/{}", account.id).parse() {
            headers.insert(header::LOCATION, location);
        }
    }
    let body = account_dto(state, account).await?;
    Ok((status, headers, axum::Json(body)).into_response())
}

/// Open an account with a generated French IBAN (the owner, or a teller for a customer).
#[utoipa::path(
    operation_id = "openAccount",post, path = "/v1/accounts", tag = "accounts",
    request_body = OpenAccountBody,
    security(("session" = [])),
    responses(
        (status = 201, description = "Account opened", body = AccountDto, headers(("Location" = String), ("ETag" = String))),
        (status = 404, description = "No such customer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "KYC rejected, or a second Livret A", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors, Unauthenticated, Forbidden,
    ))]
pub async fn open<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    Json(body): Json<OpenAccountBody>,
) -> Result<Response, ApiError> {
    let account = state
        .service
        .open_account(&caller, body.into_domain())
        .await?;
    account_response(&state, StatusCode::CREATED, account).await
}

/// List accounts: a customer's own, or (staff) anyone's, with filters.
#[utoipa::path(
    operation_id = "listAccounts",get, path = "/v1/accounts", tag = "accounts",
    params(AccountListQuery),
    security(("session" = [])),
    responses(
        (status = 200, description = "One page of accounts", body = PageDto<AccountDto>, headers(("Link" = String))),
        Unauthenticated, Forbidden, InvalidQuery,
    ))]
pub async fn list<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<AccountListQuery>,
) -> Result<Response, ApiError> {
    let page_request = PageRequest::new(query.page, query.limit)?;
    let page = state
        .service
        .list_accounts(&caller, query.filter(), page_request)
        .await?;
    let mut headers = HeaderMap::new();
    if let Some(link) = link_header(&uri, &page) {
        headers.insert(header::LINK, link);
    }
    let mut items = Vec::with_capacity(page.items.len());
    for account in &page.items {
        items.push(account_dto(&state, account.clone()).await?);
    }
    let body = PageDto {
        items,
        page: page.request.page(),
        limit: page.request.limit(),
        total: page.total,
    };
    Ok((headers, axum::Json(body)).into_response())
}

/// An account.
#[utoipa::path(
    operation_id = "getAccount",get, path = "/v1/accounts/{id}", tag = "accounts",
    params(("id" = uuid::Uuid, Path, description = "Account id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "The account", body = AccountDto, headers(("ETag" = String))),
        Unauthenticated, NotFound,
    ))]
pub async fn get<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
) -> Result<Response, ApiError> {
    let account = state.service.get_account(&caller, AccountId(id)).await?;
    account_response(&state, StatusCode::OK, account).await
}

/// Change the nickname (owner), the overdraft limit or the daily limit (tellers); honours
/// `If-Match`.
#[utoipa::path(
    operation_id = "updateAccount",patch, path = "/v1/accounts/{id}", tag = "accounts",
    params(("id" = uuid::Uuid, Path, description = "Account id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read, or `*`", pattern = r#"^(\*|"[0-9]+")$"#)),
    request_body = PatchAccountBody,
    security(("session" = [])),
    responses(
        (status = 200, description = "The account", body = AccountDto, headers(("ETag" = String))),
        JsonBodyErrors, Unauthenticated, Forbidden, NotFound, PreconditionFailed,
    ))]
pub async fn patch<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    Json(body): Json<PatchAccountBody>,
) -> Result<Response, ApiError> {
    let request = body.try_into_domain().map_err(ApiError::validation)?;
    let account = state
        .service
        .update_account(&caller, AccountId(id), request, if_match)
        .await?;
    account_response(&state, StatusCode::OK, account).await
}

/// Replace the changeable fields (`nickname`, `overdraft_limit`, `daily_limit`); honours
/// `If-Match`.
#[utoipa::path(
    operation_id = "replaceAccount",put, path = "/v1/accounts/{id}", tag = "accounts",
    params(("id" = uuid::Uuid, Path, description = "Account id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read, or `*`", pattern = r#"^(\*|"[0-9]+")$"#)),
    request_body = PutAccountBody,
    security(("session" = [])),
    responses(
        (status = 200, description = "The account", body = AccountDto, headers(("ETag" = String))),
        JsonBodyErrors, Unauthenticated, Forbidden, NotFound, PreconditionFailed,
    ))]
pub async fn put<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    Json(body): Json<PutAccountBody>,
) -> Result<Response, ApiError> {
    let request = body.try_into_domain().map_err(ApiError::validation)?;
    let account = state
        .service
        .update_account(&caller, AccountId(id), request, if_match)
        .await?;
    account_response(&state, StatusCode::OK, account).await
}

/// Close the account (zero balance and no pending hold only). The account is kept with
/// status `CLOSED`.
#[utoipa::path(
    operation_id = "closeAccount",delete, path = "/v1/accounts/{id}", tag = "accounts",
    params(("id" = uuid::Uuid, Path, description = "Account id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read, or `*`", pattern = r#"^(\*|"[0-9]+")$"#)),
    security(("session" = [])),
    responses(
        (status = 200, description = "Closed", body = AccountDto, headers(("ETag" = String))),
        (status = 409, description = "Balance not zero, or a pending hold (`account_not_empty`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Frozen or already closed", body = Problem, content_type = "application/problem+json"),
        BadRequest, Unauthenticated, Forbidden, NotFound, PreconditionFailed,
    ))]
pub async fn close<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
) -> Result<Response, ApiError> {
    let account = state
        .service
        .close_account(&caller, AccountId(id), if_match)
        .await?;
    account_response(&state, StatusCode::OK, account).await
}

async fn set_frozen<S: Storage, C: Clock>(
    state: AppState<S, C>,
    caller: coffre_app::Principal,
    id: uuid::Uuid,
    freeze: bool,
    body: FreezeBody,
) -> Result<Response, ApiError> {
    let account = state
        .service
        .set_frozen(&caller, AccountId(id), freeze, &body.reason)
        .await?;
    account_response(&state, StatusCode::OK, account).await
}

/// Freeze an active account (tellers, admins): it can neither send nor receive money.
#[utoipa::path(
    operation_id = "freezeAccount",post, path = "/v1/accounts/{id}/freeze", tag = "accounts",
    params(("id" = uuid::Uuid, Path, description = "Account id")),
    request_body = FreezeBody,
    security(("session" = [])),
    responses(
        (status = 200, description = "The account", body = AccountDto, headers(("ETag" = String))),
        (status = 409, description = "Not active", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors, Unauthenticated, Forbidden, NotFound,
    ))]
pub async fn freeze<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
    Json(body): Json<FreezeBody>,
) -> Result<Response, ApiError> {
    set_frozen(state, caller, id, true, body).await
}

/// Unfreeze a frozen account (tellers, admins).
#[utoipa::path(
    operation_id = "unfreezeAccount",post, path = "/v1/accounts/{id}/unfreeze", tag = "accounts",
    params(("id" = uuid::Uuid, Path, description = "Account id")),
    request_body = FreezeBody,
    security(("session" = [])),
    responses(
        (status = 200, description = "The account", body = AccountDto, headers(("ETag" = String))),
        (status = 409, description = "Not frozen", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors, Unauthenticated, Forbidden, NotFound,
    ))]
pub async fn unfreeze<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
    Json(body): Json<FreezeBody>,
) -> Result<Response, ApiError> {
    set_frozen(state, caller, id, false, body).await
}

/// Current balance, available balance and pending holds.
#[utoipa::path(
    operation_id = "getAccountBalance",get, path = "/v1/accounts/{id}/balance", tag = "accounts",
    params(("id" = uuid::Uuid, Path, description = "Account id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "The balances", body = BalanceDto),
        Unauthenticated, NotFound,
    ))]
pub async fn balance<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
) -> Result<axum::Json<BalanceDto>, ApiError> {
    let balance = state.service.balance(&caller, AccountId(id)).await?;
    Ok(axum::Json(balance.into()))
}
