//! The catalog end to end, through the composed router, on both stores.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use e2e::{Reply, TestApp, both_stores};
use serde_json::{Value, json};

fn product(name: &str, category: &str, skus: &[&str]) -> Value {
    let variants: Vec<_> =
        skus.iter().map(|sku| json!({ "sku": sku, "stock": 5, "price": "19.99" })).collect();
    json!({ "name": name, "category": category, "images": ["https://cdn.example.com/p.jpg"], "variants": variants })
}

async fn create(app: &TestApp, admin: &str, body: Value) -> Value {
    let reply = app.post("/products/create_product", Some(admin), body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    assert_eq!(reply.json["message"], "Product created successfully");
    reply.json["product"].clone()
}

async fn put(app: &TestApp, token: Option<&str>, id: &str, body: Value) -> Reply {
    app.put(&format!("/products/update_product/{id}"), token, body).await
}

async fn delete(app: &TestApp, token: Option<&str>, id: &str) -> Reply {
    app.delete(&format!("/products/delete_product/{id}"), token).await
}

fn ids(products: &Value) -> Vec<String> {
    products
        .as_array()
        .expect("products")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn customer(app: &TestApp) -> String {
    app.register("shopper@shop.test", "shopper-password").await;
    app.login("shopper@shop.test", "shopper-password").await.0
}

async fn create_then_read_returns_the_same_product(app: TestApp) {
    let admin = app.admin().await;
    let created = create(&app, &admin, product("Trail shoe", "shoes", &["TS-42", "TS-43"])).await;
    assert_eq!(created["variants"][0], json!({ "sku": "TS-42", "stock": 5, "price": "19.99" }));
    assert_eq!(created["description"], "");
    let id = created["id"].as_str().expect("id");
    let read = app.get(&format!("/products/{id}"), None).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.json, created, "the product object at top level");
}

async fn a_partial_update_changes_only_what_it_names(app: TestApp) {
    let admin = app.admin().await;
    let created = create(&app, &admin, product("Mug", "kitchen", &["MUG-1", "MUG-2"])).await;
    let id = created["id"].as_str().expect("id");
    let reply =
        put(&app, Some(&admin), id, json!({ "name": "Big mug", "description": "Holds a lot" }))
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["message"], "Product updated successfully");
    let updated = &reply.json["product"];
    assert_eq!(
        (updated["name"].as_str(), updated["description"].as_str()),
        (Some("Big mug"), Some("Holds a lot"))
    );
    assert_eq!(
        (&updated["variants"], &updated["category"], &updated["created_at"]),
        (&created["variants"], &created["category"], &created["created_at"])
    );
    // Read after write.
    assert_eq!(app.get(&format!("/products/{id}"), None).await.json, *updated);
}

async fn replacing_variants_moves_sku_claims_atomically(app: TestApp) {
    let admin = app.admin().await;
    let first = create(&app, &admin, product("Lamp", "home", &["L-1", "L-2"])).await;
    let other = create(&app, &admin, product("Desk", "home", &["D-1"])).await;
    let id = first["id"].as_str().expect("id");

    // Taking another product's SKU fails and changes nothing.
    let taken = put(
        &app,
        Some(&admin),
        id,
        json!({ "variants": [{ "sku": "D-1", "stock": 1, "price": 1 }] }),
    )
    .await;
    assert_eq!(taken.outcome(), (StatusCode::CONFLICT, "sku_taken"), "{:?}", taken.json);
    assert_eq!(app.get(&format!("/products/{id}"), None).await.json, first);

    // Keep L-2 (changed), drop L-1, add L-3.
    let body = json!({ "variants": [{ "sku": "L-2", "stock": 9, "price": "5.5" }, { "sku": "L-3", "stock": 0, "price": 7 }] });
    let reply = put(&app, Some(&admin), id, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(
        reply.json["product"]["variants"],
        json!([{ "sku": "L-2", "stock": 9, "price": "5.50" }, { "sku": "L-3", "stock": 0, "price": "7.00" }])
    );
    // L-1 is free again; L-3 is now claimed.
    create(&app, &admin, product("Lamp two", "home", &["L-1"])).await;
    let clash = app
        .post("/products/create_product", Some(&admin), product("Lamp three", "home", &["L-3"]))
        .await;
    assert_eq!(clash.outcome(), (StatusCode::CONFLICT, "sku_taken"));
    assert_eq!(
        app.get(&format!("/products/{}", other["id"].as_str().expect("id")), None).await.json,
        other
    );
}

async fn delete_removes_the_product_and_frees_its_skus(app: TestApp) {
    let admin = app.admin().await;
    let created = create(&app, &admin, product("Kettle", "kitchen", &["K-1", "K-2"])).await;
    let id = created["id"].as_str().expect("id");
    let reply = delete(&app, Some(&admin), id).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["message"], "Product deleted successfully");
    let gone = app.get(&format!("/products/{id}"), None).await;
    assert_eq!(gone.outcome(), (StatusCode::NOT_FOUND, "product_not_found"));
    let again = delete(&app, Some(&admin), id).await;
    assert_eq!(again.outcome(), (StatusCode::NOT_FOUND, "product_not_found"));
    let listed = app.get("/products/all_products", None).await;
    assert_eq!(listed.json["total"], 0);
    create(&app, &admin, product("Kettle again", "kitchen", &["K-1", "K-2"])).await;
}

