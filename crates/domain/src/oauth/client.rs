//! OAuth2 clients: the applications that ask Coffre for tokens, and what each may ask for.

use std::fmt;

use uuid::Uuid;

use crate::oauth::Scopes;
use crate::{Role, UserId};

/// A client's id: a UUIDv7, sent as `client_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(pub Uuid);

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// RFC 6749 §2.1 client types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    /// Can keep a secret (a server): authenticates at the token endpoint.
    Confidential,
    /// Cannot (a mobile or browser app): PKCE is its only proof.
    Public,
}

impl ClientType {
    /// As stored and typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::Confidential => "confidential",
            ClientType::Public => "public",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        [ClientType::Confidential, ClientType::Public]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// The grants Coffre implements. The implicit grant does not exist (RFC 9700 §2.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GrantType {
    /// Authorization code with PKCE.
    AuthorizationCode,
    /// Refresh token (rotated on every use).
    RefreshToken,
    /// A service account acting as itself.
    ClientCredentials,
    /// Resource owner password: first-party clients only (RFC 9700 §2.4).
    Password,
}

impl GrantType {
    /// Every grant.
    pub const ALL: [GrantType; 4] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
        GrantType::Password,
    ];

    /// The `grant_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::Password => "password",
        }
    }

    /// Parses a `grant_type` value.
    pub fn parse(text: &str) -> Option<Self> {
        GrantType::ALL.into_iter().find(|g| g.as_str() == text)
    }
}

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// Its id.
    pub id: ClientId,
    /// A name shown on the consent page.
    pub name: String,
    /// Confidential or public.
    pub client_type: ClientType,
    /// The redirect URIs it registered; matched exactly.
    pub redirect_uris: Vec<String>,
    /// The grants it may use.
    pub grants: Vec<GrantType>,
    /// The most it may ask for.
    pub scopes: Scopes,
    /// Coffre's own applications: may use the password grant and skip the consent page.
    pub first_party: bool,
    /// For `client_credentials`: the service user it acts as, whose role bounds its rights.
    pub service_user: Option<UserId>,
    /// A resource server: may introspect tokens (RFC 7662). Confidential clients only.
    pub introspect: bool,
}

/// Why a client registration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// Empty or overlong name.
    #[error("a client name is 1 to 100 printable characters")]
    InvalidName,
    /// A redirect URI that is not absolute https (or http on a loopback address), or has a
    /// fragment.
    #[error("redirect URI `{0}` must be https (or http on localhost) without a fragment")]
    InvalidRedirectUri(String),
    /// The authorization code grant without a redirect URI.
    #[error("the authorization_code grant needs at least one redirect URI")]
    MissingRedirectUri,
    /// A public client cannot keep the secret client_credentials needs.
    #[error("a public client cannot use the client_credentials grant")]
    PublicClientCredentials,
    /// The password grant is for first-party clients only.
    #[error("the password grant is for first-party clients only")]
    PasswordNotFirstParty,
    /// No grant at all, and not a resource server either.
    #[error("a client needs at least one grant, or to be a resource server (introspect)")]
    NoGrant,
    /// Introspection needs client authentication, which a public client cannot do.
    #[error("a public client cannot introspect tokens")]
    PublicIntrospection,
}

/// What a registration asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClient {
    /// Its name.
    pub name: String,
    /// Confidential or public.
    pub client_type: ClientType,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Grants.
    pub grants: Vec<GrantType>,
    /// Scopes.
    pub scopes: Scopes,
    /// First party.
    pub first_party: bool,
    /// A resource server, which may introspect tokens.
    pub introspect: bool,
}

impl NewClient {
    /// Checks the registration's rules.
    pub fn validate(&self) -> Result<(), ClientError> {
        let name_ok = (1..=100).contains(&self.name.chars().count())
            && !self.name.chars().any(char::is_control);
        if !name_ok {
            return Err(ClientError::InvalidName);
        }
        if self.grants.is_empty() && !self.introspect {
            return Err(ClientError::NoGrant);
        }
        if self.introspect && self.client_type == ClientType::Public {
            return Err(ClientError::PublicIntrospection);
        }
        if let Some(bad) = self.redirect_uris.iter().find(|uri| !redirect_uri_ok(uri)) {
            return Err(ClientError::InvalidRedirectUri(bad.clone()));
        }
        let has = |grant| self.grants.contains(&grant);
        if has(GrantType::AuthorizationCode) && self.redirect_uris.is_empty() {
            return Err(ClientError::MissingRedirectUri);
        }
        if has(GrantType::ClientCredentials) && self.client_type == ClientType::Public {
            return Err(ClientError::PublicClientCredentials);
        }
        if has(GrantType::Password) && !self.first_party {
            return Err(ClientError::PasswordNotFirstParty);
        }
        Ok(())
    }

