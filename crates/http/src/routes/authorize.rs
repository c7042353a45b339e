//! `GET`/`POST /oauth/authorize`: the authorization endpoint (RFC 6749 §4.1). The request is
//! checked, then the user signs in (a login form protected by a double-submit CSRF cookie, then,
//! for a user with TOTP enabled, a one-time code form under the same cookie), then approves the
//! requested scopes (a consent form protected by the new session's CSRF token),
//! and the browser goes back to the client with a single-use code. First-party clients skip
//! the consent page. Until the client and its redirect URI are known good, errors are shown to
//! the user, never redirected.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coffre_app::auth::{
    ChallengeToken, Login, LoginOutcome, LoginStep, random_token, secrets_match,
};
use coffre_app::oauth::{AuthorizationRequest, AuthorizeError, ValidAuthorization};
use coffre_app::ports::{Clock, Storage};
use coffre_app::{AppError, MfaRequirement, Principal};
use serde::Deserialize;

use crate::extract::caller::cookie;
use crate::middleware::problem_fallback::ProtocolError;
use crate::pages::{ConsentPage, ErrorPage, Fields, LoginPage, TotpPage, html, origin};
use crate::routes::auth::{ClientIp, session_cookie};
use crate::state::AppState;

/// The login form's CSRF cookie lives this long: time enough to type a password.
const LOGIN_FORM_SECONDS: i64 = 600;

/// The authorization request's parameters plus the forms' own fields.
#[derive(Debug, Default, Deserialize)]
struct AuthorizeForm {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    nonce: Option<String>,
    /// `login`, `totp` or `consent`.
    action: Option<String>,
    csrf_token: Option<String>,
    username: Option<String>,
    password: Option<String>,
    /// The login waiting for its one-time code (`totp` form).
    challenge: Option<String>,
    totp_code: Option<String>,
    /// `allow` or `deny`.
    decision: Option<String>,
}

impl AuthorizeForm {
    fn request(&self) -> AuthorizationRequest {
        AuthorizationRequest {
            response_type: self.response_type.clone(),
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            scope: self.scope.clone(),
            state: self.state.clone(),
            code_challenge: self.code_challenge.clone(),
            code_challenge_method: self.code_challenge_method.clone(),
            nonce: self.nonce.clone(),
        }
    }

    /// The request's parameters as hidden fields, then `action` and the CSRF token.
    fn fields(&self, action: &'static str, csrf_token: String) -> Fields {
        let request = [
            ("response_type", &self.response_type),
            ("client_id", &self.client_id),
            ("redirect_uri", &self.redirect_uri),
            ("scope", &self.scope),
            ("state", &self.state),
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", &self.code_challenge_method),
            ("nonce", &self.nonce),
        ];
        let mut fields: Fields = request
            .into_iter()
            .filter_map(|(name, value)| value.clone().map(|value| (name, value)))
            .collect();
        fields.push(("action", action.to_owned()));
        fields.push(("csrf_token", csrf_token));
        fields
    }
}

fn login_cookie_name<S: Storage, C: Clock>(state: &AppState<S, C>) -> &'static str {
    if state.settings.secure_transport {
        "__Host-coffre_authorize"
    } else {
        "coffre_authorize"
    }
}

fn error_page(status: StatusCode, message: &str) -> Response {
    html(status, &ErrorPage { message }, None)
}

/// 303 to `uri` with `params` added to its query.
fn redirect(uri: &str, params: &[(&str, &str)]) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    let location = format!("{uri}{separator}{}", query.finish());
    match HeaderValue::from_str(&location) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => error_page(StatusCode::BAD_REQUEST, "the redirect URI cannot be used"),
    }
}

/// Back to the client: its redirect URI with `params`, the issuer (RFC 9207) and its `state`.
fn back_to_client<S: Storage, C: Clock>(
    state: &AppState<S, C>,
    redirect_uri: &str,
    params: &[(&str, &str)],
    client_state: Option<&str>,
) -> Response {
    let issuer = state.service.config().oauth.issuer.clone();
    let mut params = params.to_vec();
    params.push(("iss", &issuer));
    if let Some(client_state) = client_state {
        params.push(("state", client_state));
    }
    redirect(redirect_uri, &params)
}

/// The client's answer for a refused request: back to it with `error` (and `state`, `iss`).
fn refusal<S: Storage, C: Clock>(state: &AppState<S, C>, error: AuthorizeError) -> Response {
    match error {
        AuthorizeError::NoRedirect(message) => error_page(StatusCode::BAD_REQUEST, &message),
        AuthorizeError::Redirect {
            redirect_uri,
            error,
            description,
            state: client_state,
        } => back_to_client(
            state,
            &redirect_uri,
            &[("error", error), ("error_description", &description)],
            client_state.as_deref(),
        ),
        AuthorizeError::App(error) => app_failure(error),
    }
}

