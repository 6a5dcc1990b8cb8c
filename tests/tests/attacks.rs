//! What an attacker sends, on both stores: a burst of password guesses against one account,
//! text that would forge lines of an order e-mail, webhook URLs that reach internal addresses
//! through IPv6 translation ranges; and what an admin's change leaves in the audit trail.

use axum::http::StatusCode;
use e2e::{TestApp, both_stores};
use serde_json::{Value, json};

/// 40 simultaneous wrong logins for one account: at most 10 are checked (401), every other
/// one is refused with the same 429; then the right password is refused with that same 429
/// (no check reveals it is right), and another account logs in meanwhile.
async fn a_burst_of_guesses_gets_at_most_ten_checks(app: TestApp) {
    let (victim, other) = ("victim@shop.test", "bystander@shop.test");
    app.register(victim, "the-right-password").await;
    app.register(other, "another-password").await;
    let mut burst = tokio::task::JoinSet::new();
    for n in 0..40 {
        let app = app.clone();
        burst.spawn(async move {
            let body = json!({ "email": victim, "password": format!("guess-{n}") });
            let reply = app.post("/auth/login", None, body).await;
            (n, reply.status, reply.json, reply.headers.get("retry-after").cloned())
        });
    }
    let replies = burst.join_all().await;
    let status = |wanted: StatusCode| replies.iter().filter(|r| r.1 == wanted).count();
    let (checked, refused) =
        (status(StatusCode::UNAUTHORIZED), status(StatusCode::TOO_MANY_REQUESTS));
    assert_eq!(checked + refused, 40, "{replies:?}");
    assert!(checked <= 10, "{checked} attempts were checked");
    assert!(refused >= 30, "{refused} refused");
    let refusal = replies.iter().find(|r| r.1 == StatusCode::TOO_MANY_REQUESTS).expect("a 429");
    assert_eq!(refusal.2["error"], "too_many_attempts");
    for (n, status, body, retry_after) in &replies {
        if *status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body, &refusal.2, "attempt {n}");
            assert!(retry_after.is_some(), "attempt {n} has Retry-After");
        }
    }
    // The right password now: the same refusal, not a check.
    let body = json!({ "email": victim, "password": "the-right-password" });
    let right = app.post("/auth/login", None, body).await;
    assert_eq!((right.status, &right.json), (StatusCode::TOO_MANY_REQUESTS, &refusal.2));
    assert!(right.headers.get("retry-after").is_some());
    app.login(other, "another-password").await;
}

