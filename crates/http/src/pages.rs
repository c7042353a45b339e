//! The authorization endpoint's HTML pages (askama templates in `templates/oauth/`, escaped
//! automatically): login, one-time code, consent and the error shown when a request cannot be sent back.
//! They work without JavaScript and allow no script at all.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::middleware::problem_fallback::ProtocolError;

/// Hidden form fields: (name, value).
pub(crate) type Fields = Vec<(&'static str, String)>;

/// The login page.
#[derive(Template)]
#[template(path = "oauth/login.html")]
pub(crate) struct LoginPage<'a> {
    /// The client asking.
    pub(crate) client_name: &'a str,
    /// A message after a failed attempt.
    pub(crate) error: Option<&'a str>,
    /// The authorization request and the form's CSRF token.
    pub(crate) fields: Fields,
}

/// The one-time code page, after the password of a user with TOTP enabled.
#[derive(Template)]
#[template(path = "oauth/totp.html")]
pub(crate) struct TotpPage<'a> {
    /// A message after a wrong code.
    pub(crate) error: Option<&'a str>,
    /// The authorization request, the login challenge and the form's CSRF token.
    pub(crate) fields: Fields,
}

/// The consent page.
#[derive(Template)]
#[template(path = "oauth/consent.html")]
pub(crate) struct ConsentPage<'a> {
    /// The client asking.
    pub(crate) client_name: &'a str,
    /// Who is signed in.
    pub(crate) username: &'a str,
    /// What each requested scope allows, in words.
    pub(crate) scopes: Vec<&'static str>,
    /// The authorization request and the session's CSRF token.
    pub(crate) fields: Fields,
}

/// The page for requests that cannot be answered to the client.
#[derive(Template)]
#[template(path = "oauth/error.html")]
pub(crate) struct ErrorPage<'a> {
    /// What is wrong.
    pub(crate) message: &'a str,
}

/// Renders a page with its status. `form_action` is an extra origin forms may lead to (the
/// client's, since the consent answer redirects there).
pub(crate) fn html<T: Template>(
    status: StatusCode,
    page: &T,
    form_action: Option<&str>,
) -> Response {
    let Ok(body) = page.render() else {
        tracing::error!("an authorization page failed to render");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let extra = form_action
        .map(|origin| format!(" {origin}"))
        .unwrap_or_default();
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'{extra}; \
frame-ancestors 'none'; base-uri 'none'"
    );
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response.extensions_mut().insert(ProtocolError);
    response
}

/// The origin (`scheme://host[:port]`) of an absolute URI.
pub(crate) fn origin(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(format!("{scheme}://{authority}"))
}
