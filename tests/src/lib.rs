//! Helpers for the end-to-end suites: the composed API over either store, requests through
//! the real router (no sockets), and a macro that runs one test body on both stores.
//!
//! The DynamoDB variant talks to the endpoint in `AWS_ENDPOINT_URL` (moto server in
//! `scripts/test.sh`) through the real SDK, with a fresh table per test created from
//! `template.yaml`. Without that variable the DynamoDB tests fail, never skip silently.

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use http_body_util::BodyExt;
use serde_json::Value;
use shared::{
    AppState,
    auth::{TokenConfig, Tokens},
    domain::{AuditAction, AuditEntry, Timestamp},
    notify::RecordingQueue,
    store::{MemoryStore, Store},
};
use tower::ServiceExt;

/// Which store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The in-memory store.
    Memory,
    /// DynamoDB (moto server in the test script).
    Dynamo,
}

/// The secret every test app signs with, so tests can mint their own (expired, forged) tokens.
pub const TEST_SECRET: &[u8] = b"test-secret-that-is-long-enough-for-hs256!";

/// The test admin's e-mail and password.
pub const ADMIN: (&str, &str) = ("root@shop.test", "admin-password-1");

/// Creates the test admin in `state`'s store and returns an access token for it.
pub async fn admin_token(state: &AppState) -> String {
    let (email, password) = ADMIN;
    shared::auth::ensure_admin(state.store(), email, password).await.expect("admin created");
    let logged_in = state.accounts().login(email, password).await.expect("login");
    logged_in.tokens.access_token
}

/// The audit entry of an operator's role change of `user` to `role`.
pub fn role_change(user: &shared::domain::User, role: shared::domain::Role) -> AuditEntry {
    let details = serde_json::json!({ "from": user.role, "to": role, "by": "operator" });
    AuditEntry::new(user.id, AuditAction::AccountRoleChanged, user.id, details, Timestamp::now())
}

/// Registers a customer in `state`'s store and returns an access token for them.
pub async fn customer_token(state: &AppState, email: &str) -> String {
    let accounts = state.accounts();
    accounts.register(email, "a-good-password", None, None).await.expect("registered");
    let logged_in = accounts.login(email, "a-good-password").await.expect("login");
    logged_in.tokens.access_token
}

/// A memory-store state for the Lambda-path tests, with the stage stripped from event paths as
/// the template configures it: `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set for every process
/// cargo runs by `.cargo/config.toml`, never by a test (the environment is shared by threads).
pub fn lambda_state() -> AppState {
    assert_eq!(
        std::env::var("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH").as_deref(),
        Ok("true"),
        "run the tests through cargo in this repository (.cargo/config.toml sets it)"
    );
    AppState::new(Arc::new(MemoryStore::default()), token_config())
}

/// Token settings of the test apps.
pub fn token_config() -> TokenConfig {
    TokenConfig::with_secret(TEST_SECRET.to_vec())
}

/// A store of the given kind; DynamoDB ones get a table of their own.
pub async fn store(backend: Backend) -> Arc<dyn Store> {
    match backend {
        Backend::Memory => Arc::new(MemoryStore::default()),
        Backend::Dynamo => {
            assert!(
                std::env::var_os("AWS_ENDPOINT_URL").is_some(),
                "AWS_ENDPOINT_URL is not set: run the DynamoDB tests through scripts/test.sh, \
                 which starts moto server"
            );
            let table = format!("shop-test-{}", ulid::Ulid::new());
            let store = local::open_dynamo(&table)
                .await
                .expect("creating the test table from template.yaml");
            Arc::new(store)
        }
    }
}

/// The composed API (what the local server serves) over one store.
#[derive(Clone)]
pub struct TestApp {
    /// The composed router, as the local server serves it.
    pub router: Router,
    /// The store behind it.
    pub store: Arc<dyn Store>,
    /// Which store it is.
    pub backend: Backend,
    /// Where the app publishes order events (switch it off to simulate a queue outage).
    pub events: Arc<RecordingQueue>,
}

/// A response: status, headers, and the body parsed as JSON (`Value::Null` if not JSON).
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The `Content-Type`, if any.
    pub content_type: Option<String>,
    /// Every header.
    pub headers: axum::http::HeaderMap,
    /// The body as JSON (`Null` if it is not JSON).
    pub json: Value,
}

impl Reply {
    /// Reads a whole response.
    pub async fn read(response: axum::response::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Self { status, content_type, headers, json }
    }

    /// The envelope's `error` code, if any.
    pub fn code(&self) -> &str {
        self.json["error"].as_str().unwrap_or("")
    }

    /// Asserts a 400 `validation_error` whose `errors` name `field`.
    pub fn assert_invalid(&self, field: &str) {
        assert_eq!(
            self.outcome(),
            (StatusCode::BAD_REQUEST, "validation_error"),
            "{field}: {:?}",
            self.json
        );
        assert!(self.json["errors"][field].is_array(), "{field}: {:?}", self.json);
    }

