//! OAuth2 and OpenID Connect concepts: scopes, clients and PKCE. The protocol itself (grants,
//! tokens, endpoints) lives in the use cases and the HTTP layer; these are the rules.

pub mod client;
pub mod pkce;
pub mod scope;

pub use client::{ClientError, ClientId, ClientType, GrantType, NewClient, OAuthClient};
pub use pkce::{CodeChallenge, PkceError};
pub use scope::{Scope, Scopes, UnknownScope};
