//! The coupons function's Lambda path: each sample REST (v1) event through lambda_http into
//! its router.

use axum::http::StatusCode;
use e2e::invoke_event;

#[tokio::test]
async fn every_sample_event_is_answered_by_the_coupons_function() {
    let state = e2e::lambda_state();
    let admin = e2e::admin_token(&state).await;
    let customer = e2e::customer_token(&state, "c@shop.test").await;
    let router = coupons::router(state);
    let admin_token = [("admin_token", admin.as_str())];

    let created = invoke_event(&router, "coupons-create", &admin_token).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    assert_eq!(created.json["coupon"]["code"], "WELCOME-10");

    let updated = invoke_event(&router, "coupons-update", &admin_token).await;
    assert_eq!(
        (updated.status, updated.json["coupon"]["discount_percent"].as_u64()),
        (StatusCode::OK, Some(15))
    );

    let all = invoke_event(&router, "coupons-all", &admin_token).await;
    assert_eq!(
        (all.status, all.json["coupons"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );

    let mine = invoke_event(&router, "coupons-my_coupons", &[("access_token", &customer)]).await;
    assert_eq!(
        (mine.status, mine.json["coupons"][0]["code"].as_str()),
        (StatusCode::OK, Some("WELCOME-10"))
    );

    let as_customer = invoke_event(&router, "coupons-all", &[("admin_token", &customer)]).await;
    assert_eq!(as_customer.status, StatusCode::FORBIDDEN);

    let deleted = invoke_event(&router, "coupons-delete", &admin_token).await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.json);
    let again = invoke_event(&router, "coupons-delete", &admin_token).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}
