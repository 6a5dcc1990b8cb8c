//! The cart function's Lambda path: each sample REST (v1) event through lambda_http into its
//! router.

use axum::http::StatusCode;
use e2e::invoke_event;
use shared::domain::ProductInput;

#[tokio::test]
async fn every_sample_event_is_answered_by_the_cart_function() {
    let state = e2e::lambda_state();
    let input: ProductInput = serde_json::from_value(serde_json::json!({
        "name": "Trail shoe", "category": "shoes", "variants": [{ "sku": "TS-42", "stock": 10, "price": "89.90" }]
    }))
    .expect("input");
    let product = state
        .catalog()
        .create(shared::domain::UserId::new(), input)
        .await
        .expect("product")
        .id
        .to_string();
    let token = e2e::customer_token(&state, "c@shop.test").await;
    let router = cart::router(state);
    let values = [("access_token", token.as_str()), ("product_id", product.as_str())];

    let added = invoke_event(&router, "cart-add_item", &values).await;
    assert_eq!(added.status, StatusCode::OK, "{:?}", added.json);
    assert_eq!(added.json["cart"]["subtotal"], "179.80");

    let details = invoke_event(&router, "cart-details", &values).await;
    assert_eq!(
        (details.status, details.json["items"][0]["quantity"].as_u64()),
        (StatusCode::OK, Some(2))
    );

    let updated = invoke_event(&router, "cart-update_item_quantity", &values).await;
    assert_eq!(
        (updated.status, updated.json["cart"]["subtotal"].as_str()),
        (StatusCode::OK, Some("269.70"))
    );

    let removed = invoke_event(&router, "cart-remove_item", &values).await;
    assert_eq!(
        (removed.status, removed.json["cart"]["items"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0))
    );
    let again = invoke_event(&router, "cart-remove_item", &values).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    let anonymous = invoke_event(&router, "cart-details", &[("access_token", "")]).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}
