//! The cart end to end, on both stores: prices from the catalog, stock and size limits.

use axum::http::StatusCode;
use e2e::{Reply, TestApp, both_stores};
use serde_json::{Value, json};

async fn shop(app: &TestApp) -> (String, String, String) {
    let admin = app.admin().await;
    let body = json!({ "name": "Mug", "category": "kitchen", "variants": [
        { "sku": "MUG-S", "stock": 5, "price": "8.00" }, { "sku": "MUG-L", "stock": 2, "price": "11.50" } ] });
    let reply = app.post("/products/create_product", Some(&admin), body).await;
    let product = reply.json["product"]["id"].as_str().expect("id").to_owned();
    app.register("buyer@shop.test", "buyer-password").await;
    let (customer, _) = app.login("buyer@shop.test", "buyer-password").await;
    (admin, customer, product)
}

async fn add(app: &TestApp, token: &str, body: Value) -> Reply {
    app.post("/cart/add_item", Some(token), body).await
}

async fn set_quantity(app: &TestApp, token: &str, body: Value) -> Reply {
    app.post("/cart/update_item_quantity", Some(token), body).await
}

async fn remove(app: &TestApp, token: &str, body: Value) -> Reply {
    app.post("/cart/remove_item", Some(token), body).await
}

async fn an_empty_cart_says_so(app: TestApp) {
    let (_, customer, _) = shop(&app).await;
    let reply = app.get("/cart/details", Some(&customer)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        (reply.json["message"].as_str(), &reply.json["items"], reply.json["subtotal"].as_str()),
        (Some("Cart is empty"), &json!([]), Some("0.00"))
    );
    assert_eq!(app.get("/cart/details", None).await.status, StatusCode::UNAUTHORIZED);
}

async fn adding_sums_quantities_and_prices_come_from_the_catalog(app: TestApp) {
    let (admin, customer, product) = shop(&app).await;
    let first = add(&app, &customer, json!({ "product_id": product })).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.json);
    assert_eq!(first.json["message"], "Item added to cart");
    assert_eq!(first.json["cart"]["items"][0]["sku"], "MUG-S", "the first variant by default");
    // A client price is ignored.
    let second = add(
        &app,
        &customer,
        json!({ "product_id": product, "sku": "MUG-S", "quantity": 2, "price": "0.01" }),
    )
    .await;
    let line = &second.json["cart"]["items"][0];
    assert_eq!(
        (line["quantity"].as_u64(), line["price"].as_str(), line["line_total"].as_str()),
        (Some(3), Some("8.00"), Some("24.00"))
    );
    add(&app, &customer, json!({ "product_id": product, "sku": "MUG-L" })).await;

    // A reprice shows at once, flagged.
    let repriced = json!({ "variants": [
        { "sku": "MUG-S", "stock": 5, "price": "9.00" },
        { "sku": "MUG-L", "stock": 2, "price": "11.50" },
    ] });
    let path = format!("/products/update_product/{product}");
    let reply = app.put(&path, Some(&admin), repriced).await;
    assert_eq!(reply.status, StatusCode::OK);
    let cart = app.get("/cart/details", Some(&customer)).await;
    assert_eq!(cart.json["subtotal"], "38.50");
    let statuses: Vec<_> = cart.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| (i["sku"].as_str().map(str::to_owned), i["status"].as_str().map(str::to_owned)))
        .collect();
    assert!(
        statuses.contains(&(Some("MUG-S".into()), Some("price_changed".into()))),
        "{statuses:?}"
    );
    assert!(statuses.contains(&(Some("MUG-L".into()), Some("available".into()))), "{statuses:?}");
    assert!(cart.json.get("message").is_none());
}

