//! HTTP plumbing shared by every function: the JSON error envelope, strict JSON bodies,
//! JSON 404/405 fallbacks and the one-line-per-request log.

mod error;
mod fallback;
mod json;
mod log;
mod query;

pub use error::ApiError;
pub use fallback::{app, method_not_allowed, not_found, with_fallbacks};
pub use json::{JsonBody, MAX_BODY_BYTES, OptionalJsonBody, parse_json};
pub use log::log_request;
pub use query::QueryParams;
