//! A third-party OpenID Connect client library (`openidconnect`) against the real `coffre`
//! binary: discovery, the authorization code flow with PKCE through the server-rendered login
//! and consent pages, the token, userinfo, refresh and revocation endpoints. The access token is
//! checked against the JWKS with another, independent JWT library (`jsonwebtoken`).

use anyhow::Context as _;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreErrorResponseType, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AdditionalProviderMetadata, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, HttpRequest, HttpResponse, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, ProviderMetadata, RedirectUrl, RequestTokenError, RevocationUrl, Scope,
    TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::support;
use crate::support::authorize::Browser;
use crate::support::{STAFF_PASSWORD, Site};

const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// Discovery plus the RFC 7009 revocation endpoint, which the core OIDC metadata lacks.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct RevocationMetadata {
    revocation_endpoint: String,
}

impl AdditionalProviderMetadata for RevocationMetadata {}

type CoffreMetadata = ProviderMetadata<
    RevocationMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// openidconnect's HTTP client over the workspace's reqwest (its own `reqwest` feature pins
/// another reqwest and TLS stack). The reqwest client must not follow redirects.
///
/// The test server speaks plain HTTP, but openidconnect refuses a revocation URL that is not
/// HTTPS (RFC 7009 §2): it is given the `https` form, and this transport forwards it over HTTP
/// as a TLS-terminating proxy in front of Coffre would.
async fn send(http: reqwest::Client, request: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
    let mut request = reqwest::Request::try_from(request)?;
    if request.url().scheme() == "https" {
        // Cannot fail from https to http; were it to, the request would fail to connect.
        let _ = request.url_mut().set_scheme("http");
    }
    let response = http.execute(request).await?;
    let status = response.status();
    let headers = response.headers().clone();
    let mut out = HttpResponse::new(response.bytes().await?.to_vec());
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}

/// `coffre admin create-client` for a confidential third-party web app; (client id, secret).
fn register_client(site: &Site) -> anyhow::Result<(String, String)> {
    let (ok, out, err) = site.run(&[
        "admin",
        "create-client",
        "--name",
        "Budget app",
        "--type",
        "confidential",
        "--redirect-uri",
        REDIRECT_URI,
        "--grant",
        "authorization_code",
        "--grant",
        "refresh_token",
        "--scope",
        "openid profile accounts:read",
    ])?;
    anyhow::ensure!(ok, "create-client: {err}");
    let client = support::json_line(&out)?;
    let id = client["client_id"].as_str().context("client_id")?;
    let secret = client["client_secret"].as_str().context("client_secret")?;
    Ok((id.to_owned(), secret.to_owned()))
}

/// Logs in and consents on the authorization pages; returns the redirect's query parameters.
async fn log_in_and_allow(
    authorize_url: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let browser = Browser::new()?;
    let login = browser.get(authorize_url).await?;
    anyhow::ensure!(
        login.status == 200,
        "login page: {} {}",
        login.status,
        login.body
    );
    let consent = browser
        .submit(&login, &[("username", username), ("password", password)])
        .await?;
    anyhow::ensure!(
        consent.status == 200,
        "consent page: {} {}",
        consent.status,
        consent.body
    );
    anyhow::ensure!(
        consent.body.contains(r#"value="deny""#),
        "no deny button: {}",
        consent.body
    );
    let redirect = browser.submit(&consent, &[("decision", "allow")]).await?;
    anyhow::ensure!(
        redirect.status == 303,
        "consent: {} {}",
        redirect.status,
        redirect.body
    );
    let location = reqwest::Url::parse(&redirect.location.context("no Location")?)?;
    anyhow::ensure!(
        location.as_str().starts_with(&format!("{REDIRECT_URI}?")),
        "redirected to {location}"
    );
    Ok(location.query_pairs().into_owned().collect())
}

fn parameter<'a>(query: &'a [(String, String)], name: &str) -> anyhow::Result<&'a str> {
    query
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .with_context(|| format!("no {name} in {query:?}"))
}

/// Verifies an access token with `jsonwebtoken` against the JWKS: ES256, its `kid`, and the
/// audience and issuer Coffre promises. Returns the claims.
fn verify_access_token(
    jwks: &jsonwebtoken::jwk::JwkSet,
    token: &str,
    issuer: &str,
) -> anyhow::Result<Value> {
    let header = jsonwebtoken::decode_header(token)?;
    anyhow::ensure!(header.alg == jsonwebtoken::Algorithm::ES256, "{header:?}");
    let kid = header.kid.context("no kid")?;
    let jwk = jwks
        .find(&kid)
        .with_context(|| format!("{kid} not in JWKS"))?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk)?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[format!("{issuer}/v1")]);
    validation.set_issuer(&[issuer]);
    Ok(jsonwebtoken::decode::<Value>(token, &key, &validation)?.claims)
}

async fn accounts_status(base: &str, token: &str) -> anyhow::Result<u16> {
    Ok(reqwest::Client::new()
        .get(format!("{base}/v1/accounts"))
        .bearer_auth(token)
        .send()
        .await?
        .status()
        .as_u16())
}

