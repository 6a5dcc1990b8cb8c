//! `cargo bench -p e2e --bench routes`: in-process latency of every route through the composed
//! router on the memory store (no network, no database), token check included: what the code
//! itself costs per request. Each route gets a fresh shop (an admin, a customer with a cart of
//! three lines and five orders, three products, three coupons); whatever a call consumes (a
//! cart line, a session, a product to delete) is prepared before it, outside the timed part.
//! Prints a Markdown table.

use std::time::{Duration, Instant};

use axum::http::Method;
use e2e::{Backend, TestApp};
use serde_json::{Value, json};

/// A prepared call: method, path, token, body.
type Call = (Method, String, Option<String>, Option<Value>);

struct Shop {
    app: TestApp,
    admin: String,
    customer: String,
    products: Vec<String>,
}

const PASSWORD: &str = "a-good-password";

async fn shop() -> Shop {
    let app = TestApp::new(Backend::Memory).await;
    let admin = app.admin().await;
    app.register("customer@shop.test", PASSWORD).await;
    let customer = app.login("customer@shop.test", PASSWORD).await.0;
    let mut products = Vec::new();
    for i in 0..3 {
        products.push(product(&app, &admin, &format!("SEED-{i}")).await);
        let coupon = json!({ "code": format!("SEED-{i}"), "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z" });
        app.post("/coupons/create", Some(&admin), coupon).await;
    }
    let shop = Shop { app, admin, customer, products };
    for _ in 0..5 {
        shop.order().await;
    }
    shop.fill_cart().await;
    shop
}

async fn product(app: &TestApp, admin: &str, sku: &str) -> String {
    let variants = json!([{ "sku": sku, "stock": 1_000_000_000, "price": "24.99" }]);
    let body = json!({ "name": sku, "category": "bench", "description": "A product", "variants": variants });
    let reply = app.post("/products/create_product", Some(admin), body).await;
    reply.json["product"]["id"].as_str().expect("id").to_owned()
}

impl Shop {
    /// The first product of the catalog.
    fn product(&self) -> &str {
        &self.products[0]
    }

    fn customer(&self) -> Option<String> {
        Some(self.customer.clone())
    }

    fn admin(&self) -> Option<String> {
        Some(self.admin.clone())
    }

    async fn fill_cart(&self) {
        for id in &self.products {
            let line = json!({ "product_id": id, "quantity": 1 });
            self.app.post("/cart/add_item", Some(&self.customer), line).await;
        }
    }

    async fn order(&self) -> String {
        self.fill_cart().await;
        let placed = self.app.post("/orders/create", Some(&self.customer), json!({})).await;
        placed.json["order"]["id"].as_str().expect("order").to_owned()
    }

    async fn session(&self) -> (String, String) {
        self.app.login("customer@shop.test", PASSWORD).await
    }
}

/// Times `calls` calls, each prepared by `prepare(i)` outside the timed part.
async fn measure<F, Fut>(shop: &Shop, route: &str, calls: usize, prepare: F)
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Call>,
{
    let mut samples: Vec<Duration> = Vec::with_capacity(calls);
    for i in 0..calls {
        let (method, path, token, body) = prepare(i).await;
        let start = Instant::now();
        let reply = shop.app.call(method, &path, token.as_deref(), body).await;
        samples.push(start.elapsed());
        assert!(reply.status.is_success(), "{route}: {} {:?}", reply.status, reply.json);
    }
    samples.sort();
    let at = |p: usize| samples[(samples.len() * p / 100).min(samples.len() - 1)];
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    println!("| `{route}` | {:.1} | {:.1} | {calls} |", micros(at(50)), micros(at(99)));
}

async fn auth_routes() {
    let s = &shop().await;
    measure(s, "POST /auth/register", 30, async |i| {
        let body = json!({ "email": format!("new{i}@shop.test"), "password": PASSWORD });
        (Method::POST, "/auth/register".into(), None, Some(body))
    })
    .await;
    measure(s, "POST /auth/login", 30, async |_| {
        let body = json!({ "email": "customer@shop.test", "password": PASSWORD });
        (Method::POST, "/auth/login".into(), None, Some(body))
    })
    .await;
    measure(s, "GET /auth/refresh_access_token", 30, async |_| {
        (Method::GET, "/auth/refresh_access_token".into(), Some(s.session().await.1), None)
    })
    .await;
    measure(s, "GET /auth/protected", 2000, async |_| {
        (Method::GET, "/auth/protected".into(), s.customer(), None)
    })
    .await;
    measure(s, "GET /auth/logout", 30, async |_| {
        (Method::GET, "/auth/logout".into(), Some(s.session().await.0), None)
    })
    .await;
}