    /// The client this registration creates.
    pub fn into_client(self, id: ClientId, service_user: Option<UserId>) -> OAuthClient {
        OAuthClient {
            id,
            name: self.name,
            client_type: self.client_type,
            redirect_uris: self.redirect_uris,
            grants: self.grants,
            scopes: self.scopes,
            first_party: self.first_party,
            service_user,
            introspect: self.introspect,
        }
    }
}

impl OAuthClient {
    /// True when the client registered `grant`.
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grants.contains(&grant)
    }

    /// True when `uri` is one of its redirect URIs, compared exactly (RFC 9700 §2.1).
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|registered| registered == uri)
    }
}

/// The role a `client_credentials` service user may have: never a customer (a service account
/// has no money of its own).
pub fn service_role_allowed(role: Role) -> bool {
    role != Role::Customer
}

/// https anywhere, http only on loopback (native apps, RFC 8252 §7.3), never a fragment.
fn redirect_uri_ok(uri: &str) -> bool {
    if uri.contains('#') || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let rest = if let Some(rest) = uri.strip_prefix("https://") {
        rest
    } else if let Some(rest) = uri.strip_prefix("http://") {
        let host = rest.split(['/', '?']).next().unwrap_or_default();
        let host = host.rsplit_once(':').map_or(host, |(host, _port)| host);
        if !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
            return false;
        }
        rest
    } else {
        return false;
    };
    !rest.is_empty() && !rest.starts_with('/') && uri.len() <= 2_000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration() -> NewClient {
        NewClient {
            name: "Budget app".to_owned(),
            client_type: ClientType::Public,
            redirect_uris: vec!["https://app.example/cb".to_owned()],
            grants: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: Scopes::default(),
            first_party: false,
            introspect: false,
        }
    }

    #[test]
    fn only_a_confidential_client_may_be_a_resource_server_and_it_needs_no_grant() {
        let resource_server = NewClient {
            client_type: ClientType::Confidential,
            redirect_uris: Vec::new(),
            grants: Vec::new(),
            introspect: true,
            ..registration()
        };
        assert_eq!(resource_server.validate(), Ok(()));
        let public = NewClient {
            client_type: ClientType::Public,
            ..resource_server.clone()
        };
        assert_eq!(public.validate(), Err(ClientError::PublicIntrospection));
        let nothing = NewClient {
            introspect: false,
            ..resource_server
        };
        assert_eq!(nothing.validate(), Err(ClientError::NoGrant));
    }

    #[test]
    fn redirect_uris_are_https_or_loopback_http_without_fragment() {
        for good in [
            "https://app.example/cb",
            "http://127.0.0.1:8123/cb",
            "http://localhost/cb",
            "https://app.example/cb?x=1",
        ] {
            assert!(redirect_uri_ok(good), "{good}");
        }
        for bad in [
            "http://app.example/cb",
            "https://app.example/cb#frag",
            "app.example/cb",
            "https:///cb",
            "javascript:alert(1)",
            "http://localhost.evil.example/cb",
        ] {
            assert!(!redirect_uri_ok(bad), "{bad}");
        }
    }

    #[test]
    fn registrations_follow_the_bcp() {
        assert_eq!(registration().validate(), Ok(()));
        let mut password = registration();
        password.grants.push(GrantType::Password);
        assert_eq!(password.validate(), Err(ClientError::PasswordNotFirstParty));
        password.first_party = true;
        assert_eq!(password.validate(), Ok(()));
        let mut service = registration();
        service.grants = vec![GrantType::ClientCredentials];
        assert_eq!(
            service.validate(),
            Err(ClientError::PublicClientCredentials)
        );
        let mut no_uri = registration();
        no_uri.redirect_uris.clear();
        assert_eq!(no_uri.validate(), Err(ClientError::MissingRedirectUri));
    }
}
