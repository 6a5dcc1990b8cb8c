//! The webhook HTTP client: reqwest over rustls, a 5-second timeout, no redirects, no proxy,
//! and a resolver that refuses a host if any of its addresses is one the policy forbids, so the
//! check and the connection use the same resolution (no DNS-rebinding window).

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::{WebhookSender, resolve_allowed};
use crate::domain::{AttemptResult, TIMEOUT_SECONDS, UrlPolicy, check_url};

/// Resolves with the system resolver and keeps only allowed answers (all or nothing).
struct CheckedResolver {
    policy: UrlPolicy,
}

/// A host refused by the policy (found in the error chain to name the cause).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(String);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let addresses = resolve_allowed(name.as_str(), 0, policy).await.map_err(|why| {
                Box::new(Refused(why)) as Box<dyn std::error::Error + Send + Sync>
            })?;
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

/// Sends webhooks over HTTP(S) under a [`UrlPolicy`].
#[derive(Clone, Debug)]
pub struct HttpSender {
    client: reqwest::Client,
    policy: UrlPolicy,
    timeout: Duration,
}

impl HttpSender {
    /// A client that only reaches receivers `policy` allows, waiting [`TIMEOUT_SECONDS`].
    pub fn new(policy: UrlPolicy) -> anyhow::Result<Self> {
        Self::with_timeout(policy, Duration::from_secs(TIMEOUT_SECONDS))
    }

    /// The same client waiting `timeout` for an answer.
    pub fn with_timeout(policy: UrlPolicy, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver { policy }))
            .build()?;
        Ok(Self { client, policy, timeout })
    }

    /// How long it waits for an answer.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// Why a request got no answer, in words for the delivery log (never the URL's secrets).
fn no_answer(error: &reqwest::Error, timeout: Duration) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return format!("refused: {refused}");
        }
        source = cause.source();
    }
    if error.is_timeout() {
        match timeout.subsec_millis() {
            0 => format!("timed out after {} s", timeout.as_secs()),
            _ => format!("timed out after {} ms", timeout.as_millis()),
        }
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    }
}

#[async_trait]
impl WebhookSender for HttpSender {
    async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: &[u8],
    ) -> AttemptResult {
        // IP literals never reach the resolver: check them (and the scheme) here.
        if let Err(why) = check_url(url, self.policy) {
            return AttemptResult::NoAnswer(format!("refused: url {why}"));
        }
        let mut request = self.client.post(url).body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        match request.send().await {
            Ok(response) => AttemptResult::Answered(response.status().as_u16()),
            Err(error) => AttemptResult::NoAnswer(no_answer(&error, self.timeout)),
        }
    }
}
