//! Shipping addresses: the address book (owner only, validation, limit, default) and the
//! snapshot an order keeps, on both stores.

use axum::http::StatusCode;
use e2e::{TestApp, both_stores};
use serde_json::{Value, json};

fn home() -> Value {
    json!({
        "full_name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
        "postal_code": "SW1Y 4JH", "country": "gb", "phone": "+44 20 7946 0000"
    })
}

async fn customer(app: &TestApp, email: &str) -> String {
    app.register(email, "a-good-password").await;
    app.login(email, "a-good-password").await.0
}

async fn the_book_is_validated_limited_and_keeps_one_default(app: TestApp) {
    let ada = customer(&app, "ada@example.com").await;
    assert_eq!(app.get("/account/addresses", None).await.status, StatusCode::UNAUTHORIZED);
    let empty = app.get("/account/addresses", Some(&ada)).await;
    assert_eq!((empty.status, empty.json["addresses"].clone()), (StatusCode::OK, json!([])));

    let first = app.post("/account/addresses", Some(&ada), home()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.json);
    assert_eq!(first.json["message"], "Address added");
    let address = &first.json["address"];
    assert_eq!(
        (address["country"].as_str(), address["is_default"].as_bool()),
        (Some("GB"), Some(true))
    );
    assert_eq!(address["line2"], Value::Null);

    let bad = app
        .post(
            "/account/addresses",
            Some(&ada),
            json!({ "full_name": "", "line1": "x".repeat(101), "city": "c", "postal_code": "12345678901234567", "country": "GBR" }),
        )
        .await;
    for field in ["full_name", "line1", "postal_code", "country"] {
        bad.assert_invalid(field);
    }
    app.post("/account/addresses", Some(&ada), json!({ "full_name": "A" }))
        .await
        .assert_invalid("city");
    let wrong_type = app.post("/account/addresses", Some(&ada), json!({ "full_name": 5 })).await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST, "{:?}", wrong_type.json);

    let second = app
        .post("/account/addresses", Some(&ada), json!({ "is_default": true, "full_name": "Ada", "line1": "1 Rue", "city": "Paris", "postal_code": "75001", "country": "FR" }))
        .await;
    assert_eq!(second.json["address"]["is_default"], true);
    let listed = app.get("/account/addresses", Some(&ada)).await.json["addresses"].clone();
    let defaults: Vec<bool> = listed
        .as_array()
        .expect("as set up")
        .iter()
        .map(|a| a["is_default"].as_bool().expect("as set up"))
        .collect();
    assert_eq!(defaults, [false, true], "the default moved");

    for _ in 2..10 {
        let added = app.post("/account/addresses", Some(&ada), home()).await;
        assert_eq!(added.status, StatusCode::CREATED);
    }
    app.post("/account/addresses", Some(&ada), home()).await.assert_invalid("addresses");
    let listed = app.get("/account/addresses", Some(&ada)).await;
    assert_eq!(listed.json["addresses"].as_array().map(Vec::len), Some(10));
}

async fn only_the_owner_sees_or_changes_an_address(app: TestApp) {
    let ada = customer(&app, "ada2@example.com").await;
    let eve = customer(&app, "eve@example.com").await;
    let added = app.post("/account/addresses", Some(&ada), home()).await;
    let id = added.json["address"]["id"].as_str().expect("as set up").to_owned();
    let path = format!("/account/addresses/{id}");

    assert_eq!(app.get("/account/addresses", Some(&eve)).await.json["addresses"], json!([]));
    let changed = app.put(&path, Some(&eve), json!({ "city": "Elsewhere" })).await;
    assert_eq!(changed.outcome(), (StatusCode::NOT_FOUND, "address_not_found"));
    assert_eq!(
        app.delete(&path, Some(&eve)).await.outcome(),
        (StatusCode::NOT_FOUND, "address_not_found")
    );
    let bogus = app.put("/account/addresses/not-an-id", Some(&ada), json!({})).await;
    assert_eq!(bogus.outcome(), (StatusCode::NOT_FOUND, "address_not_found"));

    let updated = app.put(&path, Some(&ada), json!({ "city": "Bath", "phone": null })).await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.json);
    assert_eq!(updated.json["address"]["city"], "Bath");
    assert_eq!(updated.json["address"]["phone"], Value::Null);
    assert_eq!(updated.json["address"]["line1"], "12 St James's Square");
    app.put(&path, Some(&ada), json!({ "country": "Britain" })).await.assert_invalid("country");

    assert_eq!(app.delete(&path, Some(&ada)).await.status, StatusCode::OK);
    assert_eq!(app.get("/account/addresses", Some(&ada)).await.json["addresses"], json!([]));
    assert_eq!(app.delete(&path, Some(&ada)).await.status, StatusCode::NOT_FOUND);
}

/// A product with stock, in the cart of a new customer; returns the customer's token.
async fn cart_ready(app: &TestApp, admin: &str, email: &str, sku: &str) -> String {
    let buyer = customer(app, email).await;
    let body = json!({ "name": "Mug", "category": "c", "variants": [{ "sku": sku, "stock": 9, "price": "5.00" }] });
    let product = app.post("/products/create_product", Some(admin), body).await;
    let id = product.json["product"]["id"].as_str().expect("as set up").to_owned();
    fill(app, &buyer, &id).await;
    buyer
}

