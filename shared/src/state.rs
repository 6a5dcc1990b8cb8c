//! What every handler shares: storage, token signer, password hasher. Built once per cold
//! start and cloned cheaply per request.

use std::sync::Arc;

use crate::{
    auth::{Accounts, LoginPolicy, PasswordHasher, TokenConfig, Tokens},
    config::{Config, CorsOrigins, FromEnvironment},
    domain::{Clock, SystemClock, UrlPolicy},
    edge::{EdgeCache, NoEdgeCache},
    metrics::{Discard, MetricsSink},
    notify::{EventPublisher, NoQueue},
    store::{DynamoStore, Store},
};

/// The shared state of every router.
#[derive(Clone)]
pub struct AppState {
    store: Arc<dyn Store>,
    tokens: Arc<Tokens>,
    hasher: PasswordHasher,
    edge: Arc<dyn EdgeCache>,
    events: Arc<dyn EventPublisher>,
    login: LoginPolicy,
    cors: Arc<CorsOrigins>,
    metrics: Arc<dyn MetricsSink>,
    webhook_policy: UrlPolicy,
    payments: Option<Arc<crate::payments::PaymentSettings>>,
    holds: Arc<dyn crate::payments::holds::HoldTimer>,
    clock: Arc<dyn Clock>,
}

impl AppState {
    /// State over any store.
    pub fn new(store: Arc<dyn Store>, tokens: TokenConfig) -> Self {
        Self {
            store,
            tokens: Arc::new(Tokens::new(tokens)),
            hasher: PasswordHasher,
            edge: Arc::new(NoEdgeCache),
            events: Arc::new(NoQueue),
            login: LoginPolicy::default(),
            cors: Arc::new(CorsOrigins::Any),
            metrics: Arc::new(Discard),
            webhook_policy: UrlPolicy::PublicHttps,
            payments: None,
            holds: Arc::new(crate::payments::holds::SweepOnly),
            clock: Arc::new(SystemClock),
        }
    }

    /// The same state reading time from `clock` (tests advance one instead of sleeping).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The clock the services read time from.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The same state announcing unpaid holds to `holds` (the sweeper alone ends them
    /// unless set).
    pub fn with_hold_timer(mut self, holds: Arc<dyn crate::payments::holds::HoldTimer>) -> Self {
        self.holds = holds;
        self
    }

    /// The same state taking payments under `settings`.
    pub fn with_payments(mut self, settings: crate::payments::PaymentSettings) -> Self {
        self.payments = Some(Arc::new(settings));
        self
    }

    /// How the shop takes payments, if it does.
    pub fn payment_settings(&self) -> Option<&crate::payments::PaymentSettings> {
        self.payments.as_deref()
    }

    /// The same state accepting webhook URLs under `policy` (deployed: public HTTPS only).
    pub fn with_webhook_policy(mut self, policy: UrlPolicy) -> Self {
        self.webhook_policy = policy;
        self
    }

    /// The customer's address book.
    pub fn addresses(&self) -> crate::addresses::Addresses<'_> {
        crate::addresses::Addresses { store: self.store.as_ref() }
    }

    /// The admin audit trail.
    pub fn audit(&self) -> crate::audit::AuditLog<'_> {
        crate::audit::AuditLog { store: self.store.as_ref() }
    }

    /// Webhook administration.
    pub fn webhooks(&self) -> crate::webhooks::Webhooks<'_> {
        crate::webhooks::Webhooks { store: self.store.as_ref(), policy: self.webhook_policy }
    }

    /// The same state publishing business metrics to `metrics` ([`Discard`] unless set).
    pub fn with_metrics(mut self, metrics: Arc<dyn MetricsSink>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Where business metrics go.
    pub fn metrics(&self) -> &dyn MetricsSink {
        self.metrics.as_ref()
    }

    /// The same state with another login throttling policy.
    pub fn with_login_policy(mut self, login: LoginPolicy) -> Self {
        self.login = login;
        self
    }

    /// The same state allowing these browser origins.
    pub fn with_cors(mut self, cors: CorsOrigins) -> Self {
        self.cors = Arc::new(cors);
        self
    }

    /// The browser origins allowed to call the API.
    pub fn cors(&self) -> &CorsOrigins {
        &self.cors
    }

    /// The same state publishing order events to `events` (none: they stay in the outbox).
    pub fn with_events(mut self, events: Arc<dyn EventPublisher>) -> Self {
        self.events = events;
        self
    }

    /// The same state with an edge cache to flush after catalog writes.
    pub fn with_edge_cache(mut self, edge: Arc<dyn EdgeCache>) -> Self {
        self.edge = edge;
        self
    }

    /// The edge cache in front of the API ([`NoEdgeCache`] unless set).
    pub fn edge_cache(&self) -> &dyn EdgeCache {
        self.edge.as_ref()
    }

    /// The Lambda start-up: configuration from the environment, the SDK's default chain,
    /// and one warm-up read so the first request does not pay the TLS handshake.
    pub async fn from_env() -> anyhow::Result<Self> {
        let sdk = aws_config::load_from_env().await;
        Self::from_sdk(&sdk).await
    }

    /// [`AppState::from_env`] with an SDK configuration already loaded (to share it with
    /// other clients).
    pub async fn from_sdk(sdk: &aws_config::SdkConfig) -> anyhow::Result<Self> {
        let config = Config::from_env()?;
        let store = DynamoStore::new(DynamoStore::client(sdk), config.table_name);
        store.warm_up().await;
        Ok(Self::new(Arc::new(store), config.tokens)
            .with_login_policy(config.login)
            .with_cors(config.cors))
    }

    /// The storage.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Checkout and orders.
    pub fn orders(&self) -> crate::orders::Orders<'_> {
        crate::orders::Orders {
            store: self.store.as_ref(),
            events: self.events.as_ref(),
            metrics: self.metrics.as_ref(),
            payments: self.payments.as_deref(),
            holds: self.holds.as_ref(),
        }
    }

    /// The cart operations.
    pub fn carts(&self) -> crate::cart::Carts<'_> {
        crate::cart::Carts { store: self.store.as_ref() }
    }

    /// The coupon operations.
    pub fn coupons(&self) -> crate::coupons::Coupons<'_> {
        crate::coupons::Coupons { store: self.store.as_ref() }
    }

    /// The catalog operations.
    pub fn catalog(&self) -> crate::catalog::Catalog<'_> {
        crate::catalog::Catalog { store: self.store.as_ref() }
    }

    /// The account operations.
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts {
            store: self.store.as_ref(),
            tokens: &self.tokens,
            hasher: &self.hasher,
            policy: self.login,
            metrics: self.metrics.as_ref(),
            clock: self.clock.as_ref(),
        }
    }
}