async fn product_routes() {
    let s = &shop().await;
    let id = s.product();
    measure(s, "GET /products/all_products", 2000, async |_| {
        (Method::GET, "/products/all_products".into(), None, None)
    })
    .await;
    measure(s, "GET /products/{product_id}", 2000, async |_| {
        (Method::GET, format!("/products/{id}"), None, None)
    })
    .await;
    measure(s, "POST /products/create_product", 1000, async |i| {
        let variants = json!([{ "sku": format!("NEW-{i}"), "stock": 5, "price": "3.00" }]);
        let body = json!({ "name": "New", "category": "bench", "variants": variants });
        (Method::POST, "/products/create_product".into(), s.admin(), Some(body))
    })
    .await;
    measure(s, "PUT /products/update_product/{product_id}", 1000, async |i| {
        let body = json!({ "description": format!("Edition {i}") });
        (Method::PUT, format!("/products/update_product/{id}"), s.admin(), Some(body))
    })
    .await;
    measure(s, "DELETE /products/delete_product/{product_id}", 500, async |i| {
        let doomed = product(&s.app, &s.admin, &format!("GONE-{i}")).await;
        (Method::DELETE, format!("/products/delete_product/{doomed}"), s.admin(), None)
    })
    .await;
}

async fn coupon_routes() {
    let s = &shop().await;
    measure(s, "GET /coupons/all", 2000, async |_| {
        (Method::GET, "/coupons/all".into(), s.admin(), None)
    })
    .await;
    measure(s, "GET /coupons/my_coupons", 2000, async |_| {
        (Method::GET, "/coupons/my_coupons".into(), s.customer(), None)
    })
    .await;
    measure(s, "PUT /coupons/update/{coupon_code}", 1000, async |i| {
        let body = json!({ "discount_percent": 5 + i % 50 });
        (Method::PUT, "/coupons/update/SEED-0".into(), s.admin(), Some(body))
    })
    .await;
    measure(s, "POST /coupons/create", 1000, async |i| {
        let body = json!({ "code": format!("NEW-{i}"), "discount_percent": 10, "expiry": "2999-01-01T00:00:00Z" });
        (Method::POST, "/coupons/create".into(), s.admin(), Some(body))
    })
    .await;
    measure(s, "DELETE /coupons/delete/{coupon_code}", 1000, async |i| {
        (Method::DELETE, format!("/coupons/delete/NEW-{i}"), s.admin(), None)
    })
    .await;
}

async fn cart_routes() {
    let s = &shop().await;
    let id = s.product();
    measure(s, "GET /cart/details", 2000, async |_| {
        (Method::GET, "/cart/details".into(), s.customer(), None)
    })
    .await;
    measure(s, "POST /cart/update_item_quantity", 1000, async |i| {
        let body = json!({ "product_id": id, "quantity": 1 + i % 5 });
        (Method::POST, "/cart/update_item_quantity".into(), s.customer(), Some(body))
    })
    .await;
    measure(s, "POST /cart/remove_item", 1000, async |_| {
        s.fill_cart().await;
        let body = json!({ "product_id": id });
        (Method::POST, "/cart/remove_item".into(), s.customer(), Some(body))
    })
    .await;
    measure(s, "POST /cart/add_item", 1000, async |_| {
        let body = json!({ "product_id": id });
        s.app.post("/cart/remove_item", s.customer().as_deref(), body.clone()).await;
        (Method::POST, "/cart/add_item".into(), s.customer(), Some(body))
    })
    .await;
}

async fn order_routes() {
    let s = &shop().await;
    let order = s.order().await;
    let order = &order;
    measure(s, "GET /orders", 2000, async |_| (Method::GET, "/orders".into(), s.customer(), None))
        .await;
    measure(s, "GET /orders/all", 2000, async |_| {
        (Method::GET, "/orders/all".into(), s.admin(), None)
    })
    .await;
    measure(s, "GET /orders/{order_id}", 2000, async |_| {
        (Method::GET, format!("/orders/{order}"), s.customer(), None)
    })
    .await;
    measure(s, "POST /orders/create", 1000, async |_| {
        s.fill_cart().await;
        (Method::POST, "/orders/create".into(), s.customer(), Some(json!({})))
    })
    .await;
    measure(s, "PUT /orders/{order_id}/status", 500, async |_| {
        let placed = s.order().await;
        let body = json!({ "status": "Shipped" });
        (Method::PUT, format!("/orders/{placed}/status"), s.admin(), Some(body))
    })
    .await;
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("| route | median µs | p99 µs | calls |\n|---|---|---|---|");
    auth_routes().await;
    product_routes().await;
    coupon_routes().await;
    cart_routes().await;
    order_routes().await;
}
