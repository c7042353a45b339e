//! The authorization endpoint's form: the authorization request's parameters, which every page
//! carries on in hidden fields, and the fields of the login, one-time code and consent forms.

use coffre_app::oauth::AuthorizationRequest;
use serde::Deserialize;

use crate::pages::Fields;

/// The authorization request's parameters plus the forms' own fields.
#[derive(Debug, Default, Deserialize)]
pub(super) struct AuthorizeForm {
    pub(super) response_type: Option<String>,
    pub(super) client_id: Option<String>,
    pub(super) redirect_uri: Option<String>,
    pub(super) scope: Option<String>,
    pub(super) state: Option<String>,
    pub(super) code_challenge: Option<String>,
    pub(super) code_challenge_method: Option<String>,
    pub(super) nonce: Option<String>,
    /// `login`, `totp` or `consent`.
    pub(super) action: Option<String>,
    pub(super) csrf_token: Option<String>,
    pub(super) username: Option<String>,
    pub(super) password: Option<String>,
    /// The login waiting for its one-time code (`totp` form).
    pub(super) challenge: Option<String>,
    pub(super) totp_code: Option<String>,
    /// `allow` or `deny`.
    pub(super) decision: Option<String>,
}

impl AuthorizeForm {
    /// The authorization request the form carries.
    pub(super) fn request(&self) -> AuthorizationRequest {
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
    pub(super) fn fields(&self, action: &'static str, csrf_token: String) -> Fields {
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