fn app_failure(error: AppError) -> Response {
    match error {
        AppError::RateLimited { retry_after } => {
            let mut page = error_page(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts. Wait a few minutes, then try again.",
            );
            page.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(crate::error::retry_after_seconds(retry_after)),
            );
            page
        }
        other => {
            let mut response = crate::error::ApiError::from(other).into_response();
            response.extensions_mut().insert(ProtocolError);
            response
        }
    }
}

/// The code, sent back to the client.
async fn approve<S: Storage, C: Clock>(
    state: &AppState<S, C>,
    authorization: &ValidAuthorization,
    user: &Principal,
) -> Response {
    match state
        .service
        .issue_authorization_code(authorization, user)
        .await
    {
        Ok(code) => back_to_client(
            state,
            &authorization.redirect_uri,
            &[("code", &code)],
            authorization.state.as_deref(),
        ),
        Err(error) => app_failure(error),
    }
}

/// Start of an authorization: checks the request and shows the login page.
#[utoipa::path(
    operation_id = "authorize", get, path = "/oauth/authorize", tag = "oauth",
    security(()),
    params(
        ("response_type" = String, Query, description = "`code`"),
        ("client_id" = String, Query),
        ("redirect_uri" = Option<String>, Query, description = "One the client registered, exactly"),
        ("scope" = Option<String>, Query),
        ("state" = Option<String>, Query),
        ("code_challenge" = String, Query, description = "PKCE S256 challenge"),
        ("code_challenge_method" = String, Query, description = "`S256`"),
        ("nonce" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "The login page (HTML)", content_type = "text/html"),
        (status = 303, description = "Back to the client with an RFC 6749 §4.1.2.1 error"),
        (status = 400, description = "Unknown client or redirect URI: an error page, no redirect", content_type = "text/html"),
    ))]
pub async fn start<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(form) =
        serde_urlencoded::from_str::<AuthorizeForm>(query.as_deref().unwrap_or_default())
    else {
        return error_page(StatusCode::BAD_REQUEST, "malformed or repeated parameters");
    };
    let authorization = match state.service.check_authorization(&form.request()).await {
        Ok(authorization) => authorization,
        Err(error) => return refusal(&state, error),
    };
    let csrf = random_token();
    let page = LoginPage {
        client_name: &authorization.client.name,
        error: None,
        fields: form.fields("login", csrf.clone()),
    };
    let mut response = html(StatusCode::OK, &page, None);
    let secure = if state.settings.secure_transport {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={csrf}; HttpOnly; SameSite=Strict; Path=/; Max-Age={LOGIN_FORM_SECONDS}{secure}",
        login_cookie_name(&state)
    );
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The login and consent forms' submissions.
#[utoipa::path(
    operation_id = "authorizeSubmit", post, path = "/oauth/authorize", tag = "oauth",
    security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "The page's hidden fields, plus `username` and `password` (login) or `decision` (consent)"),
    responses(
        (status = 200, description = "The consent page, or the login page again after a failed attempt", content_type = "text/html"),
        (status = 303, description = "Back to the client with a code, or with an error"),
        (status = 400, description = "A form that is not this server's, or expired", content_type = "text/html"),
        (status = 429, description = "Too many attempts", content_type = "text/html",
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    ))]
pub async fn submit<S: Storage, C: Clock>(
    State(state): State<AppState<S, C>>,
    ClientIp(client_ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<AuthorizeForm>(&body) else {
        return error_page(StatusCode::BAD_REQUEST, "malformed or repeated form fields");
    };
    let authorization = match state.service.check_authorization(&form.request()).await {
        Ok(authorization) => authorization,
        Err(error) => return refusal(&state, error),
    };
    let form_csrf_ok = || {
        let expected = cookie(&headers, login_cookie_name(&state));
        match (form.csrf_token.as_deref(), expected) {
            (Some(presented), Some(expected)) => secrets_match(presented, expected),
            _ => false,
        }
    };
    match form.action.as_deref() {
        Some("login" | "totp") if !form_csrf_ok() => error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in form has expired or did not come from Coffre. Start again from the application.",
        ),
        Some("login") => login(&state, &headers, client_ip, &form, &authorization).await,
        Some("totp") => one_time_code(&state, &headers, client_ip, &form, &authorization).await,
        Some("consent") => consent(&state, &headers, &form, &authorization).await,
        _ => error_page(StatusCode::BAD_REQUEST, "unknown form"),
    }
}

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

fn previous_session<S: Storage, C: Clock>(
    state: &AppState<S, C>,
    headers: &HeaderMap,
) -> Option<String> {
    cookie(headers, state.session_cookie_name()).map(str::to_owned)
}

async fn login<S: Storage, C: Clock>(
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

async fn one_time_code<S: Storage, C: Clock>(
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

async fn consent<S: Storage, C: Clock>(
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
