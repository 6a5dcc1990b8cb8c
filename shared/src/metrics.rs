//! Business and health metrics as CloudWatch embedded metric format (EMF): one JSON line on
//! standard output per operation, which Lambda's log pipeline turns into CloudWatch metrics
//! without an API call, an agent or a dependency. Dimensions are two and fixed — `function`
//! (the binary: `orders`, `auth`, …) and `operation` (`checkout`, `login`, …) — so every
//! metric is one time series per operation and alarms can name it.
//!
//! Written here rather than through the `metrics` facade with an EMF exporter: a line is one
//! `serde_json` value, and the facade's registry, aggregation and flushing are what Lambda's
//! one-invocation-at-a-time model does not need (and one more thing to flush before a freeze).

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

/// What a metric's value counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Occurrences.
    Count,
    /// Seconds.
    Seconds,
    /// A plain number (an amount of money in the shop's currency).
    None,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Seconds => "Seconds",
            Unit::None => "None",
        }
    }
}

/// One value of one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// Its name (`OrdersPlaced`).
    pub name: &'static str,
    /// The value.
    pub value: f64,
    /// The unit.
    pub unit: Unit,
}

impl Metric {
    /// One occurrence of `name`.
    pub fn count(name: &'static str) -> Self {
        Self { name, value: 1.0, unit: Unit::Count }
    }

    /// `n` occurrences of `name`.
    pub fn counted(name: &'static str, n: u32) -> Self {
        Self { name, value: f64::from(n), unit: Unit::Count }
    }
}

/// Where metrics go.
pub trait MetricsSink: Send + Sync {
    /// Records `metrics` of one `operation`.
    fn publish(&self, operation: &str, metrics: &[Metric]);
}

/// Metrics nowhere (tests that do not look at them).
#[derive(Debug, Default)]
pub struct Discard;

impl MetricsSink for Discard {
    fn publish(&self, _: &str, _: &[Metric]) {}
}

/// EMF lines, on standard output (where CloudWatch reads them on Lambda) or in a file.
#[derive(Debug, Clone)]
pub struct Emf {
    namespace: String,
    function: &'static str,
    file: Option<Arc<Mutex<std::fs::File>>>,
}

impl Emf {
    /// Metrics of `function` under `namespace`.
    pub fn new(namespace: impl Into<String>, function: &'static str) -> Self {
        Self { namespace: namespace.into(), function, file: None }
    }

    /// The same lines appended to `path` instead of standard output (the local server: a
    /// JSON line per request is right on Lambda and noise in a terminal).
    pub fn to_file(self, path: &std::path::Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self { file: Some(Arc::new(Mutex::new(file))), ..self })
    }

    /// Metrics of `function` under the configured namespace ([`crate::config::metrics_namespace`]).
    pub fn from_env(function: &'static str) -> Self {
        let namespace = crate::config::metrics_namespace(&|name| std::env::var(name).ok());
        Self::new(namespace, function)
    }

    /// The EMF document for `metrics` of `operation` at `timestamp_ms` (Unix milliseconds).
    /// Values of the same metric are summed (one value per name per line).
    pub fn document(&self, operation: &str, metrics: &[Metric], timestamp_ms: i64) -> Value {
        let mut summed: Vec<Metric> = Vec::with_capacity(metrics.len());
        for metric in metrics {
            match summed.iter_mut().find(|m| m.name == metric.name) {
                Some(same) => same.value += metric.value,
                None => summed.push(metric.clone()),
            }
        }
        let definitions: Vec<Value> =
            summed.iter().map(|m| json!({ "Name": m.name, "Unit": m.unit.as_str() })).collect();
        let mut root = Map::new();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [["function", "operation"]],
                    "Metrics": definitions,
                }],
            }),
        );
        root.insert("function".into(), self.function.into());
        root.insert("operation".into(), operation.into());
        for metric in summed {
            root.insert(metric.name.into(), json!(metric.value));
        }
        Value::Object(root)
    }
}

impl MetricsSink for Emf {
    fn publish(&self, operation: &str, metrics: &[Metric]) {
        if metrics.is_empty() {
            return;
        }
        let now = time::OffsetDateTime::now_utc();
        let millis = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        let line = self.document(operation, metrics, millis);
        match &self.file {
            // One write per line under the lock, so concurrent lines never interleave.
            Some(file) => {
                if let Ok(mut file) = file.lock() {
                    let _ = writeln!(file, "{line}");
                }
            }
            // Straight to stdout, not through `tracing`: the line must be the bare EMF object.
            None => println!("{line}"),
        }
    }
}

