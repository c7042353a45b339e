//! The authorization endpoint's steps after the request is checked: the password, the one-time
//! code for a user with TOTP enabled, then consent (skipped for first-party clients).

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use coffre_app::auth::{ChallengeToken, Login, LoginOutcome, LoginStep};
use coffre_app::oauth::ValidAuthorization;
use coffre_app::ports::{Clock, Storage};
use coffre_app::{AppError, MfaRequirement};

use super::answers::{app_failure, approve, back_to_client, error_page};
use super::form::AuthorizeForm;
use crate::extract::caller::cookie;
use crate::pages::{ConsentPage, LoginPage, TotpPage, html, origin};
use crate::routes::auth::session_cookie;
use crate::state::AppState;

/// The one-time code page, with the login challenge in its hidden fields.
fn totp_page(form: &AuthorizeForm, challenge: &str, error: Option<&str>) -> Response {
    let mut fields = form.fields("totp", form.csrf_token.clone().unwrap_or_default());
    fields.push(("challenge", challenge.to_owned()));
    if let Some(username) = &form.username {
        // Only to greet the user on the consent page: it grants nothing.
        fields.push(("username", username.clone()));
    }
    html(StatusCode::OK, &TotpPage { error, fields }, None)
}

/// The session the browser signs in over, which the new one replaces.
fn previous_session<S: Storage, C: Clock>(
    state: &AppState<S, C>,
    headers: &HeaderMap,
) -> Option<String> {
    cookie(headers, state.session_cookie_name()).map(str::to_owned)
}

/// The login form: the code (or the consent page), the one-time code page, or the form again.
pub(super) async fn login<S: Storage, C: Clock>(
    state: &AppState<S, C>,
    headers: &HeaderMap,
    client_ip: Option<std::net::IpAddr>,
    form: &AuthorizeForm,
    authorization: &ValidAuthorization,
) -> Response {
    let attempt = Login {
        username: form.username.clone().unwrap_or_default(),
        password: form.password.clone().unwrap_or_default(),
        client_ip,
        previous_session_token: previous_session(state, headers),
        one_time_code: None,
    };
    match state.service.begin_login(attempt).await {
        Ok(LoginStep::SignedIn(outcome)) => signed_in(state, form, authorization, outcome).await,
        Ok(LoginStep::NeedsOneTimeCode(challenge)) => totp_page(form, &challenge.0, None),
        Err(AppError::Unauthenticated) => {
            let page = LoginPage {
                client_name: &authorization.client.name,
                error: Some("Wrong username or password."),
                fields: form.fields("login", form.csrf_token.clone().unwrap_or_default()),
            };
            html(StatusCode::OK, &page, None)
        }
        Err(error) => app_failure(error),
    }
}

/// The one-time code form: the code (or the consent page), or the form again.
pub(super) async fn one_time_code<S: Storage, C: Clock>(
    state: &AppState<S, C>,
    headers: &HeaderMap,
    client_ip: Option<std::net::IpAddr>,
    form: &AuthorizeForm,
    authorization: &ValidAuthorization,
) -> Response {
    let challenge = ChallengeToken(form.challenge.clone().unwrap_or_default());
    let code = form.totp_code.clone().unwrap_or_default();
    let finished = state
        .service
        .finish_login(
            &challenge,
            &code,
            client_ip,
            previous_session(state, headers).as_deref(),
        )
        .await;
    match finished {
        Ok(outcome) => signed_in(state, form, authorization, outcome).await,
        Err(AppError::MfaRequired(MfaRequirement::InvalidCode | MfaRequirement::OneTimeCode)) => {
            totp_page(
                form,
                &challenge.0,
                Some("Wrong or already used code. Try the next code your app shows."),
            )
        }
        Err(AppError::Unauthenticated) => error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in has expired. Start again from the application.",
        ),
        Err(error) => app_failure(error),
    }
}

/// After a successful sign-in: the code straight away for a first-party client, the consent
/// page otherwise; either way with the new session's cookie.
async fn signed_in<S: Storage, C: Clock>(
    state: &AppState<S, C>,
    form: &AuthorizeForm,
    authorization: &ValidAuthorization,
    outcome: LoginOutcome,
) -> Response {
    let username = form.username.clone().unwrap_or_default();
    let max_age = state
        .service
        .config()
        .session_absolute_timeout
        .whole_seconds();
    let session = session_cookie(state, &outcome.session_token, max_age);
    let mut response = if authorization.client.first_party {
        approve(state, authorization, &outcome.principal).await
    } else {
        let scopes = authorization
            .scopes
            .allowed_for(outcome.principal.role)
            .iter()
            .map(|scope| scope.description())
            .collect();
        let page = ConsentPage {
            client_name: &authorization.client.name,
            username: &username,
            scopes,
            fields: form.fields("consent", outcome.csrf_token.clone()),
        };
        let client_origin = origin(&authorization.redirect_uri);
        html(StatusCode::OK, &page, client_origin.as_deref())
    };
    if let Some(session) = session {
        response.headers_mut().append(header::SET_COOKIE, session);
    }
    response
}

/// The consent form, under the new session: the code if the user allows, else `access_denied`.
pub(super) async fn consent<S: Storage, C: Clock>(
    state: &AppState<S, C>,
    headers: &HeaderMap,
    form: &AuthorizeForm,
    authorization: &ValidAuthorization,
) -> Response {
    let session = match cookie(headers, state.session_cookie_name()) {
        Some(token) => state.service.authenticate_session(token).await.ok(),
        None => None,
    };
    let session = session.filter(|session| {
        form.csrf_token
            .as_deref()
            .is_some_and(|presented| session.csrf_matches(presented))
    });
    let Some(session) = session else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Your sign-in has expired or this form did not come from Coffre. Start again from the application.",
        );
    };
    if form.decision.as_deref() == Some("allow") {
        return approve(state, authorization, &session.principal).await;
    }
    back_to_client(
        state,
        &authorization.redirect_uri,
        &[
            ("error", "access_denied"),
            ("error_description", "the user denied the request"),
        ],
        authorization.state.as_deref(),
    )
}