async fn quantities_are_bounded_by_stock_and_by_99(app: TestApp) {
    let (_, customer, product) = shop(&app).await;
    let over =
        add(&app, &customer, json!({ "product_id": product, "sku": "MUG-L", "quantity": 3 })).await;
    assert_eq!(over.outcome(), (StatusCode::CONFLICT, "insufficient_stock"));
    assert!(over.json["message"].as_str().is_some_and(|m| m.contains('2')), "{:?}", over.json);
    for quantity in [json!(0), json!(100), json!(-1)] {
        let reply =
            add(&app, &customer, json!({ "product_id": product, "quantity": quantity })).await;
        assert_eq!(reply.outcome(), (StatusCode::BAD_REQUEST, "validation_error"), "{quantity}");
    }
    let reply = add(&app, &customer, json!({ "product_id": product, "quantity": "2" })).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/cart/details", Some(&customer)).await.json["items"], json!([]));
}

async fn unknown_products_and_skus_are_404(app: TestApp) {
    let (_, customer, product) = shop(&app).await;
    let unknown = add(&app, &customer, json!({ "product_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV" })).await;
    assert_eq!(unknown.outcome(), (StatusCode::NOT_FOUND, "product_not_found"));
    let malformed = add(&app, &customer, json!({ "product_id": "nope" })).await;
    assert_eq!(malformed.status, StatusCode::NOT_FOUND);
    let sku = add(&app, &customer, json!({ "product_id": product, "sku": "MUG-XL" })).await;
    assert_eq!(sku.outcome(), (StatusCode::NOT_FOUND, "sku_not_found"));
}

async fn update_and_remove_lines(app: TestApp) {
    let (_, customer, product) = shop(&app).await;
    add(&app, &customer, json!({ "product_id": product, "sku": "MUG-S" })).await;
    let updated =
        set_quantity(&app, &customer, json!({ "product_id": product, "quantity": 4 })).await;
    assert_eq!(
        (updated.status, updated.json["message"].as_str()),
        (StatusCode::OK, Some("Cart updated successfully"))
    );
    assert_eq!(updated.json["cart"]["items"][0]["quantity"], 4);
    let too_many =
        set_quantity(&app, &customer, json!({ "product_id": product, "quantity": 6 })).await;
    assert_eq!(too_many.status, StatusCode::CONFLICT);

    add(&app, &customer, json!({ "product_id": product, "sku": "MUG-L" })).await;
    let ambiguous = remove(&app, &customer, json!({ "product_id": product })).await;
    assert!(
        ambiguous.status == StatusCode::BAD_REQUEST && ambiguous.json["errors"]["sku"].is_array(),
        "{:?}",
        ambiguous.json
    );
    let removed = remove(&app, &customer, json!({ "product_id": product, "sku": "MUG-L" })).await;
    assert_eq!(
        (removed.status, removed.json["message"].as_str()),
        (StatusCode::OK, Some("Item removed from cart"))
    );
    assert_eq!(removed.json["cart"]["items"].as_array().map(Vec::len), Some(1));
    let zero = set_quantity(&app, &customer, json!({ "product_id": product, "quantity": 0 })).await;
    assert_eq!(zero.json["cart"]["items"], json!([]));
    let absent = remove(&app, &customer, json!({ "product_id": product, "sku": "MUG-S" })).await;
    assert_eq!(absent.outcome(), (StatusCode::NOT_FOUND, "line_not_found"));
}

async fn a_deleted_product_shows_as_unavailable_and_leaves_the_subtotal(app: TestApp) {
    let (admin, customer, product) = shop(&app).await;
    add(&app, &customer, json!({ "product_id": product, "quantity": 2 })).await;
    let path = format!("/products/delete_product/{product}");
    let deleted = app.delete(&path, Some(&admin)).await;
    assert_eq!(deleted.status, StatusCode::OK);
    let cart = app.get("/cart/details", Some(&customer)).await;
    assert_eq!(cart.status, StatusCode::OK);
    assert_eq!(
        (cart.json["items"][0]["status"].as_str(), cart.json["subtotal"].as_str()),
        (Some("unavailable"), Some("0.00"))
    );
    assert!(cart.json["items"][0]["price"].is_null());
    let removed = remove(&app, &customer, json!({ "product_id": product })).await;
    assert_eq!(removed.status, StatusCode::OK, "a gone product's line can still be removed");
}

