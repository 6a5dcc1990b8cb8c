//! Clients of the original API keep working: every request body its README documents, and the
//! shapes its Postman collection sends (`user_id` in cart bodies, `{}` as the checkout body, a
//! variant without `stock`), answered 2xx with the original's message strings, on both stores.

use axum::http::StatusCode;
use e2e::{TestApp, both_stores};
use serde_json::{Value, json};

/// A MongoDB ObjectId, as the original's clients send in `user_id` (never the caller here).
const ORIGINAL_USER_ID: &str = "67ebc1ca79e35b1432aaefee";

/// Sends `body` and checks the status and the original's message.
async fn expect(
    app: &TestApp,
    call: (&str, &str),
    token: &str,
    body: Value,
    want: (StatusCode, &str),
) -> Value {
    let (method, path) = call;
    let method = method.parse().expect("method");
    let reply = app.call(method, path, Some(token), Some(body)).await;
    assert_eq!(reply.status, want.0, "{path}: {:?}", reply.json);
    assert_eq!(reply.json["message"], want.1, "{path}");
    reply.json
}

/// The README's register and login bodies (`role: customer` included, as it shows).
async fn readme_accounts(app: &TestApp) -> String {
    let body = json!({"email": "john@example.com", "password": "password123", "role": "customer"});
    let reply = app.post("/auth/register", None, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    assert_eq!(reply.json["message"], "User registered successfully");
    let body = json!({"email": "john@example.com", "password": "password123"});
    let reply = app.post("/auth/login", None, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["message"], "Logged in successfully");
    reply.json["tokens"]["access_token"].as_str().expect("access").to_owned()
}

async fn the_originals_documented_bodies_are_accepted(app: TestApp) {
    let customer = readme_accounts(&app).await;
    let admin = app.admin().await;
    let created = (StatusCode::CREATED, "Product created successfully");
    let laptop = json!({
        "name": "Laptop",
        "description": "A powerful laptop",
        "category": "Electronics",
        "images": ["http://example.com/laptop.jpg"],
        "variants": [{"sku": "LAP-001", "stock": 10, "price": 999.99}]
    });
    let call = ("POST", "/products/create_product");
    let product = expect(&app, call, &admin, laptop, created).await;
    let id = product["product"]["id"].as_str().expect("id").to_owned();
    // Only the fields the README shows; description, images default to "" and [].
    let minimal = json!({"name": "Mug", "category": "Kitchen", "variants": [{"sku": "MUG-0", "stock": 3, "price": 8}]});
    let mug = expect(&app, call, &admin, minimal, created).await;
    assert_eq!(mug["product"]["description"], "");
    assert_eq!(mug["product"]["images"], json!([]));

    let update = json!({"name": "Gaming Laptop", "variants": [{"sku": "LAP-001", "stock": 8, "price": 1099.99}]});
    let path = format!("/products/update_product/{id}");
    let updated = (StatusCode::OK, "Product updated successfully");
    let product = expect(&app, ("PUT", &path), &admin, update, updated).await;
    assert_eq!(product["product"]["variants"][0]["price"], "1099.99");

    let naive = json!({"code": "SAVE10", "discount_percent": 10, "expiry": "2099-12-31T23:59:59", "eligible_roles": ["customer", "prime_customer"]});
    let coupon_created = (StatusCode::CREATED, "Coupon created successfully");
    expect(&app, ("POST", "/coupons/create"), &admin, naive, coupon_created).await;
    let offset =
        json!({"code": "WINTER", "discount_percent": 5, "expiry": "2099-12-31T23:59:59+05:30"});
    let winter = expect(&app, ("POST", "/coupons/create"), &admin, offset, coupon_created).await;
    assert_eq!(winter["coupon"]["expiry"], "2099-12-31T18:29:59Z", "offset expiry stored in UTC");
    let change = json!({"discount_percent": 15, "expiry": "2099-06-30T00:00:00"});
    let coupon_updated = (StatusCode::OK, "Coupon updated successfully");
    expect(&app, ("PUT", "/coupons/update/SAVE10"), &admin, change, coupon_updated).await;

    // Add item with quantity and a client price (ignored: the catalog's applies).
    let add = json!({"product_id": id, "quantity": 2, "price": 1.0});
    let added = (StatusCode::OK, "Item added to cart");
    let cart = expect(&app, ("POST", "/cart/add_item"), &customer, add, added).await;
    assert_eq!(cart["cart"]["subtotal"], "2199.98");
    let order = json!({"coupon_code": "SAVE10"});
    let placed = (StatusCode::CREATED, "Order placed successfully");
    let order = expect(&app, ("POST", "/orders/create"), &customer, order, placed).await;
    assert_eq!(order["order"]["final_amount"], "1869.98");

    // And without a coupon code.
    let add = json!({"product_id": id, "quantity": 1});
    expect(&app, ("POST", "/cart/add_item"), &customer, add, added).await;
    let order = expect(&app, ("POST", "/orders/create"), &customer, json!({}), placed).await;
    assert_eq!(order["order"]["coupon_code"], Value::Null);
}

async fn the_collections_shapes_are_accepted(app: TestApp) {
    let customer = readme_accounts(&app).await;
    let admin = app.admin().await;
    // A variant without `stock`: 0, as the original's schema defaults it.
    let body =
        json!({"name": "Mug", "category": "Kitchen", "variants": [{"sku": "MUG-1", "price": 8}]});
    let created = (StatusCode::CREATED, "Product created successfully");
    let product = expect(&app, ("POST", "/products/create_product"), &admin, body, created).await;
    assert_eq!(product["product"]["variants"][0]["stock"], 0);
    let body = json!({"name": "Cup", "category": "Kitchen", "variants": [{"sku": "CUP-1", "stock": 4, "price": 5}]});
    let cup = expect(&app, ("POST", "/products/create_product"), &admin, body, created).await;
    let cup = cup["product"]["id"].as_str().expect("id").to_owned();

    // `user_id` in cart bodies: accepted and ignored, the caller is the token's user.
    let add = json!({"user_id": ORIGINAL_USER_ID, "product_id": cup});
    let added = (StatusCode::OK, "Item added to cart");
    let cart = expect(&app, ("POST", "/cart/add_item"), &customer, add, added).await;
    assert_eq!(cart["cart"]["items"][0]["quantity"], 1);
    let caller = app.get("/auth/protected", Some(&customer)).await.json["user_id"].clone();
    assert!(caller.is_string(), "{caller:?}");
    assert_eq!(cart["cart"]["user_id"], caller, "the token's user, not the body's");
    let set = json!({"user_id": ORIGINAL_USER_ID, "product_id": cup, "quantity": 3});
    let updated = (StatusCode::OK, "Cart updated successfully");
    expect(&app, ("POST", "/cart/update_item_quantity"), &customer, set, updated).await;

    // `{}` and a `user_id` as the checkout body.
    let body = json!({"user_id": ORIGINAL_USER_ID});
    let placed = (StatusCode::CREATED, "Order placed successfully");
    let order = expect(&app, ("POST", "/orders/create"), &customer, body, placed).await;
    assert_eq!(order["order"]["items"][0]["quantity"], 3);
    let add = json!({"user_id": ORIGINAL_USER_ID, "product_id": cup});
    expect(&app, ("POST", "/cart/add_item"), &customer, add, added).await;
    let remove = json!({"user_id": ORIGINAL_USER_ID, "product_id": cup});
    let removed = (StatusCode::OK, "Item removed from cart");
    expect(&app, ("POST", "/cart/remove_item"), &customer, remove, removed).await;
    let add = json!({"product_id": cup});
    expect(&app, ("POST", "/cart/add_item"), &customer, add, added).await;
    expect(&app, ("POST", "/orders/create"), &customer, json!({}), placed).await;
}

async fn typos_are_still_named(app: TestApp) {
    let customer = readme_accounts(&app).await;
    // A misspelt field the original would have refused (or that would silently change the
    // outcome) is named in the error, as before.
    let reply = app
        .post("/cart/add_item", Some(&customer), json!({"product_id": "x", "quantitty": 2}))
        .await;
    assert_eq!(reply.outcome(), (StatusCode::BAD_REQUEST, "validation_error"));
    assert!(reply.json["errors"]["quantitty"].is_array(), "{:?}", reply.json);
    let reply = app.post("/orders/create", Some(&customer), json!({"coupon": "SAVE10"})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.json["errors"]["coupon"].is_array(), "{:?}", reply.json);
}

both_stores!(
    the_originals_documented_bodies_are_accepted,
    the_collections_shapes_are_accepted,
    typos_are_still_named,
);
