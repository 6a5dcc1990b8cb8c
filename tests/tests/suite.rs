//! The end-to-end, store contract, template and Lambda-path suites, one module per file
//! beside this one, linked into one test binary: the AWS SDK is linked once instead of once
//! per file, which saves the link time and more than a gigabyte of disk per build.
//! `metrics.rs` stays a binary of its own: it installs the process-wide log subscriber.
//!
//! One file's tests: `cargo test -p e2e --test suite orders::`.

mod addresses;
mod attacks;
mod audit;
mod auth_flows;
mod cart;
mod compatibility;
mod coupons;
mod demo;
mod docs_links;
mod edge_cache;
mod hardening;
mod iam_keys;
mod lambda_account_admin_events;
mod lambda_cart_events;
mod lambda_coupons_events;
mod lambda_events;
mod lambda_orders_events;
mod lambda_payment_jobs;
mod lambda_products_events;
mod layers;
mod lost_answers;
mod openapi;
mod order_emails;
mod order_emails_moto;
mod order_events_fanout;
mod order_webhooks_moto;
mod orders;
mod payment_provider;
mod payments;
mod products;
mod request_counts;
mod rust_version;
mod store_contract;
mod template;
mod throttle_retry;
mod webhooks;