async fn unknown_and_malformed_ids_are_404(app: TestApp) {
    let admin = app.admin().await;
    for id in ["01ARZ3NDEKTSV4RRFFQ69G5FAV", "not-an-id", "%20"] {
        let read = app.get(&format!("/products/{id}"), None).await;
        assert_eq!(read.outcome(), (StatusCode::NOT_FOUND, "product_not_found"), "{id}");
        let update = put(&app, Some(&admin), id, json!({ "name": "x" })).await;
        assert_eq!(update.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(delete(&app, Some(&admin), id).await.status, StatusCode::NOT_FOUND, "{id}");
    }
}

async fn writes_need_an_admin(app: TestApp) {
    let admin = app.admin().await;
    let created = create(&app, &admin, product("Chair", "home", &["C-1"])).await;
    let id = created["id"].as_str().expect("id");
    let customer = customer(&app).await;
    for (token, status, code) in [
        (None, StatusCode::UNAUTHORIZED, "authorization_header"),
        (Some(customer.as_str()), StatusCode::FORBIDDEN, "forbidden"),
    ] {
        let create = app.post("/products/create_product", token, product("X", "x", &["X-1"])).await;
        assert_eq!(create.outcome(), (status, code));
        let update = put(&app, token, id, json!({ "name": "Stolen" })).await;
        assert_eq!(update.outcome(), (status, code));
        let remove = delete(&app, token, id).await;
        assert_eq!(remove.outcome(), (status, code));
    }
    assert_eq!(app.get(&format!("/products/{id}"), None).await.json, created);
}

async fn every_validation_rule_answers_400_with_its_field(app: TestApp) {
    let admin = app.admin().await;
    let base = product("Valid", "valid", &["V-1"]);
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    let variant = |sku: Value, stock: Value, price: Value| json!([{ "sku": sku, "stock": stock, "price": price }]);
    let cases = [
        (json!({ "category": "c", "variants": base["variants"] }), "name"),
        (with("name", json!("")), "name"),
        (with("name", json!("n".repeat(201))), "name"),
        (with("description", json!("d".repeat(5001))), "description"),
        (with("category", json!("")), "category"),
        (with("category", json!("c".repeat(101))), "category"),
        (with("images", json!(["ftp://x.example/a.png"])), "images[0]"),
        (with("images", json!(["not a url"])), "images[0]"),
        (with("images", json!(vec!["https://x.example/a.png"; 11])), "images"),
        (with("variants", json!([])), "variants"),
        (with("variants", variant(json!("has space"), json!(1), json!(1))), "variants[0].sku"),
        (with("variants", variant(json!("S".repeat(65)), json!(1), json!(1))), "variants[0].sku"),
        (with("variants", variant(json!("S-1"), json!(-1), json!(1))), "variants[0].stock"),
        (with("variants", variant(json!("S-1"), json!(1.5), json!(1))), "variants[0].stock"),
        (with("variants", variant(json!("S-1"), json!(1), json!("-1"))), "variants[0].price"),
        (with("variants", variant(json!("S-1"), json!(1), json!("1.005"))), "variants[0].price"),
        (with("variants", variant(json!("S-1"), json!(1), json!("cheap"))), "variants[0].price"),
        (
            with(
                "variants",
                json!([{ "sku": "D", "stock": 1, "price": 1 }, { "sku": "D", "stock": 1, "price": 1 }]),
            ),
            "variants[1].sku",
        ),
        (with("colour", json!("red")), "colour"),
    ];
    for (body, field) in cases {
        let reply = app.post("/products/create_product", Some(&admin), body.clone()).await;
        reply.assert_invalid(field);
    }
    let many: Vec<_> =
        (0..51).map(|i| json!({ "sku": format!("M-{i}"), "stock": 1, "price": 1 })).collect();
    let reply =
        app.post("/products/create_product", Some(&admin), with("variants", json!(many))).await;
    assert!(reply.json["errors"]["variants"].is_array(), "{:?}", reply.json);
    // An empty update names nothing to change.
    let created = create(&app, &admin, base.clone()).await;
    let empty = put(&app, Some(&admin), created["id"].as_str().expect("id"), json!({})).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    // Nothing invalid was stored.
    let listed = app.get("/products/all_products", None).await;
    assert_eq!(listed.json["total"], 1, "{:?}", listed);
}

async fn pages_and_cursors_each_visit_every_product_once(app: TestApp) {
    let admin = app.admin().await;
    let mut all = Vec::new();
    for i in 0..13 {
        let category = if i % 3 == 0 { "lamps" } else { "chairs" };
        let created =
            create(&app, &admin, product(&format!("P{i}"), category, &[&format!("P-{i}")])).await;
        all.push((created["id"].as_str().expect("id").to_owned(), category));
    }
    let expected: BTreeSet<String> = all.iter().map(|(id, _)| id.clone()).collect();

    let mut seen = Vec::new();
    for page in 1..=4 {
        let reply = app.get(&format!("/products/all_products?page={page}&per_page=4"), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
        assert_eq!(
            (reply.json["page"].as_u64(), reply.json["per_page"].as_u64()),
            (Some(page), Some(4))
        );
        assert_eq!(
            (reply.json["total"].as_u64(), reply.json["total_pages"].as_u64()),
            (Some(13), Some(4))
        );
        seen.extend(ids(&reply.json["products"]));
    }
    assert_eq!(seen.len(), 13);
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), expected);
    let mut newest_first = seen.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, newest_first, "ULIDs sort by creation: newest first");
    let past_the_end = app.get("/products/all_products?page=5&per_page=4", None).await;
    assert_eq!(past_the_end.json["products"], json!([]));

    let default = app.get("/products/all_products", None).await;
    assert_eq!(ids(&default.json["products"]), seen[..5]);

    let mut by_cursor = Vec::new();
    let mut next = String::new();
    for _ in 0..10 {
        let reply = app.get(&format!("/products/all_products?limit=5&cursor={next}"), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
        by_cursor.extend(ids(&reply.json["products"]));
        match reply.json["next_cursor"].as_str() {
            Some(cursor) => next = cursor.to_owned(),
            None => break,
        }
    }
    assert_eq!(by_cursor, seen, "cursor paging finds the same products in the same order");

    let lamps: BTreeSet<String> =
        all.iter().filter(|(_, c)| *c == "lamps").map(|(id, _)| id.clone()).collect();
    let page = app.get("/products/all_products?category=lamps&per_page=100", None).await;
    assert_eq!(page.json["total"].as_u64(), Some(lamps.len() as u64));
    assert_eq!(ids(&page.json["products"]).into_iter().collect::<BTreeSet<_>>(), lamps);
    let mut walked = BTreeSet::new();
    let mut cursor = String::new();
    for _ in 0..5 {
        let reply = app
            .get(&format!("/products/all_products?category=lamps&limit=2&cursor={cursor}"), None)
            .await;
        for id in ids(&reply.json["products"]) {
            assert!(walked.insert(id), "a lamp listed twice");
        }
        match reply.json["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(walked, lamps);
}

async fn bad_listing_parameters_are_400(app: TestApp) {
    for query in [
        "page=0",
        "page=abc",
        "per_page=101",
        "per_page=0",
        "limit=101",
        "cursor=forged",
        "page=2&limit=3",
        "page=401&per_page=5",
    ] {
        let reply = app.get(&format!("/products/all_products?{query}"), None).await;
        assert_eq!(
            reply.outcome(),
            (StatusCode::BAD_REQUEST, "validation_error"),
            "{query}: {:?}",
            reply.json
        );
    }
}

async fn a_category_change_moves_the_product_between_counts(app: TestApp) {
    let admin = app.admin().await;
    let created = create(&app, &admin, product("Stool", "chairs", &["S-1"])).await;
    let id = created["id"].as_str().expect("id");
    put(&app, Some(&admin), id, json!({ "category": "stools" })).await;
    let chairs = app.get("/products/all_products?category=chairs", None).await;
    let stools = app.get("/products/all_products?category=stools", None).await;
    assert_eq!((chairs.json["total"].as_u64(), stools.json["total"].as_u64()), (Some(0), Some(1)));
    assert_eq!(ids(&stools.json["products"]), [id]);
    assert_eq!(chairs.json["products"], json!([]));
}

async fn concurrent_creates_of_one_sku_let_exactly_one_win(app: TestApp) {
    let admin = app.admin().await;
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..6 {
        let (app, admin) = (app.clone(), admin.clone());
        racers.spawn(async move {
            app.post(
                "/products/create_product",
                Some(&admin),
                product(&format!("Racer {i}"), "race", &["SAME-SKU", &format!("OWN-{i}")]),
            )
            .await
            .status
        });
    }
    let statuses = racers.join_all().await;
    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    let conflicts = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((created, conflicts), (1, 5), "{statuses:?}");
    let listed = app.get("/products/all_products", None).await;
    assert_eq!(listed.json["total"], 1, "{:?}", listed);
    // The losers' other SKUs were not claimed.
    for i in 0..6 {
        let reply = app
            .post(
                "/products/create_product",
                Some(&admin),
                product("Later", "race", &[&format!("OWN-{i}")]),
            )
            .await;
        assert!(reply.status == StatusCode::CREATED || reply.status == StatusCode::CONFLICT);
    }
    assert_eq!(app.get("/products/all_products", None).await.json["total"], 6);
}

both_stores!(
    create_then_read_returns_the_same_product,
    a_partial_update_changes_only_what_it_names,
    replacing_variants_moves_sku_claims_atomically,
    delete_removes_the_product_and_frees_its_skus,
    unknown_and_malformed_ids_are_404,
    writes_need_an_admin,
    every_validation_rule_answers_400_with_its_field,
    pages_and_cursors_each_visit_every_product_once,
    bad_listing_parameters_are_400,
    a_category_change_moves_the_product_between_counts,
    concurrent_creates_of_one_sku_let_exactly_one_win,
);
