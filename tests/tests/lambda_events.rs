//! The Lambda path: each sample API Gateway REST (v1) event in `events/` goes through
//! lambda_http's own event deserialisation into the auth function's router, exactly as
//! `lambda_http::run` hands it over on AWS.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::Value;
use shared::{AppState, store::MemoryStore};

async fn invoke(router: &axum::Router, name: &str, tokens: &[(&str, &str)]) -> (StatusCode, Value) {
    let reply = e2e::invoke_event(router, name, tokens).await;
    (reply.status, reply.json)
}

#[tokio::test]
async fn every_sample_event_is_answered_by_the_auth_function() {
    // The template sets this for every function (checked by the template tests); it must be
    // set before lambda_http parses an event, and this is the only test in this binary.
    // SAFETY: no other thread of this test binary reads or writes the environment yet.
    unsafe { std::env::set_var("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true") };
    let state = AppState::new(Arc::new(MemoryStore::default()), e2e::token_config());
    let router = auth::router(state);

    let (status, body) = invoke(&router, "auth-register", &[]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["message"], "User registered successfully");
    assert_eq!(body["user"]["email"], "newcomer@example.com");

    let (status, body) = invoke(&router, "auth-login", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = body["tokens"]["access_token"]
        .as_str()
        .expect("access")
        .to_owned();
    let refresh = body["tokens"]["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();

    let (status, body) = invoke(&router, "auth-protected", &[("access_token", &access)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["email"], "newcomer@example.com");

    let (status, body) = invoke(
        &router,
        "auth-refresh_access_token",
        &[("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = body["access_token"].as_str().expect("access").to_owned();

    let (status, body) = invoke(&router, "auth-logout", &[("access_token", &access)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Successfully logged out");

    let (status, body) = invoke(&router, "auth-protected", &[("access_token", &access)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "token_revoked");

    // An event with no token at all gets the JSON envelope, not a runtime error.
    let (status, body) = invoke(&router, "auth-protected", &[("access_token", "")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "authorization_header");
}
