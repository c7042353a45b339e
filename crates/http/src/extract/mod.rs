//! Request extractors whose rejections are all problem+json.

pub mod caller;
pub mod idempotency_key;
pub mod if_match;
pub mod json;
mod json_shape;
pub mod query;

pub use caller::{Caller, MaybeCaller, Session};
pub use idempotency_key::Idempotency;
pub use if_match::IfMatch;
pub use json::Json;
pub use query::{IdPath, Query};