tokio::task_local! {
    static DYNAMODB_REQUESTS: std::cell::Cell<u32>;
}

/// Runs `call` counting the DynamoDB requests made within it (see [`count_dynamodb_request`]);
/// returns its output and the count.
pub async fn counting_dynamodb_requests<F: Future>(call: F) -> (F::Output, u32) {
    DYNAMODB_REQUESTS
        .scope(std::cell::Cell::new(0), async move {
            let output = call.await;
            (output, DYNAMODB_REQUESTS.with(std::cell::Cell::get))
        })
        .await
}

/// Counts one DynamoDB request towards the enclosing [`counting_dynamodb_requests`], if any
/// (the DynamoDB client's interceptor calls it before each transmission, retries included).
pub fn count_dynamodb_request() {
    let _ = DYNAMODB_REQUESTS.try_with(|count| count.set(count.get().saturating_add(1)));
}

/// A Lambda function's metrics: [`Emf::from_env`] for `function`, having published its
/// `ColdStart` (operation `init`). Call once, at start-up.
pub fn cold_start(function: &'static str) -> Arc<Emf> {
    let emf = Emf::from_env(function);
    emf.publish("init", &[Metric::count("ColdStart")]);
    Arc::new(emf)
}

/// Keeps what is published, for tests and for a summary.
#[derive(Debug, Default)]
pub struct Recorder {
    published: Mutex<Vec<(String, Metric)>>,
}

impl Recorder {
    /// Every metric published so far, with its operation.
    pub fn published(&self) -> Vec<(String, Metric)> {
        self.published.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// The sum of the values of `name` published for `operation`.
    pub fn total(&self, operation: &str, name: &str) -> f64 {
        let published = self.published();
        published
            .iter()
            .filter(|(op, m)| op == operation && m.name == name)
            .map(|(_, m)| m.value)
            .sum()
    }
}

impl MetricsSink for Recorder {
    fn publish(&self, operation: &str, metrics: &[Metric]) {
        if let Ok(mut published) = self.published.lock() {
            published.extend(metrics.iter().map(|m| (operation.to_owned(), m.clone())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_declares_every_metric_with_its_unit_under_two_dimensions() {
        let emf = Emf::new("ShopTest", "orders");
        let metrics = [
            Metric::count("OrdersPlaced"),
            Metric { name: "OrderValue", value: 35.82, unit: Unit::None },
        ];
        let line = emf.document("checkout", &metrics, 1_764_000_000_000);
        assert_eq!(
            line,
            json!({
                "_aws": {
                    "Timestamp": 1_764_000_000_000_i64,
                    "CloudWatchMetrics": [{
                        "Namespace": "ShopTest",
                        "Dimensions": [["function", "operation"]],
                        "Metrics": [
                            { "Name": "OrdersPlaced", "Unit": "Count" },
                            { "Name": "OrderValue", "Unit": "None" },
                        ],
                    }],
                },
                "function": "orders",
                "operation": "checkout",
                "OrdersPlaced": 1.0,
                "OrderValue": 35.82,
            })
        );
    }

    #[test]
    fn values_of_one_metric_are_summed_into_one_declaration() {
        let emf = Emf::new("Shop", "order-emails");
        let sent = Metric::count("EmailsSent");
        let metrics = [sent.clone(), Metric::count("EmailsFailed"), sent];
        let line = emf.document("deliver", &metrics, 0);
        assert_eq!(line["EmailsSent"], json!(2.0));
        assert_eq!(line["EmailsFailed"], json!(1.0));
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().map(Vec::len),
            Some(2)
        );
    }

    #[tokio::test]
    async fn dynamodb_requests_are_counted_within_their_scope_only() {
        count_dynamodb_request(); // outside any scope: ignored
        let ((), counted) = counting_dynamodb_requests(async {
            count_dynamodb_request();
            tokio::task::yield_now().await;
            count_dynamodb_request();
        })
        .await;
        assert_eq!(counted, 2);
        let ((), none) = counting_dynamodb_requests(async {}).await;
        assert_eq!(none, 0);
    }

    #[test]
    fn a_recorder_sums_by_operation_and_name() {
        let recorder = Recorder::default();
        recorder.publish("login", &[Metric::count("LoginFailed")]);
        recorder.publish("login", &[Metric::count("LoginFailed"), Metric::count("LoginThrottled")]);
        recorder.publish("checkout", &[Metric::count("LoginFailed")]);
        assert_eq!(recorder.total("login", "LoginFailed"), 2.0);
        assert_eq!(recorder.total("login", "LoginThrottled"), 1.0);
        assert_eq!(recorder.total("login", "LoginSucceeded"), 0.0);
    }
}
