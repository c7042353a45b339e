//! `/v1/customers`: sign-up, reading, listing, KYC review.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coffre_app::ports::{Clock, Storage};
use coffre_domain::CustomerId;

use crate::dto::customer::{CustomerDto, CustomerListQuery, KycBody, SignUpBody};
use crate::dto::page::{PageDto, link_header};
use crate::error::{ApiError, Problem};
use crate::extract::if_match::etag;
use crate::extract::{Caller, IdPath, Json, MaybeCaller, Query};
use crate::problem_responses::{
    Forbidden, InvalidQuery, JsonBodyErrors, NotFound, Unauthenticated,
};
use crate::state::AppState;

/// A customer with its `ETag`.
fn customer_response(status: StatusCode, customer: coffre_domain::Customer) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, etag(customer.version));
    if status == StatusCode::CREATED {
        if let Ok(location) = format!("/v1/customers/{}", customer.id).parse() {
            headers.insert(header::LOCATION, location);
        }
    }
    (status, headers, axum::Json(CustomerDto::from(customer))).into_response()
}

/// Sign up (public), or register a customer at a teller's desk.
#[utoipa::path(
    operation_id = "signUp",post, path = "/v1/customers", tag = "customers",
    request_body = SignUpBody,
    security((), ("session" = [])),
    responses(
        (status = 201, description = "Signed up; KYC pending", body = CustomerDto,
            headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "E-mail already registered", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors, Unauthenticated, Forbidden,
    ))]
pub async fn sign_up<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    MaybeCaller(caller): MaybeCaller,
    Json(body): Json<SignUpBody>,
) -> Result<Response, ApiError> {
    let request = body.try_into_domain().map_err(ApiError::validation)?;
    let customer = state.service.sign_up(caller.as_ref(), request).await?;
    Ok(customer_response(StatusCode::CREATED, customer))
}

/// The logged-in customer's own record.
#[utoipa::path(
    operation_id = "getMyCustomer",get, path = "/v1/customers/me", tag = "customers",
    security(("session" = [])),
    responses(
        (status = 200, description = "The customer", body = CustomerDto, headers(("ETag" = String))),
        (status = 404, description = "Staff users are not customers", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
    ))]
pub async fn me<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
) -> Result<Response, ApiError> {
    let customer = state.service.my_customer(&caller).await?;
    Ok(customer_response(StatusCode::OK, customer))
}

/// A customer (the customer themself, or staff).
#[utoipa::path(
    operation_id = "getCustomer",get, path = "/v1/customers/{id}", tag = "customers",
    params(("id" = uuid::Uuid, Path, description = "Customer id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "The customer", body = CustomerDto, headers(("ETag" = String))),
        Unauthenticated, NotFound,
    ))]
pub async fn get<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
) -> Result<Response, ApiError> {
    let customer = state.service.get_customer(&caller, CustomerId(id)).await?;
    Ok(customer_response(StatusCode::OK, customer))
}

/// List customers (staff).
#[utoipa::path(
    operation_id = "listCustomers",get, path = "/v1/customers", tag = "customers",
    params(CustomerListQuery),
    security(("session" = [])),
    responses(
        (status = 200, description = "One page of customers", body = PageDto<CustomerDto>, headers(("Link" = String))),
        Unauthenticated, Forbidden, InvalidQuery,
    ))]
pub async fn list<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<CustomerListQuery>,
) -> Result<Response, ApiError> {
    let page = state
        .service
        .list_customers(&caller, query.into_domain())
        .await?;
    let mut headers = HeaderMap::new();
    if let Some(link) = link_header(&uri, &page) {
        headers.insert(header::LINK, link);
    }
    Ok((
        headers,
        axum::Json(PageDto::from_page(page, CustomerDto::from)),
    )
        .into_response())
}

/// Record a manual KYC decision (tellers); on `VERIFIED`, pending accounts become active.
#[utoipa::path(
    operation_id = "decideKyc",post, path = "/v1/customers/{id}/kyc", tag = "customers",
    params(("id" = uuid::Uuid, Path, description = "Customer id")),
    request_body = KycBody,
    security(("session" = [])),
    responses(
        (status = 200, description = "The customer", body = CustomerDto, headers(("ETag" = String))),
        (status = 409, description = "KYC already decided", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors, Unauthenticated, Forbidden, NotFound,
    ))]
pub async fn decide_kyc<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
    IdPath(id): IdPath,
    Json(body): Json<KycBody>,
) -> Result<Response, ApiError> {
    let customer = state
        .service
        .decide_kyc(&caller, CustomerId(id), body.into_domain())
        .await?;
    Ok(customer_response(StatusCode::OK, customer))
}