/// Control characters, line breaks and line separators in any text an e-mail prints: 400
/// naming the field, nothing stored.
async fn text_that_would_forge_e_mail_lines_is_refused(app: TestApp) {
    app.register("forger@shop.test", "a-good-password").await;
    let token = app.login("forger@shop.test", "a-good-password").await.0;
    let address = json!({
        "full_name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
        "postal_code": "SW1Y 4JH", "country": "gb"
    });
    let forged = [
        ("full_name", "SECURITY ALERT\n\nTotal: 0.00"),
        ("line1", "1 Main St\r\nTo pay: 0.00"),
        ("city", "Paris\u{0}"),
        ("line2", "Flat 1\u{2028}Total: 0.00"),
        ("region", "North\u{2029}"),
        ("phone", "+33 1\t23"),
        ("postal_code", "\u{202E}100"),
    ];
    for (field, value) in forged {
        let mut body = address.clone();
        body[field] = Value::from(value);
        app.post("/account/addresses", Some(&token), body).await.assert_invalid(field);
    }
    let book = app.get("/account/addresses", Some(&token)).await;
    assert_eq!(book.json["addresses"], json!([]), "nothing stored");

    let admin = app.admin().await;
    let product = |name: &str| json!({ "name": name, "category": "c", "variants": [{ "sku": "FORGE-1", "stock": 1, "price": "1.00" }] });
    let reply =
        app.post("/products/create_product", Some(&admin), product("Mug\nTotal: 0.00")).await;
    reply.assert_invalid("name");
    let mut body = product("Mug");
    body["category"] = Value::from("kitchen\r\n");
    app.post("/products/create_product", Some(&admin), body).await.assert_invalid("category");
    // A description may span lines, but holds no other control character.
    let mut body = product("Mug");
    body["description"] = Value::from("Line one\nLine two");
    let created = app.post("/products/create_product", Some(&admin), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    let id = created.json["product"]["id"].as_str().expect("id").to_owned();
    let path = format!("/products/update_product/{id}");
    let reply = app.put(&path, Some(&admin), json!({ "description": "bell\u{7}" })).await;
    reply.assert_invalid("description");
    let reply = app.put(&path, Some(&admin), json!({ "name": "Mug\u{2028}x" })).await;
    reply.assert_invalid("name");
    let coupon =
        json!({ "code": "SAVE\n10", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z" });
    app.post("/coupons/create", Some(&admin), coupon).await.assert_invalid("code");
}

/// Webhook URLs whose IPv6 address carries an internal IPv4 one (NAT64, 6to4, Teredo,
/// IPv4-translated) or discards (100::/64): refused like the internal addresses themselves.
async fn webhooks_to_ipv6_translation_ranges_are_refused(app: TestApp) {
    let admin = app.admin().await;
    for host in [
        "[64:ff9b::a9fe:a9fe]",
        "[64:ff9b:1::a9fe:a9fe]",
        "[2002:a9fe:a9fe::1]",
        "[::ffff:0:a9fe:a9fe]",
        "[2001:0:4136:e378:8000:63bf:5601:5601]",
        "[100::1]",
        "[::ffff:0:7f00:1]",
    ] {
        let body = json!({ "url": format!("http://{host}/hook"), "events": ["order.placed"] });
        app.post("/admin/webhooks", Some(&admin), body).await.assert_invalid("url");
    }
    let listed = app.get("/admin/webhooks", Some(&admin)).await;
    assert_eq!(listed.json["webhooks"], json!([]));
}

async fn audit(app: &TestApp, admin: &str, action: &str) -> Value {
    let reply = app.get(&format!("/admin/audit?action={action}"), Some(admin)).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    reply.json["entries"][0].clone()
}

/// `product.updated` and `coupon.updated` say, for each changed field, the value before and
/// after; variants added and removed are listed with their price and stock.
async fn updates_record_what_changed_from_and_to(app: TestApp) {
    let admin = app.admin().await;
    let product = json!({ "name": "Lamp", "category": "home", "variants": [
        { "sku": "DIFF-1", "stock": 3, "price": "10.00" },
        { "sku": "DIFF-2", "stock": 1, "price": "20.00" }
    ] });
    let created = app.post("/products/create_product", Some(&admin), product).await;
    let id = created.json["product"]["id"].as_str().expect("id").to_owned();
    let change = json!({ "category": "garden", "variants": [
        { "sku": "DIFF-1", "stock": 7, "price": "0.01" },
        { "sku": "DIFF-3", "stock": 2, "price": "5.00" }
    ] });
    let reply = app.put(&format!("/products/update_product/{id}"), Some(&admin), change).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    let entry = audit(&app, &admin, "product.updated").await;
    assert_eq!(
        entry["details"]["changes"],
        json!({
            "category": { "from": "home", "to": "garden" },
            "variants": {
                "added": [{ "sku": "DIFF-3", "stock": 2, "price": "5.00" }],
                "removed": [{ "sku": "DIFF-2", "stock": 1, "price": "20.00" }],
                "changed": { "DIFF-1": {
                    "price": { "from": "10.00", "to": "0.01" },
                    "stock": { "from": 3, "to": 7 }
                } }
            }
        })
    );

    let coupon =
        json!({ "code": "DIFF10", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z" });
    assert_eq!(app.post("/coupons/create", Some(&admin), coupon).await.status, StatusCode::CREATED);
    let change = json!({ "discount_percent": 90, "max_uses": 5 });
    let reply = app.put("/coupons/update/DIFF10", Some(&admin), change).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    let entry = audit(&app, &admin, "coupon.updated").await;
    assert_eq!(
        entry["details"]["changes"],
        json!({
            "discount_percent": { "from": 10, "to": 90 },
            "max_uses": { "from": null, "to": 5 }
        })
    );
}

both_stores!(
    a_burst_of_guesses_gets_at_most_ten_checks,
    text_that_would_forge_e_mail_lines_is_refused,
    webhooks_to_ipv6_translation_ranges_are_refused,
    updates_record_what_changed_from_and_to,
);
