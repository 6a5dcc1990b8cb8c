//! Coupon administration and offers end to end, on both stores.

use axum::http::StatusCode;
use e2e::{TestApp, both_stores};
use serde_json::{Value, json};

fn coupon(code: &str, extra: Value) -> Value {
    let mut body = json!({ "code": code, "discount_percent": 10, "expiry": "2099-01-01T00:00:00" });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    body
}

fn codes(reply: &e2e::Reply) -> Vec<String> {
    reply.json["coupons"]
        .as_array()
        .expect("coupons")
        .iter()
        .map(|c| c["code"].as_str().expect("code").to_owned())
        .collect()
}

async fn user_with_role(app: &TestApp, admin: &str, email: &str, role: &str) -> String {
    let body = json!({ "email": email, "password": "a-good-password", "role": role });
    assert_eq!(app.post("/auth/register", Some(admin), body).await.status, StatusCode::CREATED);
    app.login(email, "a-good-password").await.0
}

async fn an_admin_creates_updates_lists_and_deletes_coupons(app: TestApp) {
    let admin = app.admin().await;
    let reply = app.post("/coupons/create", Some(&admin), coupon("save-10", json!({}))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    assert_eq!(reply.json["message"], "Coupon created successfully");
    let created = &reply.json["coupon"];
    assert_eq!(
        (created["code"].as_str(), created["expiry"].as_str()),
        (Some("SAVE-10"), Some("2099-01-01T00:00:00Z"))
    );
    assert_eq!(created["eligible_roles"], json!(["customer"]));

    let duplicate = app.post("/coupons/create", Some(&admin), coupon("SAVE-10", json!({}))).await;
    assert_eq!(duplicate.outcome(), (StatusCode::CONFLICT, "coupon_exists"));

    let update = app
        .put(
            "/coupons/update/save-10",
            Some(&admin),
            json!({ "discount_percent": 25, "max_uses": 3 }),
        )
        .await;
    assert_eq!(update.status, StatusCode::OK, "{:?}", update.json);
    assert_eq!(update.json["message"], "Coupon updated successfully");
    assert_eq!(
        (
            update.json["coupon"]["discount_percent"].as_u64(),
            update.json["coupon"]["max_uses"].as_u64()
        ),
        (Some(25), Some(3))
    );
    assert_eq!(update.json["coupon"]["expiry"], created["expiry"]);

    let all = app.get("/coupons/all", Some(&admin)).await;
    assert_eq!(all.json["message"], "Coupons retrieved successfully");
    assert_eq!(codes(&all), ["SAVE-10"]);
    assert_eq!(all.json["coupons"][0], update.json["coupon"]);

    let deleted = app.delete("/coupons/delete/SAVE-10", Some(&admin)).await;
    assert_eq!(
        (deleted.status, deleted.json["message"].as_str()),
        (StatusCode::OK, Some("Coupon deleted successfully"))
    );
    let again = app.delete("/coupons/delete/SAVE-10", Some(&admin)).await;
    assert_eq!(again.outcome(), (StatusCode::NOT_FOUND, "coupon_not_found"));
    let missing =
        app.put("/coupons/update/NOPE-1", Some(&admin), json!({ "discount_percent": 5 })).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(codes(&app.get("/coupons/all", Some(&admin)).await), Vec::<String>::new());
}

async fn invalid_coupons_are_400_naming_the_field(app: TestApp) {
    let admin = app.admin().await;
    let cases = [
        (coupon("ab", json!({})), "code"),
        (coupon("bad code!", json!({})), "code"),
        (coupon("OK-1", json!({ "discount_percent": 0 })), "discount_percent"),
        (coupon("OK-1", json!({ "discount_percent": 101 })), "discount_percent"),
        (coupon("OK-1", json!({ "expiry": "next week" })), "expiry"),
        (coupon("OK-1", json!({ "eligible_roles": [] })), "eligible_roles"),
        (coupon("OK-1", json!({ "eligible_roles": ["root"] })), "eligible_roles"),
        (coupon("OK-1", json!({ "max_uses": 0 })), "max_uses"),
        (coupon("OK-1", json!({ "starts_at": "2100-01-01T00:00:00Z" })), "starts_at"),
        (coupon("OK-1", json!({ "min_order_amount": "-5" })), "min_order_amount"),
        (json!({ "code": "OK-1" }), "discount_percent"),
    ];
    for (body, field) in cases {
        let reply = app.post("/coupons/create", Some(&admin), body).await;
        reply.assert_invalid(field);
    }
    app.post("/coupons/create", Some(&admin), coupon("OK-1", json!({}))).await;
    let rename = app.put("/coupons/update/OK-1", Some(&admin), json!({ "code": "OK-2" })).await;
    assert_eq!(rename.status, StatusCode::BAD_REQUEST);
    assert_eq!(codes(&app.get("/coupons/all", Some(&admin)).await), ["OK-1"]);
}

async fn only_admins_manage_coupons(app: TestApp) {
    let admin = app.admin().await;
    let customer = user_with_role(&app, &admin, "c@shop.test", "customer").await;
    for token in [None, Some(customer.as_str())] {
        let expected =
            if token.is_some() { StatusCode::FORBIDDEN } else { StatusCode::UNAUTHORIZED };
        assert_eq!(
            app.post("/coupons/create", token, coupon("MINE-1", json!({}))).await.status,
            expected
        );
        assert_eq!(app.get("/coupons/all", token).await.status, expected);
        assert_eq!(app.delete("/coupons/delete/MINE-1", token).await.status, expected);
    }
    assert_eq!(app.get("/coupons/my_coupons", None).await.status, StatusCode::UNAUTHORIZED);
}

async fn my_coupons_are_those_my_role_may_use_now(app: TestApp) {
    let admin = app.admin().await;
    for (code, extra) in [
        ("FOR-ALL", json!({ "eligible_roles": ["customer", "prime_customer"] })),
        ("PRIME-ONLY", json!({ "eligible_roles": ["prime_customer"] })),
        ("EXPIRED", json!({ "expiry": "2020-01-01T00:00:00Z" })),
        ("NOT-YET", json!({ "starts_at": "2098-01-01T00:00:00Z" })),
        ("CUSTOMERS", json!({})),
    ] {
        let reply = app.post("/coupons/create", Some(&admin), coupon(code, extra)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{code}: {:?}", reply.json);
    }
    let customer = user_with_role(&app, &admin, "c@shop.test", "customer").await;
    let prime = user_with_role(&app, &admin, "p@shop.test", "prime_customer").await;
    let mine = app.get("/coupons/my_coupons", Some(&customer)).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(codes(&mine), ["CUSTOMERS", "FOR-ALL"]);
    assert_eq!(
        codes(&app.get("/coupons/my_coupons", Some(&prime)).await),
        ["FOR-ALL", "PRIME-ONLY"]
    );
}

both_stores!(
    an_admin_creates_updates_lists_and_deletes_coupons,
    invalid_coupons_are_400_naming_the_field,
    only_admins_manage_coupons,
    my_coupons_are_those_my_role_may_use_now,
);
