//! `/v1/me/mfa`: the signed-in user's second factor. Session only (declared
//! [`SessionOnly`](crate::operation::TokenAccess::SessionOnly) in the route table).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use coffre_app::ports::{Clock, Storage};
use qrcode::QrCode;
use qrcode::render::svg;

use crate::dto::mfa::{ConfirmTotpBody, TotpEnabledDto, TotpEnrolmentDto};
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, Json};
use crate::problem_responses::{Forbidden, JsonBodyErrors, TooManyAttempts, Unauthenticated};
use crate::routes::auth::ClientIp;
use crate::state::AppState;

/// The `otpauth://` URI as an SVG QR code.
fn qr_svg(uri: &str) -> Result<String, ApiError> {
    let code = QrCode::new(uri.as_bytes())
        .map_err(|error| ApiError::from(coffre_app::AppError::Unknown(error.into())))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build())
}

/// Start a TOTP enrolment (or restart one not yet confirmed) with a fresh secret.
#[utoipa::path(
    operation_id = "startTotpEnrolment", post, path = "/v1/me/mfa/totp", tag = "mfa",
    security(("session" = [])),
    responses(
        (status = 200, description = "The secret, its otpauth:// URI and the QR code; confirm with a code to enable", body = TotpEnrolmentDto),
        (status = 409, description = "TOTP is already enabled (`conflict`)", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ))]
pub async fn start_totp<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    Caller(caller): Caller,
) -> Result<Response, ApiError> {
    let enrolment = state.service.start_totp_enrolment(&caller).await?;
    let body = TotpEnrolmentDto {
        qr_svg: qr_svg(&enrolment.otpauth_uri)?,
        secret: enrolment.secret,
        otpauth_uri: enrolment.otpauth_uri,
    };
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}

/// Enable TOTP with a first code from the app; answers the ten recovery codes, once.
#[utoipa::path(
    operation_id = "confirmTotpEnrolment", post, path = "/v1/me/mfa/totp/confirm", tag = "mfa",
    request_body = ConfirmTotpBody,
    security(("session" = [])),
    responses(
        (status = 200, description = "TOTP is enabled", body = TotpEnabledDto),
        (status = 409, description = "No enrolment started, or TOTP already enabled (`conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The code is not the app's current one (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, TooManyAttempts, JsonBodyErrors,
    ))]
pub async fn confirm_totp<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    ClientIp(client_ip): ClientIp,
    Caller(caller): Caller,
    Json(body): Json<ConfirmTotpBody>,
) -> Result<Response, ApiError> {
    let recovery_codes = state
        .service
        .confirm_totp(&caller, &body.code, client_ip)
        .await?;
    let body = TotpEnabledDto {
        enabled: true,
        recovery_codes,
    };
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}
