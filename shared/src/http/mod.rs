//! HTTP plumbing shared by every function: the JSON error envelope, strict JSON bodies,
//! JSON 404/405 fallbacks, CORS and the one-line-per-request log.

mod admin_errors;
mod cors;
mod error;
mod extract;
mod fallback;
mod json;
mod lambda;
mod log;
mod operations;
mod query;
mod service_errors;

pub use cors::{ALLOWED_HEADERS, EXPOSED_HEADERS, PREFLIGHT_MAX_AGE, cors_layer};
pub use error::ApiError;
pub use extract::{AdminUser, BearerToken, OptionalUser, idempotency_key};
pub use fallback::{app, method_not_allowed, not_found, with_fallbacks};
pub use json::{JsonBody, MAX_BODY_BYTES, OptionalJsonBody, parse_json};
pub use lambda::serve;
pub use log::log_request;
pub use operations::{OPERATIONS, Operation, operation, route};
pub use query::{CachedQuery, QueryParams};
