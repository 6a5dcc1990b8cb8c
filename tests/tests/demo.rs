//! The local server's demo shop (`--demo`): seeded on both stores, idempotent, and usable
//! with the credentials it prints — from login to a placed order with its coupon.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use e2e::{TestApp, both_stores};
use local::demo::{self, ADMIN_EMAIL, ADMIN_PASSWORD, CUSTOMER_EMAIL, CUSTOMER_PASSWORD};
use serde_json::json;

async fn the_demo_shop_is_seeded_once_and_its_printed_accounts_can_order(app: TestApp) {
    let first = demo::seed(app.store.as_ref()).await.expect("seeded");
    assert_eq!((first.products_created, first.products_present), (20, 0));
    assert_eq!((first.coupons_created, first.coupons_present), (2, 0));
    assert_eq!((first.admin, first.customer), ("created", "created"));

    let again = demo::seed(app.store.as_ref()).await.expect("seeded again");
    assert_eq!((again.products_created, again.products_present), (0, 20));
    assert_eq!((again.coupons_created, again.coupons_present), (0, 2));
    assert_eq!((again.admin, again.customer), ("exists", "exists"));

    let listing = app.get("/products/all_products?per_page=50", None).await;
    assert_eq!(listing.status, StatusCode::OK);
    assert_eq!(listing.json["total"], 20, "a second seeding adds nothing");
    let products = listing.json["products"].as_array().expect("products");
    let categories: BTreeSet<_> = products.iter().filter_map(|p| p["category"].as_str()).collect();
    assert_eq!(categories.len(), 6);
    assert!(products.iter().all(|p| p["images"].as_array().is_some_and(|i| !i.is_empty())));

    let (admin, _) = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let coupons = app.get("/coupons/all", Some(&admin)).await;
    assert_eq!(coupons.status, StatusCode::OK, "{:?}", coupons.json);

    let (customer, _) = app.login(CUSTOMER_EMAIL, CUSTOMER_PASSWORD).await;
    let me = app.get("/auth/protected", Some(&customer)).await;
    assert_eq!(me.json["role"], "customer");
    let offered = app.get("/coupons/my_coupons", Some(&customer)).await;
    let codes: Vec<_> =
        offered.json["coupons"].as_array().expect("coupons").iter().map(|c| &c["code"]).collect();
    assert_eq!(codes, [&json!("WELCOME10")], "PRIME20 is for prime customers only");

    let tee = products.iter().find(|p| p["name"] == "Organic Cotton T-Shirt").expect("the tee");
    let add = json!({ "product_id": tee["id"], "sku": "DEMO-TEE-WHT-M", "quantity": 2 });
    let added = app.post("/cart/add_item", Some(&customer), add).await;
    assert_eq!(added.status, StatusCode::OK, "{:?}", added.json);
    let placed =
        app.post("/orders/create", Some(&customer), json!({ "coupon_code": "WELCOME10" })).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    let order = &placed.json["order"];
    assert_eq!(
        (&order["total_amount"], &order["discount_applied"], &order["final_amount"]),
        (&json!("39.80"), &json!("3.98"), &json!("35.82")),
        "2 × 19.90, less 10 %"
    );
}

both_stores!(the_demo_shop_is_seeded_once_and_its_printed_accounts_can_order);