async fn carts_are_private(app: TestApp) {
    let (_, customer, product) = shop(&app).await;
    add(&app, &customer, json!({ "product_id": product })).await;
    app.register("other@shop.test", "other-password").await;
    let (other, _) = app.login("other@shop.test", "other-password").await;
    assert_eq!(app.get("/cart/details", Some(&other)).await.json["items"], json!([]));
    let reply = app.post("/cart/remove_item", Some(&other), json!({ "product_id": product })).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/cart/details", Some(&customer)).await.json["items"].as_array().map(Vec::len),
        Some(1)
    );
}

async fn a_cart_holds_at_most_50_lines(app: TestApp) {
    let (admin, customer, product) = shop(&app).await;
    let variants: Vec<_> =
        (0..50).map(|i| json!({ "sku": format!("V-{i}"), "stock": 1, "price": 1 })).collect();
    let wide = app
        .post(
            "/products/create_product",
            Some(&admin),
            json!({ "name": "Wide", "category": "c", "variants": variants }),
        )
        .await;
    let wide = wide.json["product"]["id"].as_str().expect("id").to_owned();
    for i in 0..50 {
        let reply =
            add(&app, &customer, json!({ "product_id": wide, "sku": format!("V-{i}") })).await;
        assert_eq!(reply.status, StatusCode::OK, "line {i}");
    }
    let full = add(&app, &customer, json!({ "product_id": product })).await;
    assert_eq!(full.outcome(), (StatusCode::CONFLICT, "cart_full"));
    // Growing an existing line is still allowed... up to its stock.
    let grow = add(&app, &customer, json!({ "product_id": wide, "sku": "V-0" })).await;
    assert_eq!(grow.code(), "insufficient_stock");
}

async fn the_line_limit_holds_under_concurrent_adds(app: TestApp) {
    let (admin, customer, _) = shop(&app).await;
    let mut products = Vec::new();
    for name in ["Wide", "Wider"] {
        let variants: Vec<_> = (0..30)
            .map(|i| json!({ "sku": format!("{name}-{i}"), "stock": 5, "price": 1 }))
            .collect();
        let reply = app
            .post(
                "/products/create_product",
                Some(&admin),
                json!({ "name": name, "category": "c", "variants": variants }),
            )
            .await;
        products.push(reply.json["product"]["id"].as_str().expect("id").to_owned());
    }
    for i in 0..30 {
        add(&app, &customer, json!({ "product_id": products[0], "sku": format!("Wide-{i}") }))
            .await;
    }
    for i in 0..17 {
        add(&app, &customer, json!({ "product_id": products[1], "sku": format!("Wider-{i}") }))
            .await;
    }
    // 47 lines; 10 new lines race for the last 3 places.
    let mut racers = tokio::task::JoinSet::new();
    for i in 17..27 {
        let (app, customer, product) = (app.clone(), customer.clone(), products[1].clone());
        racers.spawn(async move {
            let reply =
                add(&app, &customer, json!({ "product_id": product, "sku": format!("Wider-{i}") }))
                    .await;
            (reply.status, reply.code().to_owned())
        });
    }
    let outcomes = racers.join_all().await;
    let added = outcomes.iter().filter(|(status, _)| *status == StatusCode::OK).count();
    assert!((1..=3).contains(&added), "{outcomes:?}");
    for (status, code) in &outcomes {
        assert!(
            *status == StatusCode::OK
                || (*status == StatusCode::CONFLICT
                    && (code == "cart_full" || code == "cart_changed")),
            "{outcomes:?}"
        );
    }
    let cart = app.get("/cart/details", Some(&customer)).await;
    let lines = cart.json["items"].as_array().expect("items").len();
    assert_eq!(lines, 47 + added, "every answered add is in the cart, and nothing else");
    assert!(lines <= 50);
}

both_stores!(
    an_empty_cart_says_so,
    adding_sums_quantities_and_prices_come_from_the_catalog,
    quantities_are_bounded_by_stock_and_by_99,
    unknown_products_and_skus_are_404,
    update_and_remove_lines,
    a_deleted_product_shows_as_unavailable_and_leaves_the_subtotal,
    carts_are_private,
    a_cart_holds_at_most_50_lines,
    the_line_limit_holds_under_concurrent_adds,
);
