//! Hostile clients, end to end on both stores: tokens re-signed with the real key, password
//! guessing, concurrent refreshes from two tabs, browsers on other origins.

use std::sync::Arc;

use axum::http::{Method, Request, StatusCode, header};
use e2e::{TestApp, both_stores};
use serde_json::json;
use shared::{
    auth::{LoginPolicy, TokenConfig, TokenKind},
    config::CorsOrigins,
    domain::{Email, ManualClock, Role, TokenId, UserId},
};

const PASSWORD: &str = "correct horse battery";

/// The claims of `token` (its payload, decoded without verification).
fn claims(app: &TestApp, token: &str) -> shared::auth::Claims {
    app.tokens().verify(token, TokenKind::Access).expect("a token the app issued")
}

/// Registers `email` and returns (user id, access token).
async fn customer(app: &TestApp, email: &str) -> (UserId, String) {
    let reply = app.register(email, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    let (access, _) = app.login(email, PASSWORD).await;
    (claims(app, &access).sub, access)
}

/// A token with the same session as `access`, re-signed with the app's real key after `edit`:
/// what anyone who read the key from a function's environment can make.
fn resigned(
    app: &TestApp,
    access: &str,
    edit: impl FnOnce(&mut UserId, &mut Email, &mut Role),
) -> String {
    let original = claims(app, access);
    let (mut sub, mut email, mut role) =
        (original.sub, Email::parse(&original.email).expect("email"), original.role);
    edit(&mut sub, &mut email, &mut role);
    app.tokens()
        .issue(
            TokenKind::Access,
            (sub, &email, role),
            original.sid,
            TokenId::new(),
            shared::domain::Timestamp::now(),
        )
        .expect("signed")
}

fn header<'a>(reply: &'a e2e::Reply, name: &str) -> &'a str {
    reply.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn a_token_resigned_as_admin_gains_nothing(app: TestApp) {
    let (_, access) = customer(&app, "mallory@shop.test").await;
    let forged = resigned(&app, &access, |_, _, role| *role = Role::Admin);

    let reply = app.get("/coupons/all", Some(&forged)).await;
    assert_eq!(reply.outcome(), (StatusCode::FORBIDDEN, "forbidden"));
    let product = json!({"name": "Forged", "category": "x", "variants": [{"sku": "F-1", "stock": 1, "price": "1.00"}]});
    let reply = app.post("/products/create_product", Some(&forged), product).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{:?}", reply.json);
    let reply = app.get("/auth/protected", Some(&forged)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["role"], "customer");

    // Another e-mail in the token: the stored one is reported.
    let renamed = resigned(&app, &access, |_, email, _| {
        *email = Email::parse("root@shop.test").expect("email");
    });
    let reply = app.get("/auth/protected", Some(&renamed)).await;
    assert_eq!(reply.json["email"], "mallory@shop.test");

    // Another user's id with this session: no such session for that user.
    let (victim, _) = customer(&app, "victim@shop.test").await;
    let impersonating = resigned(&app, &access, |sub, _, _| *sub = victim);
    let reply = app.get("/cart/details", Some(&impersonating)).await;
    assert_eq!(reply.outcome(), (StatusCode::UNAUTHORIZED, "token_revoked"));
}