/// Whether a token endpoint failure is the server's `invalid_grant`.
fn is_invalid_grant<E: std::error::Error>(
    error: &RequestTokenError<E, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
) -> bool {
    matches!(error, RequestTokenError::ServerResponse(response)
        if *response.error() == CoreErrorResponseType::InvalidGrant)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openid_connect_library_completes_the_code_flow_refreshes_and_revokes()
-> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    let site = Site {
        data_dir: data_dir.path().to_owned(),
        database_url: None,
    };
    site.create_user("alice", "teller")?;
    let (client_id, client_secret) = register_client(&site)?;
    let server = site.serve()?;
    let issuer = server.url.clone();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let oidc_http = |request: HttpRequest| send(http.clone(), request);

    // Discovery: openidconnect checks that the document's issuer is the one asked for.
    let metadata =
        CoffreMetadata::discover_async(IssuerUrl::new(issuer.clone())?, &oidc_http).await?;
    assert_eq!(
        metadata.authorization_endpoint().as_str(),
        format!("{issuer}/oauth/authorize")
    );
    assert!(
        metadata
            .id_token_signing_alg_values_supported()
            .contains(&CoreJwsSigningAlgorithm::EcdsaP256Sha256)
    );
    let revocation_endpoint = metadata.additional_metadata().revocation_endpoint.clone();
    assert_eq!(revocation_endpoint, format!("{issuer}/oauth/revoke"));
    let revocation_endpoint = revocation_endpoint.replacen("http://", "https://", 1);
    let jwks_uri = metadata.jwks_uri().url().clone();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.clone()),
        Some(ClientSecret::new(client_secret)),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.to_owned())?)
    .set_revocation_url(RevocationUrl::new(revocation_endpoint)?);

    // Authorization code with PKCE, through the login and consent pages.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".to_owned()))
        .add_scope(Scope::new("accounts:read".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    let query = log_in_and_allow(authorize_url.as_str(), "alice", STAFF_PASSWORD).await?;
    assert_eq!(parameter(&query, "state")?, state.secret());
    // RFC 9207: the issuer in the redirect, against mix-up attacks.
    assert_eq!(parameter(&query, "iss")?, issuer);
    let code = parameter(&query, "code")?.to_owned();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.secret().clone()))
        .request_async(&oidc_http)
        .await?;
    let id_token = tokens.id_token().context("no id token")?;
    let id_verifier = client.id_token_verifier();
    let id_claims = id_token.claims(&id_verifier, &nonce)?;
    assert_eq!(id_claims.issuer().as_str(), issuer);
    assert_eq!(
        id_claims.preferred_username().map(|name| name.as_str()),
        Some("alice")
    );
    if let Some(expected) = id_claims.access_token_hash() {
        let actual = AccessTokenHash::from_token(
            tokens.access_token(),
            id_token.signing_alg()?,
            id_token.signing_key(&id_verifier)?,
        )?;
        assert_eq!(&actual, expected);
    }
    let subject = id_claims.subject().as_str().to_owned();

    // The access token, checked by a library that shares no code with openidconnect.
    let jwks: jsonwebtoken::jwk::JwkSet = reqwest::get(jwks_uri).await?.json().await?;
    let access = tokens.access_token().secret().clone();
    let claims = verify_access_token(&jwks, &access, &issuer)?;
    assert_eq!(claims["sub"], subject.as_str());
    assert_eq!(claims["client_id"], client_id.as_str());
    assert_eq!(accounts_status(&issuer, &access).await?, 200);

    // A code is good once, even with the right verifier.
    let again = client
        .exchange_code(AuthorizationCode::new(code))?
        .set_pkce_verifier(verifier)
        .request_async(&oidc_http)
        .await;
    assert!(
        again.as_ref().is_err_and(is_invalid_grant),
        "second redemption: {again:?}"
    );

    let userinfo: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)?
        .request_async(&oidc_http)
        .await?;
    assert_eq!(userinfo.subject().as_str(), subject);

    // Refresh rotates the refresh token and gives a new, valid access token.
    let first_refresh = tokens.refresh_token().context("no refresh token")?;
    let refreshed = client
        .exchange_refresh_token(first_refresh)?
        .request_async(&oidc_http)
        .await?;
    let refresh = refreshed
        .refresh_token()
        .context("no rotated refresh token")?;
    assert_ne!(refresh.secret(), first_refresh.secret());
    let access = refreshed.access_token().secret().clone();
    assert_eq!(
        verify_access_token(&jwks, &access, &issuer)?["sub"],
        subject.as_str()
    );
    assert_eq!(accounts_status(&issuer, &access).await?, 200);

    // RFC 7009: a revoked access token stops working at once, a revoked refresh token too.
    client
        .revoke_token(refreshed.access_token().into())?
        .request_async(&oidc_http)
        .await?;
    assert_eq!(accounts_status(&issuer, &access).await?, 401);
    client
        .revoke_token(refresh.into())?
        .request_async(&oidc_http)
        .await?;
    let after = client
        .exchange_refresh_token(refresh)?
        .request_async(&oidc_http)
        .await;
    assert!(
        after.as_ref().is_err_and(is_invalid_grant),
        "refresh after revocation: {after:?}"
    );
    Ok(())
}
