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
    let state = e2e::lambda_state();
    let router = auth::router(state);

    let (status, body) = invoke(&router, "auth-register", &[]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["message"], "User registered successfully");
    assert_eq!(body["user"]["email"], "newcomer@example.com");

    let (status, body) = invoke(&router, "auth-login", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = body["tokens"]["access_token"].as_str().expect("access").to_owned();
    let refresh = body["tokens"]["refresh_token"].as_str().expect("refresh").to_owned();

    let (status, body) = invoke(&router, "auth-protected", &[("access_token", &access)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["email"], "newcomer@example.com");

    let (status, body) =
        invoke(&router, "auth-refresh_access_token", &[("refresh_token", &refresh)]).await;
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

    cors_on_the_lambda_path_matches_the_local_server().await;
}

/// CORS through the Lambda path: the same layer as the local server (called by the test above,
/// after it has set the environment).
async fn cors_on_the_lambda_path_matches_the_local_server() {
    let origins = shared::config::CorsOrigins::parse("https://shop.example.com").expect("origins");
    let state =
        AppState::new(Arc::new(MemoryStore::default()), e2e::token_config()).with_cors(origins);
    let router = auth::router(state);

    let preflight = e2e::invoke_event(&router, "auth-login-preflight", &[]).await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    let header = |reply: &e2e::Reply, name: &str| {
        reply
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    assert_eq!(header(&preflight, "access-control-allow-origin"), "https://shop.example.com");
    assert!(header(&preflight, "access-control-allow-methods").contains("post"));
    for allowed in ["authorization", "content-type", "idempotency-key"] {
        assert!(header(&preflight, "access-control-allow-headers").contains(allowed), "{allowed}");
    }

    // An error answer (wrong password) to a browser request carries the origin too.
    let refused = e2e::invoke_event(&router, "auth-login-from-browser", &[]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{:?}", refused.json);
    assert_eq!(header(&refused, "access-control-allow-origin"), "https://shop.example.com");
    assert!(header(&refused, "access-control-expose-headers").contains("retry-after"));
}