    /// The status and the envelope's `error` code, to compare with the expected pair at once.
    pub fn outcome(&self) -> (StatusCode, &str) {
        (self.status, self.code())
    }
}

impl TestApp {
    /// The app over a new store of the kind (a fresh table for DynamoDB).
    pub async fn new(backend: Backend) -> Self {
        Self::over(store(backend).await, backend)
    }

    /// The app over a store built by the caller, publishing to a [`RecordingQueue`].
    pub fn over(store: Arc<dyn Store>, backend: Backend) -> Self {
        let events = Arc::new(RecordingQueue::default());
        let mut app = Self::publishing_to(store, backend, Arc::clone(&events) as _);
        app.events = events;
        app
    }

    /// The app over a store built by the caller, publishing order events to `publisher`
    /// (`events` then records nothing).
    pub fn publishing_to(
        store: Arc<dyn Store>,
        backend: Backend,
        publisher: Arc<dyn shared::notify::EventPublisher>,
    ) -> Self {
        let state = AppState::new(Arc::clone(&store), token_config()).with_events(publisher);
        Self {
            router: local::app(state),
            store,
            backend,
            events: Arc::new(RecordingQueue::default()),
        }
    }

    /// An app over the same store and event recorder with other settings (`tokens`, and
    /// whatever `configure` sets on the state: login policy, CORS origins).
    pub fn with_settings(
        &self,
        tokens: TokenConfig,
        configure: impl FnOnce(AppState) -> AppState,
    ) -> Self {
        let state = AppState::new(Arc::clone(&self.store), tokens)
            .with_events(Arc::clone(&self.events) as Arc<dyn shared::notify::EventPublisher>);
        Self {
            router: local::app(configure(state)),
            store: Arc::clone(&self.store),
            backend: self.backend,
            events: Arc::clone(&self.events),
        }
    }

    /// A signer with the app's settings, for minting tokens the app did not issue.
    pub fn tokens(&self) -> Tokens {
        Tokens::new(token_config())
    }

    /// An admin access token for `user`, signed with the real key, naming a session that was
    /// never opened: what an attacker holding the signing key could mint.
    pub fn minted_admin_token(&self, user: shared::domain::UserId, email: &str) -> String {
        use shared::domain::{Email, Role, SessionId, Timestamp, TokenId};
        let email = Email::parse(email).expect("email");
        let subject = (user, &email, Role::Admin);
        let (session, now) = (SessionId::new(), Timestamp::now());
        self.tokens()
            .issue(shared::auth::TokenKind::Access, subject, session, TokenId::new(), now)
            .expect("signed")
    }

    /// Sends a request built by the caller. An error answer's code must be one `openapi.yaml`
    /// lists for the operation ([`error_codes::check`]).
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let (method, path) = (request.method().clone(), request.uri().to_string());
        let response =
            self.router.clone().oneshot(request).await.expect("the router is infallible");
        let reply = Reply::read(response).await;
        if !reply.status.is_success() {
            error_codes::check(&method, &path, &reply.json);
        }
        reply
    }

    /// `method path` with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).expect("request")).await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::DELETE, path, token, None).await
    }

    /// `PUT /orders/{order}/status` with `{"status": status}` as `token`.
    pub async fn set_status(&self, token: &str, order: &str, status: &str) -> Reply {
        let path = format!("/orders/{order}/status");
        let body = serde_json::json!({ "status": status });
        self.call(Method::PUT, &path, Some(token), Some(body)).await
    }

    /// Changes the role of account `id` straight in the store, as the operator's
    /// `create-admin` does.
    pub async fn set_role(&self, id: shared::domain::UserId, role: shared::domain::Role) {
        let user = self.store.find_user(id).await.expect("read").expect("exists");
        self.store.set_role(&user, role, &role_change(&user, role)).await.expect("role set");
    }

    /// Registers a customer and returns the reply.
    pub async fn register(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/auth/register",
            None,
            serde_json::json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Logs in; panics unless it succeeds. Returns (access, refresh).
    pub async fn login(&self, email: &str, password: &str) -> (String, String) {
        let reply = self
            .post("/auth/login", None, serde_json::json!({ "email": email, "password": password }))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "login failed: {:?}", reply.json);
        let tokens = &reply.json["tokens"];
        (
            tokens["access_token"].as_str().expect("access").to_owned(),
            tokens["refresh_token"].as_str().expect("refresh").to_owned(),
        )
    }

    /// Creates an admin the only way there is (outside HTTP) and logs in as it over HTTP.
    pub async fn admin(&self) -> String {
        let (email, password) = ADMIN;
        shared::auth::ensure_admin(self.store.as_ref(), email, password)
            .await
            .expect("admin created");
        self.login(email, password).await.0
    }
}

/// Runs each named `async fn name(app: TestApp)` of the calling file once per store, as the
/// tests `name::memory` and `name::dynamodb`: `both_stores!(first_case, second_case);`. The
/// bodies are ordinary functions, formatted and linted like any other code.
#[macro_export]
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                // Several workers, so concurrent requests in a case really run in parallel
                // (the memory store also yields at every call; see `MemoryStore::enter`).
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn memory() {
                    super::$name($crate::TestApp::new($crate::Backend::Memory).await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn dynamodb() {
                    super::$name($crate::TestApp::new($crate::Backend::Dynamo).await).await;
                }
            }
        )*
    };
}

