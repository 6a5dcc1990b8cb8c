//! `cargo bench -p e2e --bench load -- BASE_URL SCENARIO CONCURRENCY SECONDS MAX`: a
//! closed-loop load test of a running server (`scripts/bench.sh` starts the local server on
//! the memory store, pinned to one core, and this generator on the other).
//!
//! Scenarios: `public` (`GET /products/all_products`), `authenticated` (`GET /cart/details`
//! with a customer's token), `order` (register → login → add to cart → checkout with a fresh
//! `Idempotency-Key`, counted as one path). `CONCURRENCY` clients each send their next request
//! when the last one is answered, for `SECONDS` or until `MAX` requests (paths), whichever
//! comes first. Prints one JSON line: requests/s and latency percentiles; any non-2xx answer
//! fails the run.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use serde_json::{Value, json};

type Http = Client<HttpConnector, Full<Bytes>>;

#[derive(Clone)]
struct Target {
    client: Http,
    base: String,
}

impl Target {
    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        extra: Option<(&str, String)>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some((name, value)) = extra {
            request = request.header(name, value);
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(json.to_string()))
            }
            None => Full::new(Bytes::new()),
        };
        let response = self.client.request(request.body(body).expect("request")).await;
        let response = response.expect("the server answers");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn ok(&self, what: &str, answer: (StatusCode, Value)) -> Value {
        assert!(answer.0.is_success(), "{what}: {} {}", answer.0, answer.1);
        answer.1
    }

    async fn login(&self, email: &str) -> String {
        let body = json!({ "email": email, "password": "a-good-password" });
        let reply = self.send(Method::POST, "/auth/login", None, Some(body), None).await;
        let reply = self.ok("login", reply).await;
        reply["tokens"]["access_token"].as_str().expect("token").to_owned()
    }

    async fn register(&self, email: &str) {
        let body = json!({ "email": email, "password": "a-good-password" });
        let reply = self.send(Method::POST, "/auth/register", None, Some(body), None).await;
        self.ok("register", reply).await;
    }
}

/// A product to sell (made by the admin in SHOP_ADMIN_EMAIL/SHOP_ADMIN_PASSWORD) and 20 more
/// for the listing.
async fn seed(target: &Target) -> String {
    let email = std::env::var("SHOP_ADMIN_EMAIL").expect("SHOP_ADMIN_EMAIL");
    let password = std::env::var("SHOP_ADMIN_PASSWORD").expect("SHOP_ADMIN_PASSWORD");
    let body = json!({ "email": email, "password": password });
    let reply = target.send(Method::POST, "/auth/login", None, Some(body), None).await;
    let admin = target.ok("admin login", reply).await["tokens"]["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let mut id = String::new();
    for i in 0..21 {
        let sku = format!("LOAD-{}-{i}", ulid::Ulid::new());
        let variants = json!([{ "sku": sku, "stock": 1_000_000_000, "price": "9.99" }]);
        let body = json!({ "name": format!("Load {i}"), "category": "load", "variants": variants });
        let path = "/products/create_product";
        let reply = target.send(Method::POST, path, Some(&admin), Some(body), None).await;
        id = target.ok("create product", reply).await["product"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
    }
    id
}

/// One unit of work of the scenario; returns how long it took.
async fn once(target: &Target, scenario: &str, token: &str, product: &str) -> Duration {
    let start = Instant::now();
    match scenario {
        "public" => {
            let reply = target.send(Method::GET, "/products/all_products", None, None, None).await;
            target.ok("list", reply).await;
        }
        "authenticated" => {
            let reply = target.send(Method::GET, "/cart/details", Some(token), None, None).await;
            target.ok("cart", reply).await;
        }
        "order" => {
            let email = format!("load-{}@shop.test", ulid::Ulid::new()).to_lowercase();
            target.register(&email).await;
            let token = target.login(&email).await;
            let line = json!({ "product_id": product, "quantity": 1 });
            let reply =
                target.send(Method::POST, "/cart/add_item", Some(&token), Some(line), None).await;
            target.ok("add", reply).await;
            let key = Some(("idempotency-key", ulid::Ulid::new().to_string()));
            let reply =
                target.send(Method::POST, "/orders/create", Some(&token), Some(json!({})), key);
            target.ok("checkout", reply.await).await;
        }
        other => panic!("unknown scenario {other}"),
    }
    start.elapsed()
}

fn percentile(sorted: &[Duration], p: usize) -> f64 {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let [base, scenario, concurrency, seconds, max] = &args[..] else {
        panic!("usage: load BASE_URL SCENARIO CONCURRENCY SECONDS MAX");
    };
    let (concurrency, max): (usize, usize) =
        (concurrency.parse().expect("concurrency"), max.parse().expect("max"));
    let duration = Duration::from_secs(seconds.parse().expect("seconds"));
    let client = Client::builder(TokioExecutor::new()).build_http();
    let target = Target { client, base: base.trim_end_matches('/').to_owned() };
    let product = seed(&target).await;
    let email = format!("reader-{}@shop.test", ulid::Ulid::new()).to_lowercase();
    target.register(&email).await;
    let token = target.login(&email).await;
    let issued = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (target, scenario, token, product) =
            (target.clone(), scenario.clone(), token.clone(), product.clone());
        let issued = issued.clone();
        clients.spawn(async move {
            let mut samples = Vec::new();
            while start.elapsed() < duration
                && issued.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < max
            {
                samples.push(once(&target, &scenario, &token, &product).await);
            }
            samples
        });
    }
    let mut samples: Vec<Duration> = clients.join_all().await.into_iter().flatten().collect();
    let elapsed = start.elapsed().as_secs_f64();
    samples.sort();
    let line = json!({
        "scenario": scenario,
        "concurrency": concurrency,
        "completed": samples.len(),
        "seconds": elapsed,
        "per_second": samples.len() as f64 / elapsed,
        "p50_ms": percentile(&samples, 50),
        "p99_ms": percentile(&samples, 99),
        "max_ms": percentile(&samples, 100),
    });
    println!("{line}");
}
