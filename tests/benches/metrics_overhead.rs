//! `cargo bench -p e2e --bench metrics_overhead > /dev/null`: what publishing metrics costs per
//! request. The same calls through the composed router on the memory store, once with metrics
//! discarded and once as EMF lines on standard output (redirect it), alternating rounds so
//! both see the same machine. Prints medians to standard error.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use e2e::{Backend, TestApp};
use serde_json::json;
use shared::metrics::{Discard, Emf, MetricsSink};

const CALLS: usize = 2_000;
const ROUNDS: usize = 15;

async fn time_calls(app: &TestApp, path: &str, token: &str) -> Duration {
    let started = Instant::now();
    for _ in 0..CALLS {
        let reply = app.get(path, Some(token)).await;
        assert_eq!(reply.status, axum::http::StatusCode::OK);
    }
    started.elapsed() / u32::try_from(CALLS).unwrap_or(u32::MAX)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort_unstable();
    values[values.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = TestApp::new(Backend::Memory).await;
    let admin = app.admin().await;
    let body = json!({ "name": "Mug", "category": "c", "variants": [{ "sku": "M-1", "stock": 5, "price": "8.00" }] });
    let created = app.post("/products/create_product", Some(&admin), body).await;
    let product =
        format!("/products/{}", created.json["product"]["id"].as_str().unwrap_or_default());
    let sinks: [(&str, Arc<dyn MetricsSink>); 2] =
        [("discarded", Arc::new(Discard)), ("EMF to stdout", Arc::new(Emf::new("Bench", "bench")))];
    let apps: Vec<_> = sinks
        .iter()
        .map(|(_, sink)| {
            let sink = Arc::clone(sink);
            app.with_settings(e2e::token_config(), |state| state.with_metrics(sink))
        })
        .collect();
    for path in ["/auth/protected", product.as_str()] {
        let mut timings = [Vec::new(), Vec::new()];
        for _ in 0..ROUNDS {
            for (at, app) in apps.iter().enumerate() {
                timings[at].push(time_calls(app, path, &admin).await);
            }
        }
        let [discarded, emf] = [median(timings[0].clone()), median(timings[1].clone())];
        eprintln!(
            "GET {path}: metrics {}: {:.1} µs, {}: {:.1} µs per request (+{:.1} µs)",
            sinks[0].0,
            discarded.as_secs_f64() * 1e6,
            sinks[1].0,
            emf.as_secs_f64() * 1e6,
            (emf.as_secs_f64() - discarded.as_secs_f64()) * 1e6
        );
    }
}
