//! A webhook receiver on loopback: records every request (headers and raw body) and answers
//! with the statuses it is given, in order (then 200), optionally after a delay, or only once
//! the other receivers of a [`Gate`] got their requests too.

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its headers.
    pub headers: HeaderMap,
    /// Its raw body.
    pub body: Bytes,
}

/// Receivers that answer only when each of them has a request in hand at the same time: a
/// request waits for the others' (at most [`Gate::PATIENCE`], then it is answered 503).
#[derive(Debug, Clone)]
pub struct Gate {
    arrived: Arc<AtomicUsize>,
    expected: usize,
}

impl Gate {
    /// How long a request waits for the others'.
    pub const PATIENCE: Duration = Duration::from_secs(3);

    /// A gate for `expected` requests.
    pub fn new(expected: usize) -> Self {
        Self { arrived: Arc::default(), expected }
    }

    /// Counts a request in, then waits for all: whether they all arrived in time.
    async fn pass(&self) -> bool {
        self.arrived.fetch_add(1, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + Self::PATIENCE;
        while self.arrived.load(Ordering::SeqCst) < self.expected {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

#[derive(Default)]
struct Script {
    received: Vec<Received>,
    answers: VecDeque<u16>,
    delay: Option<Duration>,
    gate: Option<Gate>,
}

/// The receiver; stops with the test's runtime.
#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:<port>/hook`.
    pub url: String,
    /// The port.
    pub port: u16,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    /// A receiver answering `answers` in order, then 200.
    pub async fn start(answers: &[u16]) -> Self {
        let script = Arc::new(Mutex::new(Script {
            answers: answers.iter().copied().collect(),
            ..Script::default()
        }));
        let app = Router::new().route("/hook", post(hook)).with_state(Arc::clone(&script));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url: format!("http://127.0.0.1:{port}/hook"), port, script }
    }

    /// Answers only after `delay` from now on.
    pub fn slow(&self, delay: Duration) {
        self.lock().delay = Some(delay);
    }

    /// Answers only through `gate` from now on.
    pub fn meet(&self, gate: &Gate) {
        self.lock().gate = Some(gate.clone());
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// Waits until `count` requests arrived (at most `within`); returns them.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count || tokio::time::Instant::now() >= deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn hook(
    State(script): State<Arc<Mutex<Script>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let (answer, delay, gate) = {
        let mut script = script.lock().unwrap_or_else(|e| e.into_inner());
        script.received.push(Received { headers, body });
        (script.answers.pop_front().unwrap_or(200), script.delay, script.gate.clone())
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(gate) = gate
        && !gate.pass().await
    {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    StatusCode::from_u16(answer).unwrap_or(StatusCode::OK)
}