async fn fill(app: &TestApp, buyer: &str, product: &str) {
    let added = app
        .post("/cart/add_item", Some(buyer), json!({ "product_id": product, "quantity": 1 }))
        .await;
    assert_eq!(added.status, StatusCode::OK, "{:?}", added.json);
}

async fn orders_keep_a_snapshot_of_the_chosen_or_default_address(app: TestApp) {
    let admin = app.admin().await;
    // No address: the original flow, shipping_address null.
    let plain = cart_ready(&app, &admin, "plain@example.com", "SNAP-0").await;
    let placed = app.post("/orders/create", Some(&plain), json!({})).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    assert_eq!(placed.json["order"]["shipping_address"], Value::Null);

    let buyer = cart_ready(&app, &admin, "snap@example.com", "SNAP-1").await;
    let home_address =
        app.post("/account/addresses", Some(&buyer), home()).await.json["address"].clone();
    let work = app
        .post("/account/addresses", Some(&buyer), json!({ "full_name": "Ada at work", "line1": "2 Office Rd", "city": "Leeds", "postal_code": "LS1 1AA", "country": "GB" }))
        .await
        .json["address"]
        .clone();

    // Someone else's address, or an unknown one: 404 and nothing placed (the cart stays).
    let other = customer(&app, "other@example.com").await;
    let theirs =
        app.post("/account/addresses", Some(&other), home()).await.json["address"]["id"].clone();
    for id in [theirs.clone(), json!(shared::domain::AddressId::new().to_string()), json!("nope")] {
        let refused =
            app.post("/orders/create", Some(&buyer), json!({ "shipping_address_id": id })).await;
        assert_eq!(refused.outcome(), (StatusCode::NOT_FOUND, "address_not_found"), "{id}");
    }
    let mine = app.get("/orders", Some(&buyer)).await;
    assert_eq!(mine.json["orders"], json!([]), "nothing was placed");

    // Default address when none is chosen.
    let by_default = app.post("/orders/create", Some(&buyer), json!({})).await;
    assert_eq!(by_default.status, StatusCode::CREATED, "{:?}", by_default.json);
    let snapshot = &by_default.json["order"]["shipping_address"];
    assert_eq!(snapshot["full_name"], home_address["full_name"]);
    assert_eq!(snapshot["country"], "GB");
    assert!(snapshot.get("id").is_none() && snapshot.get("is_default").is_none());

    // The chosen one otherwise.
    let product =
        by_default.json["order"]["items"][0]["product_id"].as_str().expect("as set up").to_owned();
    fill(&app, &buyer, &product).await;
    let chosen = app
        .post("/orders/create", Some(&buyer), json!({ "shipping_address_id": work["id"] }))
        .await;
    assert_eq!(chosen.json["order"]["shipping_address"]["city"], "Leeds");

    // The order e-mail prints the address it ships to.
    let placed_id = by_default.json["order"]["id"].as_str().unwrap_or_default().to_owned();
    let placed_event =
        app.events.recorded().into_iter().find(|e| e.order_id.to_string() == placed_id);
    let folder = std::env::temp_dir().join(format!("shop-address-mail-{}", ulid::Ulid::new()));
    let mailer = shared::notify::mail::EmlFolder::new(&folder);
    let worker = shared::notify::worker::EmailWorker {
        store: app.store.as_ref(),
        mailer: &mailer,
        sender: "orders@shop.test",
        branding: &shared::domain::Branding::default(),
    };
    worker.deliver_event(&placed_event.expect("the placed event")).await.expect("sent");
    let file = std::fs::read_dir(&folder).expect("outbox").next().expect("an e-mail");
    let raw = std::fs::read(file.expect("entry").path()).expect("readable");
    let message = mail_parser::MessageParser::default().parse(&raw).expect("MIME");
    let text = message.body_text(0).expect("text part").replace("\r\n", "\n");
    assert!(
        text.contains("Ship to:\nAda Lovelace\n12 St James's Square\nSW1Y 4JH London\nGB"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(folder);

    // Editing or deleting the address never changes an order.
    let home_path =
        format!("/account/addresses/{}", home_address["id"].as_str().expect("as set up"));
    app.put(&home_path, Some(&buyer), json!({ "city": "Moved" })).await;
    app.delete(
        &format!("/account/addresses/{}", work["id"].as_str().expect("as set up")),
        Some(&buyer),
    )
    .await;
    for (order, city) in [(&by_default, "London"), (&chosen, "Leeds")] {
        let id = order.json["order"]["id"].as_str().expect("as set up");
        let read = app.get(&format!("/orders/{id}"), Some(&buyer)).await;
        assert_eq!(read.json["order"]["shipping_address"]["city"], city);
    }
}

both_stores!(
    the_book_is_validated_limited_and_keeps_one_default,
    only_the_owner_sees_or_changes_an_address,
    orders_keep_a_snapshot_of_the_chosen_or_default_address,
);
