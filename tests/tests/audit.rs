//! The admin audit trail: every admin write leaves exactly one entry, written atomically with
//! the change (a refused write leaves none; a write whose entry cannot be stored changes
//! nothing), listed newest first to admins only, on both stores; the operator's bootstrap of
//! accounts too.

use axum::http::StatusCode;
use e2e::{TestApp, both_stores};
use serde_json::{Value, json};
use shared::domain::{AuditAction, AuditEntry, Coupon, CouponInput, Timestamp, UserId};

async fn entries(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    let reply = app.get(&format!("/admin/audit{query}"), Some(admin)).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    reply.json["entries"].as_array().cloned().unwrap_or_default()
}

fn actions(entries: &[Value]) -> Vec<&str> {
    entries.iter().map(|e| e["action"].as_str().unwrap_or("")).collect()
}

async fn every_admin_write_records_one_entry_newest_first(app: TestApp) {
    let admin = app.admin().await;
    let email = shared::domain::Email::parse(e2e::ADMIN.0).expect("as set up");
    let admin_id = app
        .store
        .find_user_by_email(&email)
        .await
        .expect("as set up")
        .map(|r| r.user.id.to_string());
    assert!(admin_id.is_some());

    let product = json!({ "name": "Lamp", "category": "home", "variants": [{ "sku": "AUD-1", "stock": 3, "price": "10.00" }] });
    let created = app.post("/products/create_product", Some(&admin), product).await;
    let product_id = created.json["product"]["id"].as_str().expect("as set up").to_owned();
    app.put(
        &format!("/products/update_product/{product_id}"),
        Some(&admin),
        json!({ "name": "Lamp 2" }),
    )
    .await;
    let coupon =
        json!({ "code": "AUDIT10", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z" });
    assert_eq!(app.post("/coupons/create", Some(&admin), coupon).await.status, StatusCode::CREATED);
    app.put("/coupons/update/AUDIT10", Some(&admin), json!({ "discount_percent": 15 })).await;
    app.delete("/coupons/delete/AUDIT10", Some(&admin)).await;
    let registered = app
        .post("/auth/register", Some(&admin), json!({ "email": "vip@example.com", "password": "a-good-password", "role": "prime_customer" }))
        .await;
    assert_eq!(registered.status, StatusCode::CREATED, "{:?}", registered.json);
    // A customer registering themselves is not an admin write.
    app.register("self@example.com", "a-good-password").await;
    let placed = e2e::place_order(&app, "buyer@example.com", "Mug", "AUD-2", "4.00", 1).await;
    let order = placed.order["id"].as_str().expect("as set up").to_owned();
    assert_eq!(app.set_status(&admin, &order, "Shipped").await.status, StatusCode::OK);
    let hook = app
        .post(
            "/admin/webhooks",
            Some(&admin),
            json!({ "url": "https://93.184.216.34/hook", "events": ["order.placed"] }),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{:?}", hook.json);
    let hook_id = hook.json["webhook"]["id"].as_str().expect("as set up").to_owned();
    assert_eq!(
        app.delete(&format!("/admin/webhooks/{hook_id}"), Some(&admin)).await.status,
        StatusCode::OK
    );
    app.delete(&format!("/products/delete_product/{product_id}"), Some(&admin)).await;

    let all = entries(&app, &admin, "").await;
    // place_order created one more product (its own admin write).
    assert_eq!(
        actions(&all),
        [
            "product.deleted",
            "webhook.deleted",
            "webhook.created",
            "order.status_changed",
            "product.created",
            "account.registered",
            "coupon.deleted",
            "coupon.updated",
            "coupon.created",
            "product.updated",
            "product.created",
            "account.registered",
        ]
    );
    for entry in &all {
        assert_eq!(entry["actor_id"].as_str().map(str::to_owned), admin_id, "{entry}");
        assert_eq!(
            entry["target_type"].as_str(),
            entry["action"].as_str().and_then(|a| a.split('.').next())
        );
        assert!(entry["at"].as_str().is_some_and(|at| at.ends_with('Z')));
    }
    let status = &all[3];
    assert_eq!(
        (status["target_id"].as_str(), &status["details"]),
        (Some(order.as_str()), &json!({ "from": "Pending", "to": "Shipped" }))
    );
    assert_eq!(all[1]["target_id"], hook_id.as_str());
    assert_eq!(all[6]["target_id"], "AUDIT10");
    assert_eq!(all[7]["details"]["discount_percent"], 15);
    assert_eq!(all[5]["details"], json!({ "role": "prime_customer" }));
    assert_eq!(all[10]["details"]["skus"], json!(["AUD-1"]));
    assert!(!all[2].to_string().contains("whsec_"), "no secret in the trail");
    // The oldest: the admin itself, created by the operator (the test's `ensure_admin`).
    assert_eq!(all[11]["target_id"].as_str().map(str::to_owned), admin_id);
    assert_eq!(all[11]["details"], json!({ "role": "admin", "by": "operator" }));

    // Filter by action, and page with the cursor.
    let created = entries(&app, &admin, "?action=product.created").await;
    assert_eq!(actions(&created), ["product.created", "product.created"]);
    let first = app.get("/admin/audit?limit=4", Some(&admin)).await;
    let cursor = first.json["next_cursor"].as_str().expect("more pages").to_owned();
    let second = entries(&app, &admin, &format!("?limit=4&cursor={cursor}")).await;
    assert_eq!(second, all[4..8].to_vec());
    let last = app.get("/admin/audit?limit=20", Some(&admin)).await;
    assert_eq!(last.json["next_cursor"], Value::Null);
}

async fn refused_writes_leave_no_entry_and_only_admins_read_the_trail(app: TestApp) {
    let admin = app.admin().await;
    let coupon =
        json!({ "code": "ONCE", "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z" });
    app.post("/coupons/create", Some(&admin), coupon.clone()).await;
    assert_eq!(
        app.post("/coupons/create", Some(&admin), coupon).await.status,
        StatusCode::CONFLICT
    );
    let product = json!({ "name": "A", "category": "c", "variants": [{ "sku": "TAKEN-1", "stock": 1, "price": "1.00" }] });
    app.post("/products/create_product", Some(&admin), product.clone()).await;
    assert_eq!(
        app.post("/products/create_product", Some(&admin), product).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.delete("/coupons/delete/NOPE", Some(&admin)).await.status,
        StatusCode::NOT_FOUND
    );
    let placed = e2e::place_order(&app, "b@example.com", "B", "TAKEN-2", "2.00", 1).await;
    let order = placed.order["id"].as_str().expect("as set up");
    assert_eq!(app.set_status(&admin, order, "Delivered").await.status, StatusCode::CONFLICT);
    let hook = json!({ "url": "http://93.184.216.34/", "events": ["order.placed"] });
    app.post("/admin/webhooks", Some(&admin), hook).await.assert_invalid("url");
    assert_eq!(
        actions(&entries(&app, &admin, "").await),
        ["product.created", "product.created", "coupon.created", "account.registered"]
    );

    assert_eq!(app.get("/admin/audit", None).await.status, StatusCode::UNAUTHORIZED);
    let reply = app.get("/admin/audit", Some(&placed.buyer)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    app.get("/admin/audit?limit=0", Some(&admin)).await.assert_invalid("limit");
    app.get("/admin/audit?limit=abc", Some(&admin)).await.assert_invalid("limit");
    app.get("/admin/audit?action=product.exploded", Some(&admin)).await.assert_invalid("action");
    app.get("/admin/audit?cursor=zzz", Some(&admin)).await.assert_invalid("cursor");
}

/// The other direction of atomicity: a write whose entry cannot be stored (its id is taken)
/// does not happen either.
async fn a_write_whose_entry_fails_does_not_happen(app: TestApp) {
    let store = app.store.as_ref();
    let entry = AuditEntry::new(
        UserId::new(),
        AuditAction::CouponCreated,
        "FIRST",
        json!({}),
        Timestamp::now(),
    );
    let coupon = |code: &str| {
        let input: CouponInput = serde_json::from_value(
            json!({ "code": code, "discount_percent": 5, "expiry": "2999-01-01T00:00:00Z" }),
        )
        .expect("as set up");
        Coupon::parse_new(input).expect("as set up")
    };
    store.create_coupon(&coupon("FIRST"), &entry).await.expect("created with its entry");
    assert!(store.create_coupon(&coupon("SECOND"), &entry).await.is_err());
    assert!(
        store.find_coupon(&coupon("SECOND").code).await.expect("as set up").is_none(),
        "no change without its entry"
    );
    let mut edited = coupon("FIRST");
    edited.discount_percent = 50;
    assert!(store.update_coupon(&edited, &entry).await.is_err());
    assert_eq!(
        store
            .find_coupon(&edited.code)
            .await
            .expect("as set up")
            .expect("as set up")
            .discount_percent,
        5
    );
    assert!(store.delete_coupon(&edited.code, &entry).await.is_err());
    assert!(store.find_coupon(&edited.code).await.expect("as set up").is_some());
    let page = store
        .audit_entries(&shared::store::AuditQuery { action: None, after: None, limit: 10 })
        .await
        .expect("as set up");
    assert_eq!(page.entries, vec![entry]);
}

/// The operator's bootstrap (`create-admin`, `SHOP_ADMIN_*`, `--demo`) has no admin acting:
/// its creations and role changes are recorded with the account as its own actor.
async fn the_operators_creations_and_promotions_are_in_the_trail(app: TestApp) {
    let admin = app.admin().await;
    let store = app.store.as_ref();
    let registered = app.register("promoted@shop.test", "a-good-password").await;
    let promoted = registered.json["user"]["id"].as_str().expect("as set up").to_owned();
    let (customer, _) = app.login("promoted@shop.test", "a-good-password").await;
    assert_eq!(app.get("/admin/audit", Some(&customer)).await.status, StatusCode::FORBIDDEN);
    let ensure = |email, password| shared::auth::ensure_admin(store, email, password);
    assert_eq!(ensure("promoted@shop.test", "a-good-password").await.ok(), Some("role changed"));
    assert_eq!(ensure("promoted@shop.test", "a-good-password").await.ok(), Some("exists"));
    app.register("victim@shop.test", "a-good-password").await;
    assert!(ensure("victim@shop.test", "not-its-password").await.is_err(), "not promoted");

    let all = entries(&app, &admin, "").await;
    assert_eq!(actions(&all), ["account.role_changed", "account.registered"]);
    assert_eq!(
        (all[0]["actor_id"].as_str(), all[0]["target_id"].as_str()),
        (Some(&*promoted), Some(&*promoted))
    );
    assert_eq!(all[0]["details"], json!({ "from": "customer", "to": "admin", "by": "operator" }));
    assert_eq!(all[1]["details"], json!({ "role": "admin", "by": "operator" }));
    // The promotion reached the live session: it reads the trail now.
    let now = entries(&app, &customer, "?action=account.role_changed").await;
    assert_eq!(now.len(), 1);
}

both_stores!(
    the_operators_creations_and_promotions_are_in_the_trail,
    every_admin_write_records_one_entry_newest_first,
    refused_writes_leave_no_entry_and_only_admins_read_the_trail,
    a_write_whose_entry_fails_does_not_happen,
);