async fn a_role_change_applies_to_live_sessions_at_once(app: TestApp) {
    let (id, access) = customer(&app, "rita@shop.test").await;
    assert_eq!(app.get("/coupons/all", Some(&access)).await.status, StatusCode::FORBIDDEN);

    // Promoted by the operator: the token issued before is an admin's now.
    app.set_role(id, Role::Admin).await;
    assert_eq!(app.get("/coupons/all", Some(&access)).await.status, StatusCode::OK);
    assert_eq!(app.get("/auth/protected", Some(&access)).await.json["role"], "admin");

    // Demoted: the same token loses it at the next request, not when it expires.
    app.set_role(id, Role::Customer).await;
    let reply = app.get("/coupons/all", Some(&access)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    // An admin registering a prime customer: their first login carries the role.
    let admin = app.admin().await;
    let body = json!({"email": "pat@shop.test", "password": PASSWORD, "role": "prime_customer"});
    let reply = app.post("/auth/register", Some(&admin), body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    let (pat, _) = app.login("pat@shop.test", PASSWORD).await;
    assert_eq!(app.get("/auth/protected", Some(&pat)).await.json["role"], "prime_customer");
}

async fn login(app: &TestApp, email: &str, password: &str) -> e2e::Reply {
    app.post("/auth/login", None, json!({"email": email, "password": password})).await
}

async fn ten_failures_lock_the_account_and_only_it(app: TestApp) {
    customer(&app, "gina@shop.test").await;
    customer(&app, "hank@shop.test").await;
    for attempt in 1..=10 {
        let reply = login(&app, "gina@shop.test", "not the password").await;
        assert_eq!(
            reply.outcome(),
            (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            "attempt {attempt}"
        );
    }
    // The right password no longer helps until the window ends.
    let reply = login(&app, "gina@shop.test", PASSWORD).await;
    assert_eq!(reply.outcome(), (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"));
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
    let retry_after: i64 = header(&reply, "retry-after").parse().expect("Retry-After seconds");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    // Another account is never affected.
    login(&app, "hank@shop.test", PASSWORD).await;
    app.login("hank@shop.test", PASSWORD).await;

    // An unknown address locks the same way, so the 429 tells nobody an account exists.
    for _ in 1..=10 {
        let reply = login(&app, "nobody@shop.test", "guess").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = login(&app, "nobody@shop.test", "guess").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

async fn the_lock_ends_with_its_window_and_a_success_resets_the_count(app: TestApp) {
    let policy = LoginPolicy { max_failures: 3, window_seconds: 2 };
    let clock = Arc::new(ManualClock::starting_now());
    let app = app.with_settings(e2e::token_config(), |state| {
        state.with_login_policy(policy).with_clock(clock.clone())
    });
    customer(&app, "ivan@shop.test").await;

    // Two failures, then a success: the count starts again.
    for _ in 0..2 {
        login(&app, "ivan@shop.test", "wrong").await;
    }
    app.login("ivan@shop.test", PASSWORD).await;
    for _ in 0..2 {
        login(&app, "ivan@shop.test", "wrong").await;
    }
    app.login("ivan@shop.test", PASSWORD).await;

    for _ in 0..3 {
        login(&app, "ivan@shop.test", "wrong").await;
    }
    assert_eq!(login(&app, "ivan@shop.test", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    clock.advance(1);
    assert_eq!(login(&app, "ivan@shop.test", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    clock.advance(2);
    app.login("ivan@shop.test", PASSWORD).await;
}

async fn two_tabs_refreshing_at_once_both_keep_working(app: TestApp) {
    customer(&app, "tess@shop.test").await;
    let (_, refresh) = app.login("tess@shop.test", PASSWORD).await;
    let first = app.get("/auth/refresh_access_token", Some(&refresh)).await;
    let second = app.get("/auth/refresh_access_token", Some(&refresh)).await;
    assert_eq!(
        (first.status, second.status),
        (StatusCode::OK, StatusCode::OK),
        "{:?}",
        second.json
    );
    for pair in [&first, &second] {
        let access = pair.json["access_token"].as_str().expect("access");
        assert_eq!(app.get("/auth/protected", Some(access)).await.status, StatusCode::OK);
    }
    // Each tab's refresh token works next time too (the second tab then uses the grace).
    for pair in [&first, &second] {
        let refresh = pair.json["refresh_token"].as_str().expect("refresh");
        let next = app.get("/auth/refresh_access_token", Some(refresh)).await;
        assert_eq!(next.status, StatusCode::OK, "{:?}", next.json);
    }
}

async fn a_replay_after_the_grace_window_ends_the_session(app: TestApp) {
    let tokens = TokenConfig { refresh_reuse_grace_seconds: 1, ..e2e::token_config() };
    let clock = Arc::new(ManualClock::starting_now());
    let app = app.with_settings(tokens, |state| state.with_clock(clock.clone()));
    customer(&app, "uma@shop.test").await;
    let (_, refresh) = app.login("uma@shop.test", PASSWORD).await;
    let rotated = app.get("/auth/refresh_access_token", Some(&refresh)).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let access = rotated.json["access_token"].as_str().expect("access");

    clock.advance(2);
    let replay = app.get("/auth/refresh_access_token", Some(&refresh)).await;
    assert_eq!(replay.outcome(), (StatusCode::UNAUTHORIZED, "token_revoked"));
    let reply = app.get("/auth/protected", Some(access)).await;
    assert_eq!(reply.outcome(), (StatusCode::UNAUTHORIZED, "token_revoked"));
}

async fn token_answers_are_never_cached(app: TestApp) {
    customer(&app, "vic@shop.test").await;
    let reply = login(&app, "vic@shop.test", PASSWORD).await;
    assert_eq!(header(&reply, "cache-control"), "no-store");
    assert_eq!(header(&reply, "pragma"), "no-cache");
    let refresh = reply.json["tokens"]["refresh_token"].as_str().expect("refresh");
    let reply = app.get("/auth/refresh_access_token", Some(refresh)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(header(&reply, "cache-control"), "no-store");
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> e2e::Reply {
    let request = Request::builder()
        .method(Method::OPTIONS)
        .uri(path)
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization, content-type, idempotency-key",
        )
        .body(axum::body::Body::empty())
        .expect("request");
    app.send(request).await
}

async fn every_route_answers_preflights_and_every_response_names_the_origin(app: TestApp) {
    let origin = "https://shop.example.com";
    for route in e2e::source_routes() {
        let path = route.path.replace('{', "x").replace('}', "");
        let reply = preflight(&app, &path, origin).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "OPTIONS {path}");
        assert_eq!(header(&reply, "access-control-allow-origin"), "*", "{path}");
        let methods = header(&reply, "access-control-allow-methods");
        assert!(methods.contains(&route.method), "{path}: {methods}");
        let allowed = header(&reply, "access-control-allow-headers").to_ascii_lowercase();
        for name in ["authorization", "content-type", "idempotency-key"] {
            assert!(allowed.contains(name), "{path}: {allowed}");
        }
    }

    // Answers, errors included, carry the origin and expose the API's own headers.
    let with_origin = |method: Method, path: &str| {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::ORIGIN, origin)
            .body(axum::body::Body::empty())
            .expect("request")
    };
    for (method, path, status) in [
        (Method::GET, "/products/all_products", StatusCode::OK),
        (Method::GET, "/cart/details", StatusCode::UNAUTHORIZED),
        (Method::GET, "/no/such/route", StatusCode::NOT_FOUND),
        (Method::DELETE, "/auth/login", StatusCode::METHOD_NOT_ALLOWED),
        (Method::POST, "/auth/login", StatusCode::BAD_REQUEST),
    ] {
        let reply = app.send(with_origin(method.clone(), path)).await;
        assert_eq!(reply.status, status, "{method} {path}");
        assert_eq!(header(&reply, "access-control-allow-origin"), "*", "{method} {path}");
        let exposed = header(&reply, "access-control-expose-headers").to_ascii_lowercase();
        assert!(
            exposed.contains("idempotent-replayed") && exposed.contains("retry-after"),
            "{exposed}"
        );
    }
}

async fn only_listed_origins_are_allowed(app: TestApp) {
    let origins =
        CorsOrigins::parse("https://shop.example.com,http://localhost:5173").expect("origins");
    let app = app.with_settings(e2e::token_config(), |state| state.with_cors(origins));
    for allowed in ["https://shop.example.com", "http://localhost:5173"] {
        let reply = preflight(&app, "/auth/login", allowed).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        assert_eq!(header(&reply, "access-control-allow-origin"), allowed);
        assert!(header(&reply, "vary").to_ascii_lowercase().contains("origin"));
    }
    let reply = preflight(&app, "/auth/login", "https://evil.example").await;
    assert_eq!(header(&reply, "access-control-allow-origin"), "");
    let request = Request::get("/products/all_products")
        .header(header::ORIGIN, "https://evil.example")
        .body(axum::body::Body::empty())
        .expect("request");
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(header(&reply, "access-control-allow-origin"), "");
}

async fn a_session_never_existing_is_refused_whatever_the_claims(app: TestApp) {
    let (id, _) = customer(&app, "walt@shop.test").await;
    let minted = app.minted_admin_token(id, "walt@shop.test");
    let reply = app.get("/coupons/all", Some(&minted)).await;
    assert_eq!(reply.outcome(), (StatusCode::UNAUTHORIZED, "token_revoked"));
}

async fn requests_sharing_a_cache_key_get_the_same_answer(app: TestApp) {
    let admin = app.admin().await;
    for n in 0..3 {
        let product = json!({"name": format!("P{n}"), "category": "c", "variants": [{"sku": format!("P-{n}"), "stock": 1, "price": "1.00"}]});
        let reply = app.post("/products/create_product", Some(&admin), product).await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    let ids = |reply: &e2e::Reply| -> Vec<String> {
        reply.json["products"]
            .as_array()
            .expect("products")
            .iter()
            .map(|p| p["id"].as_str().expect("id").to_owned())
            .collect()
    };
    // API Gateway keys the cache on page, per_page, category, cursor, limit (last value each)
    // and Origin: each of these maps to the key of a valid request and gets its answer.
    for (variant, same_as) in [
        ("page=1&page=1&per_page=2", "page=1&per_page=2"),
        ("page=9&page=2&per_page=2", "page=2&per_page=2"),
        ("per_page=2&utm_source=mail&Page=7", "per_page=2"),
        ("limit=1&limit=2", "limit=2"),
        ("category=x&category=c", "category=c"),
    ] {
        let expected = app.get(&format!("/products/all_products?{same_as}"), None).await;
        let reply = app.get(&format!("/products/all_products?{variant}"), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{variant}: {:?}", reply.json);
        assert_eq!(ids(&reply), ids(&expected), "{variant}");
    }
}

both_stores!(
    requests_sharing_a_cache_key_get_the_same_answer,
    a_token_resigned_as_admin_gains_nothing,
    a_role_change_applies_to_live_sessions_at_once,
    ten_failures_lock_the_account_and_only_it,
    the_lock_ends_with_its_window_and_a_success_resets_the_count,
    two_tabs_refreshing_at_once_both_keep_working,
    a_replay_after_the_grace_window_ends_the_session,
    token_answers_are_never_cached,
    every_route_answers_preflights_and_every_response_names_the_origin,
    only_listed_origins_are_allowed,
    a_session_never_existing_is_refused_whatever_the_claims,
);