/// A route a function serves: (function, METHOD, path).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceRoute {
    /// The function's crate.
    pub function: String,
    /// The HTTP method, upper-case.
    pub method: String,
    /// The path template.
    pub path: String,
}

/// Every route of every API function: the operations each function declares
/// (`shared::operations!`), placed by the operation table. A route added to a function and
/// not to the OpenAPI document or the template is caught by the checks built on this.
pub fn source_routes() -> Vec<SourceRoute> {
    let functions: [(&str, &[&str]); 5] = [
        ("auth", auth::OPERATIONS),
        ("products", products::OPERATIONS),
        ("coupons", coupons::OPERATIONS),
        ("cart", cart::OPERATIONS),
        ("orders", orders::OPERATIONS),
    ];
    let mut routes: Vec<SourceRoute> = functions
        .iter()
        .flat_map(|(function, operations)| {
            operations.iter().map(|id| {
                let operation = shared::http::operation(id);
                SourceRoute {
                    function: (*function).to_owned(),
                    method: operation.method.to_owned(),
                    path: operation.path.to_owned(),
                }
            })
        })
        .collect();
    routes.sort();
    routes
}

/// The SAM template, parsed (intrinsic tags such as `!Ref` become tagged values).
pub fn template() -> serde_norway::Value {
    serde_norway::from_str(local::TEMPLATE_YAML).expect("template.yaml parses")
}

/// Feeds `events/<name>.json`, with each `{{placeholder}}` replaced, through lambda_http's
/// own event deserialisation into `router`, as `lambda_http::run` does on AWS. The process
/// must have `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` set, as the template sets it.
pub async fn invoke_event(router: &Router, name: &str, substitutions: &[(&str, &str)]) -> Reply {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let mut json = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (placeholder, value) in substitutions {
        json = json.replace(&format!("{{{{{placeholder}}}}}"), value);
    }
    let request = lambda_http::request::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(
        !request.uri().path().starts_with("/v1/"),
        "{name}: the stage must be stripped, got {}",
        request.uri()
    );
    let response = router.clone().oneshot(request).await.expect("infallible");
    Reply::read(response).await
}

/// An order placed through the API by a new customer.
#[derive(Debug, Clone)]
pub struct PlacedOrder {
    /// An admin's access token.
    pub admin: String,
    /// The customer's e-mail and access token.
    pub email: String,
    /// The buyer's access token.
    pub buyer: String,
    /// The order as `POST /orders/create` answered it.
    pub order: Value,
}

/// An admin creates a product with one variant (`sku`, 5 in stock, `price`); a new customer
/// `email` puts `quantity` of it in the cart and checks out.
pub async fn place_order(
    app: &TestApp,
    email: &str,
    name: &str,
    sku: &str,
    price: &str,
    quantity: u32,
) -> PlacedOrder {
    let admin = app.admin().await;
    app.register(email, "a-good-password").await;
    let (buyer, _) = app.login(email, "a-good-password").await;
    let body = serde_json::json!({ "name": name, "category": "c", "variants": [{ "sku": sku, "stock": 5, "price": price }] });
    let product = app.post("/products/create_product", Some(&admin), body).await;
    assert_eq!(product.status, StatusCode::CREATED, "{:?}", product.json);
    let id = product.json["product"]["id"].as_str().expect("id");
    let added = app
        .post(
            "/cart/add_item",
            Some(&buyer),
            serde_json::json!({ "product_id": id, "quantity": quantity }),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{:?}", added.json);
    let placed = app.post("/orders/create", Some(&buyer), serde_json::json!({})).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.json);
    PlacedOrder { admin, email: email.to_owned(), buyer, order: placed.json["order"].clone() }
}

/// The SQS event `events/<name>.json` with `{{placeholder}}`s replaced, as Lambda hands it
/// to a function.
pub fn invoke_sqs_event(
    name: &str,
    substitutions: &[(&str, &str)],
) -> aws_lambda_events::event::sqs::SqsEvent {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let mut json = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (placeholder, value) in substitutions {
        json = json.replace(&format!("{{{{{placeholder}}}}}"), value);
    }
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// An edge cache that records what it was asked to flush.
#[derive(Default)]
pub struct RecordingEdgeCache {
    /// Every stage flushed, in order.
    pub flushed: std::sync::Mutex<Vec<shared::edge::ApiStage>>,
}

#[async_trait::async_trait]
impl shared::edge::EdgeCache for RecordingEdgeCache {
    async fn flush(&self, stage: &shared::edge::ApiStage) -> anyhow::Result<()> {
        self.flushed.lock().expect("lock").push(stage.clone());
        Ok(())
    }
}

pub mod error_codes;
pub mod fanout;
pub mod payments;
pub mod receiver;
pub mod sdk;
