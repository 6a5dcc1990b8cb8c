//! The auth endpoints end to end, through the composed router, on both stores.

use axum::http::{Method, StatusCode};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use e2e::{TestApp, both_stores};
use serde_json::{Value, json};
use shared::{
    auth::TokenKind,
    domain::{Email, Role, SessionId, Timestamp, TokenId, UserId},
};

const PASSWORD: &str = "correct horse battery";

fn assert_error(reply: &e2e::Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{:?}", reply.json);
    assert_eq!(reply.code(), code, "{:?}", reply.json);
    assert!(reply.json["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
}

/// The token with its payload re-encoded after `edit`, keeping the original signature.
fn tamper(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64")).expect("json");
    edit(&mut payload);
    let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

/// The same claims under `{"alg":"none"}` and no signature.
fn unsigned(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("payload");
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    format!("{header}.{payload}.")
}

async fn register_creates_a_customer_by_default(app: TestApp) {
    let reply = app.register("Ann@Example.COM ", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    assert_eq!(reply.json["message"], "User registered successfully");
    let user = &reply.json["user"];
    assert_eq!(user["email"], "ann@example.com");
    assert_eq!(user["role"], "customer");
    assert_eq!(user["id"].as_str().map(str::len), Some(26));
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());
}

async fn self_registration_with_a_privileged_role_is_refused(app: TestApp) {
    for role in ["admin", "prime_customer"] {
        let body =
            json!({ "email": format!("{role}@shop.test"), "password": PASSWORD, "role": role });
        let reply = app.post("/auth/register", None, body.clone()).await;
        assert_error(&reply, StatusCode::FORBIDDEN, "forbidden");

        app.register("someone@shop.test", PASSWORD).await;
        let (customer, _) = app.login("someone@shop.test", PASSWORD).await;
        let reply = app.post("/auth/register", Some(&customer), body).await;
        assert_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    }
    // Nothing was written by the refused attempts.
    let reply = app
        .post("/auth/login", None, json!({ "email": "admin@shop.test", "password": PASSWORD }))
        .await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
}

async fn an_admin_may_register_privileged_accounts(app: TestApp) {
    let admin = app.admin().await;
    for role in ["admin", "prime_customer", "customer"] {
        let body =
            json!({ "email": format!("{role}@shop.test"), "password": PASSWORD, "role": role });
        let reply = app.post("/auth/register", Some(&admin), body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
        assert_eq!(reply.json["user"]["role"], role);
    }
    let (token, _) = app.login("prime_customer@shop.test", PASSWORD).await;
    let me = app.get("/auth/protected", Some(&token)).await;
    assert_eq!(me.json["role"], "prime_customer");
}

async fn the_admin_command_promotes_only_an_account_it_can_prove_is_the_operators(app: TestApp) {
    // Someone registers the operator's address first, with their own password.
    app.register("ops@shop.test", "squatter-password").await;
    let refused =
        shared::auth::ensure_admin(app.store.as_ref(), "ops@shop.test", "operator-password").await;
    assert!(refused.is_err());
    let (token, _) = app.login("ops@shop.test", "squatter-password").await;
    assert_eq!(app.get("/auth/protected", Some(&token)).await.json["role"], "customer");

    // The account's owner, proving the password, is promoted; a second run changes nothing.
    let promoted =
        shared::auth::ensure_admin(app.store.as_ref(), "ops@shop.test", "squatter-password").await;
    assert_eq!(promoted.expect("promoted"), "role changed");
    let again =
        shared::auth::ensure_admin(app.store.as_ref(), "ops@shop.test", "squatter-password").await;
    assert_eq!(again.expect("exists"), "exists");
    let (token, _) = app.login("ops@shop.test", "squatter-password").await;
    assert_eq!(app.get("/auth/protected", Some(&token)).await.json["role"], "admin");
}

async fn an_unknown_role_is_a_validation_error(app: TestApp) {
    let reply = app
        .post(
            "/auth/register",
            None,
            json!({ "email": "x@shop.test", "password": PASSWORD, "role": "root" }),
        )
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "validation_error");
    assert!(reply.json["errors"]["role"].is_array(), "{:?}", reply.json);
}

async fn duplicate_email_in_any_case_is_a_conflict(app: TestApp) {
    assert_eq!(app.register("bob@shop.test", PASSWORD).await.status, StatusCode::CREATED);
    let reply = app.register("BOB@Shop.Test", "another password").await;
    assert_error(&reply, StatusCode::CONFLICT, "email_taken");
    assert_eq!(reply.json["message"], "User already exists");
    // The first account is intact: its password still works, the second one does not.
    app.login("bob@shop.test", PASSWORD).await;
    let reply = app
        .post(
            "/auth/login",
            None,
            json!({ "email": "bob@shop.test", "password": "another password" }),
        )
        .await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
}

async fn concurrent_registrations_of_one_email_create_one_account(app: TestApp) {
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..8 {
        let app = app.clone();
        let email = if i % 2 == 0 { "race@shop.test" } else { "RACE@shop.test" };
        attempts.spawn(async move { app.register(email, PASSWORD).await });
    }
    let replies = attempts.join_all().await;
    let created = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let conflicts = replies.iter().filter(|r| r.status == StatusCode::CONFLICT).count();
    assert_eq!((created, conflicts), (1, 7));
}

async fn login_returns_tokens_and_the_user(app: TestApp) {
    app.register("cat@shop.test", PASSWORD).await;
    let reply = app
        .post("/auth/login", None, json!({ "email": " CAT@shop.test", "password": PASSWORD }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["message"], "Logged in successfully");
    assert_eq!(reply.json["user"]["email"], "cat@shop.test");
    let tokens = &reply.json["tokens"];
    assert_ne!(tokens["access_token"], tokens["refresh_token"]);
    let me = app.get("/auth/protected", tokens["access_token"].as_str()).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["message"], "Protected route accessed");
    assert_eq!(me.json["email"], "cat@shop.test");
    assert_eq!(me.json["role"], "customer");
    assert_eq!(me.json["user_id"], reply.json["user"]["id"]);
}

async fn unknown_user_and_wrong_password_get_the_same_answer(app: TestApp) {
    app.register("dan@shop.test", PASSWORD).await;
    let wrong_password = app
        .post(
            "/auth/login",
            None,
            json!({ "email": "dan@shop.test", "password": "not the password" }),
        )
        .await;
    let unknown_user = app
        .post(
            "/auth/login",
            None,
            json!({ "email": "nobody@shop.test", "password": "not the password" }),
        )
        .await;
    let not_an_email =
        app.post("/auth/login", None, json!({ "email": "nobody", "password": "x" })).await;
    assert_error(&wrong_password, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(wrong_password.json["message"], "Invalid email or password");
    assert_eq!(wrong_password.json, unknown_user.json);
    assert_eq!(wrong_password.json, not_an_email.json);
    assert_eq!(unknown_user.status, not_an_email.status);
}

async fn missing_or_malformed_authorization_is_refused(app: TestApp) {
    assert_error(
        &app.get("/auth/protected", None).await,
        StatusCode::UNAUTHORIZED,
        "authorization_header",
    );
    for header in ["Token abc", "Bearer", "Bearer a b", "bearer"] {
        let request = axum::http::Request::get("/auth/protected")
            .header("authorization", header)
            .body(axum::body::Body::empty())
            .expect("request");
        let reply = app.send(request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{header}: {:?}", reply.json);
    }
    assert_error(
        &app.get("/auth/protected", Some("not.a.jwt")).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
}

async fn forged_tokens_are_refused(app: TestApp) {
    app.register("eve@shop.test", PASSWORD).await;
    let (access, refresh) = app.login("eve@shop.test", PASSWORD).await;
    assert_eq!(app.get("/auth/protected", Some(&access)).await.status, StatusCode::OK);

    let none = unsigned(&access);
    assert_error(
        &app.get("/auth/protected", Some(&none)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );

    let promoted = tamper(&access, |claims| claims["role"] = json!("admin"));
    assert_error(
        &app.get("/auth/protected", Some(&promoted)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );

    let prolonged = tamper(&access, |claims| claims["exp"] = json!(4_102_444_800_i64));
    assert_error(
        &app.get("/auth/protected", Some(&prolonged)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );

    // Refresh token where an access token is expected, and the other way round.
    assert_error(
        &app.get("/auth/protected", Some(&refresh)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    assert_error(
        &app.get("/auth/refresh_access_token", Some(&access)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    assert_error(
        &app.get("/auth/logout", Some(&refresh)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
}

async fn expired_tokens_are_refused(app: TestApp) {
    let user = app.register("fay@shop.test", PASSWORD).await.json["user"].clone();
    let id: UserId = user["id"].as_str().expect("id").parse().expect("ulid");
    let email = Email::parse("fay@shop.test").expect("email");
    let two_hours_ago = Timestamp::from_unix(Timestamp::now().unix() - 7200).expect("time");
    let expired = app
        .tokens()
        .issue(
            TokenKind::Access,
            (id, &email, Role::Customer),
            SessionId::new(),
            TokenId::new(),
            two_hours_ago,
        )
        .expect("signed");
    let reply = app.get("/auth/protected", Some(&expired)).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "token_expired");
}

async fn a_token_for_a_session_that_never_existed_is_refused(app: TestApp) {
    let user = app.register("gus@shop.test", PASSWORD).await.json["user"].clone();
    let id: UserId = user["id"].as_str().expect("id").parse().expect("ulid");
    let minted = app.minted_admin_token(id, "gus@shop.test");
    assert_error(
        &app.get("/auth/protected", Some(&minted)).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    );
}

async fn logout_ends_the_session_and_only_that_session(app: TestApp) {
    app.register("hal@shop.test", PASSWORD).await;
    let (access, refresh) = app.login("hal@shop.test", PASSWORD).await;
    let (other_access, other_refresh) = app.login("hal@shop.test", PASSWORD).await;

    let reply = app.get("/auth/logout", Some(&access)).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["message"], "Successfully logged out");

    assert_error(
        &app.get("/auth/protected", Some(&access)).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    );
    assert_error(
        &app.get("/auth/refresh_access_token", Some(&refresh)).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    );
    assert_error(
        &app.get("/auth/logout", Some(&access)).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    );

    assert_eq!(app.get("/auth/protected", Some(&other_access)).await.status, StatusCode::OK);
    assert_eq!(
        app.get("/auth/refresh_access_token", Some(&other_refresh)).await.status,
        StatusCode::OK
    );
}

async fn refresh_rotates_and_reuse_revokes_the_session(app: TestApp) {
    // No grace window: any replay of a rotated-out token is theft (the window has its own test).
    let app = app.with_settings(
        shared::auth::TokenConfig { refresh_reuse_grace_seconds: 0, ..e2e::token_config() },
        |state| state,
    );
    app.register("ivy@shop.test", PASSWORD).await;
    let (_, first_refresh) = app.login("ivy@shop.test", PASSWORD).await;

    let reply = app.get("/auth/refresh_access_token", Some(&first_refresh)).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    let access = reply.json["access_token"].as_str().expect("access").to_owned();
    let second_refresh = reply.json["refresh_token"].as_str().expect("refresh").to_owned();
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(app.get("/auth/protected", Some(&access)).await.status, StatusCode::OK);

    // Replaying the rotated-out token: refused, and the whole session ends with it.
    let replay = app.get("/auth/refresh_access_token", Some(&first_refresh)).await;
    assert_error(&replay, StatusCode::UNAUTHORIZED, "token_revoked");
    assert_error(
        &app.get("/auth/refresh_access_token", Some(&second_refresh)).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    );
    assert_error(
        &app.get("/auth/protected", Some(&access)).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    );
}

async fn a_refresh_picks_up_a_changed_role(app: TestApp) {
    let user = app.register("jon@shop.test", PASSWORD).await.json["user"].clone();
    let (_, refresh) = app.login("jon@shop.test", PASSWORD).await;
    let id: UserId = user["id"].as_str().expect("id").parse().expect("ulid");
    app.set_role(id, Role::PrimeCustomer).await;
    let reply = app.get("/auth/refresh_access_token", Some(&refresh)).await;
    let access = reply.json["access_token"].as_str().expect("access");
    assert_eq!(app.get("/auth/protected", Some(access)).await.json["role"], "prime_customer");
}

async fn bad_bodies_get_4xx_json_never_5xx(app: TestApp) {
    let raw = |content_type: &str, body: Vec<u8>| {
        axum::http::Request::post("/auth/register")
            .header("content-type", content_type)
            .body(axum::body::Body::from(body))
            .expect("request")
    };
    let json_type = "application/json";
    let cases = [
        (raw(json_type, b"{\"email\":".to_vec()), StatusCode::BAD_REQUEST, "invalid_json"),
        (raw(json_type, b"".to_vec()), StatusCode::BAD_REQUEST, "invalid_json"),
        (raw(json_type, b"[1,2]".to_vec()), StatusCode::BAD_REQUEST, "validation_error"),
        (raw(json_type, b"null".to_vec()), StatusCode::BAD_REQUEST, "validation_error"),
        (
            raw(json_type, br#"{"email":5,"password":true}"#.to_vec()),
            StatusCode::BAD_REQUEST,
            "validation_error",
        ),
        (
            raw(json_type, br#"{"email":"a@b.co"}"#.to_vec()),
            StatusCode::BAD_REQUEST,
            "validation_error",
        ),
        (
            raw(json_type, br#"{"email":"a@b.co","password":"12345678","admin":true}"#.to_vec()),
            StatusCode::BAD_REQUEST,
            "validation_error",
        ),
        (
            raw("text/plain", br#"{"email":"a@b.co","password":"12345678"}"#.to_vec()),
            StatusCode::BAD_REQUEST,
            "unsupported_media_type",
        ),
        (
            raw(json_type, vec![b' '; 64 * 1024 + 1]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (request, status, code) in cases {
        let reply = app.send(request).await;
        assert_error(&reply, status, code);
    }
    let reply = app.post("/auth/register", None, json!({ "email": 5, "password": true })).await;
    assert!(reply.json["errors"]["email"].is_array(), "{:?}", reply.json);

    let reply = app
        .post("/auth/register", None, json!({ "email": "not-an-email", "password": "short" }))
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "validation_error");
    assert!(
        reply.json["errors"]["email"].is_array() && reply.json["errors"]["password"].is_array(),
        "{:?}",
        reply.json
    );

    let reply = app.post("/auth/login", None, json!({ "email": ["x"], "password": {} })).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "validation_error");
}

async fn unknown_paths_and_methods_answer_in_json(app: TestApp) {
    assert_error(&app.get("/auth/nothing", None).await, StatusCode::NOT_FOUND, "route_not_found");
    assert_error(
        &app.delete("/auth/login", None).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    assert_error(
        &app.call(Method::POST, "/auth/protected", None, Some(json!({}))).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
}

both_stores!(
    register_creates_a_customer_by_default,
    self_registration_with_a_privileged_role_is_refused,
    an_admin_may_register_privileged_accounts,
    the_admin_command_promotes_only_an_account_it_can_prove_is_the_operators,
    an_unknown_role_is_a_validation_error,
    duplicate_email_in_any_case_is_a_conflict,
    concurrent_registrations_of_one_email_create_one_account,
    login_returns_tokens_and_the_user,
    unknown_user_and_wrong_password_get_the_same_answer,
    missing_or_malformed_authorization_is_refused,
    forged_tokens_are_refused,
    expired_tokens_are_refused,
    a_token_for_a_session_that_never_existed_is_refused,
    logout_ends_the_session_and_only_that_session,
    refresh_rotates_and_reuse_revokes_the_session,
    a_refresh_picks_up_a_changed_role,
    bad_bodies_get_4xx_json_never_5xx,
    unknown_paths_and_methods_answer_in_json,
);
