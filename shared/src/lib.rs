//! The shop's domain crate: every Lambda function and the local server link it.
//!
//! - [`domain`]: pure rules and validated types (no I/O).
//! - [`auth`]: password hashing, JWTs, account operations, the authenticated-user extractors.
//! - [`cart`]: cart operations, priced from the catalog.
//! - [`catalog`]: product operations (validate, apply, store).
//! - [`coupons`]: coupon administration and offers.
//! - [`edge`]: the API Gateway cache a catalog write must flush.
//! - [`store`]: storage traits with DynamoDB and in-memory implementations.
//! - [`notify`]: order-event publishing (SQS, or an in-process queue).
//! - [`orders`]: checkout, order tracking and status changes.
//! - [`addresses`]: the customer's address book.
//! - [`audit`]: the admin audit trail.
//! - [`webhooks`]: signed order webhooks, their delivery worker and HTTP client.
//! - [`retry`]: the one re-read-and-retry loop of optimistic writes.
//! - [`http`]: the JSON error envelope, strict JSON bodies, fallbacks, request logging.
//! - [`config`] and [`state`]: typed configuration and the shared application state.
//! - [`logging`]: the Lambda functions' log subscriber (level and format from Lambda's settings).

pub mod addresses;
pub mod audit;
pub mod auth;
pub mod cart;
pub mod catalog;
pub mod config;
pub mod coupons;
pub mod domain;
pub mod edge;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod orders;
pub mod payments;
pub mod retry;
pub mod state;
pub mod store;
pub mod webhooks;

pub use state::AppState;
