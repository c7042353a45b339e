//! Cross-cutting request handling, applied to every route.

pub mod access_log;
pub mod operation;
pub mod problem_fallback;
pub mod rate_limit;
pub mod request_id;
pub mod security_headers;
