//! The address-book and admin sample events (`events/account-*.json`, `events/admin-*.json`)
//! through lambda_http's own deserialisation into the auth and orders functions' routers.

use axum::http::StatusCode;
use e2e::invoke_event;

async fn call(router: &axum::Router, name: &str, values: &[(&str, String)]) -> e2e::Reply {
    let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    invoke_event(router, name, &pairs).await
}

#[tokio::test]
async fn the_address_book_events_are_answered_by_the_auth_function() {
    let state = e2e::lambda_state();
    let token = e2e::customer_token(&state, "events@shop.test").await;
    let router = auth::router(state);
    let mut values = vec![("access_token", token)];

    let added = call(&router, "account-addresses-add", &values).await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.json);
    assert_eq!(added.json["address"]["country"], "IE");
    let id = added.json["address"]["id"].as_str().expect("id").to_owned();
    values.push(("address_id", id));
    let updated = call(&router, "account-addresses-update", &values).await;
    assert_eq!(updated.json["address"]["line2"], "Apartment 4", "{:?}", updated.json);
    let listed = call(&router, "account-addresses-list", &values).await;
    assert_eq!(listed.json["addresses"].as_array().map(Vec::len), Some(1));
    let deleted = call(&router, "account-addresses-delete", &values).await;
    assert_eq!(deleted.status, StatusCode::OK);
    let listed = call(&router, "account-addresses-list", &values).await;
    assert_eq!(listed.json["addresses"], serde_json::json!([]));
}

#[tokio::test]
async fn the_admin_events_are_answered_by_the_orders_function() {
    let state = e2e::lambda_state();
    let admin = e2e::admin_token(&state).await;
    let customer = e2e::customer_token(&state, "not-admin@shop.test").await;
    let router = orders::router(state);
    let mut values = vec![("admin_token", admin)];

    let created = call(&router, "admin-webhooks-create", &values).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    assert!(created.json["secret"].as_str().is_some_and(|s| s.starts_with("whsec_")));
    let id = created.json["webhook"]["id"].as_str().expect("id").to_owned();
    values.push(("webhook_id", id));
    let listed = call(&router, "admin-webhooks-list", &values).await;
    assert_eq!(listed.json["webhooks"].as_array().map(Vec::len), Some(1));
    let log = call(&router, "admin-webhooks-deliveries", &values).await;
    assert_eq!(
        (log.status, log.json["deliveries"].clone()),
        (StatusCode::OK, serde_json::json!([]))
    );
    let deleted = call(&router, "admin-webhooks-delete", &values).await;
    assert_eq!(deleted.status, StatusCode::OK);
    // The sample asks for webhook.created entries: the one just made.
    let audit = call(&router, "admin-audit", &values).await;
    let entries = audit.json["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "{:?}", audit.json);
    assert_eq!(entries[0]["action"], "webhook.created");

    values[0] = ("admin_token", customer);
    assert_eq!(call(&router, "admin-audit", &values).await.status, StatusCode::FORBIDDEN);
}
