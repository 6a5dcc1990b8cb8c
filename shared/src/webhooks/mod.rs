//! Signed order webhooks: subscriptions an admin manages ([`Webhooks`]), the worker that
//! delivers order events to them with retries ([`deliver::WebhookWorker`]), and the HTTP client
//! it sends with ([`HttpSender`], feature `webhook-client`), which refuses internal addresses
//! after DNS resolution.

use std::net::SocketAddr;

use async_trait::async_trait;

use crate::{
    domain::{
        AttemptResult, AuditAction, AuditEntry, DeliveryRecord, FieldErrors, Timestamp, UrlPolicy,
        UserId, Webhook, WebhookId, WebhookInput,
    },
    retry::{Attempt, with_retries},
    store::{Conflict, StoreError, WebhookStorage},
};

#[cfg(feature = "webhook-client")]
mod client;
pub mod deliver;
#[cfg(feature = "webhook-client")]
pub use client::HttpSender;

/// Deliveries shown per webhook (the most recent events).
pub const DELIVERY_LOG_LIMIT: usize = 100;

/// Sends one signed POST; the result is the receiver's status or why there was none.
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// POSTs `body` to `url` with `headers`.
    async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: &[u8],
    ) -> AttemptResult;
}

/// Why a webhook operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// No such webhook.
    #[error("webhook not found")]
    NotFound,
    /// The shop has [`crate::domain::MAX_WEBHOOKS`] webhooks.
    #[error("too many webhooks")]
    Full,
    /// Invalid fields.
    #[error(transparent)]
    Validation(#[from] FieldErrors),
    /// A storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The addresses `host` resolves to, every one of which `policy` must allow: the check made
/// when a webhook is created and by [`HttpSender`]'s resolver before every connection.
pub async fn resolve_allowed(
    host: &str,
    port: u16,
    policy: UrlPolicy,
) -> Result<Vec<SocketAddr>, String> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| format!("host {host} does not resolve"))?
        .collect();
    if addresses.is_empty() {
        return Err(format!("host {host} does not resolve"));
    }
    if addresses.iter().any(|a| !policy.allows(a.ip())) {
        return Err(format!("host {host} resolves to a private, loopback or link-local address"));
    }
    Ok(addresses)
}

/// Webhook administration over a store.
pub struct Webhooks<'a> {
    /// The storage.
    pub store: &'a dyn WebhookStorage,
    /// Which receivers are allowed.
    pub policy: UrlPolicy,
}

impl Webhooks<'_> {
    /// Creates a webhook from an admin's input, with its audit entry. The URL's host must
    /// resolve, and only to allowed addresses. Returns the webhook with its secret.
    pub async fn create(
        &self,
        actor: UserId,
        input: WebhookInput,
    ) -> Result<Webhook, WebhookError> {
        let now = Timestamp::now();
        let webhook = Webhook::parse_new(input, self.policy, now)?;
        let url =
            url::Url::parse(&webhook.url).map_err(|_| invalid_url("must be an absolute URL"))?;
        if let Some(url::Host::Domain(host)) = url.host() {
            let port = url.port_or_known_default().unwrap_or(443);
            resolve_allowed(host, port, self.policy).await.map_err(invalid_url)?;
        }
        let details = serde_json::json!({ "url": webhook.url, "events": webhook.events });
        let audit = AuditEntry::new(actor, AuditAction::WebhookCreated, webhook.id, details, now);
        // Retry safety: conditional on the new id's absence (and the count); a lost answer is
        // settled by the write's audit entry. So is the deletion.
        let store = self.store;
        counted(|| async {
            crate::audit::settled(store, store.create_webhook(&webhook, &audit).await, audit.id)
                .await
        })
        .await?;
        Ok(webhook)
    }

    /// Every webhook (their secrets are never serialised).
    pub async fn list(&self) -> Result<Vec<Webhook>, WebhookError> {
        Ok(self.store.list_webhooks().await?)
    }

    /// Deletes the webhook with the id in the path, with its audit entry.
    pub async fn delete(&self, actor: UserId, id: &str) -> Result<(), WebhookError> {
        let webhook = self.find(id).await?;
        let details = serde_json::json!({ "url": webhook.url });
        let audit = AuditEntry::new(
            actor,
            AuditAction::WebhookDeleted,
            webhook.id,
            details,
            Timestamp::now(),
        );
        let store = self.store;
        counted(|| async {
            let deleted = store.delete_webhook(webhook.id, &audit).await;
            crate::audit::settled(store, deleted, audit.id).await
        })
        .await
    }

    /// The delivery log of the webhook with the id in the path, newest event first.
    pub async fn deliveries(&self, id: &str) -> Result<Vec<DeliveryRecord>, WebhookError> {
        let webhook = self.find(id).await?;
        Ok(self.store.deliveries(webhook.id, DELIVERY_LOG_LIMIT).await?)
    }

    async fn find(&self, id: &str) -> Result<Webhook, WebhookError> {
        let id: WebhookId = id.parse().map_err(|_| WebhookError::NotFound)?;
        self.store.find_webhook(id).await?.ok_or(WebhookError::NotFound)
    }
}

/// A write that moves the shared webhook count: cancelled by the database when another one
/// held the count at the same moment, so it is tried again after a short pause (4 times).
async fn counted<F, Fut>(write: F) -> Result<(), WebhookError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    let done = with_retries(4, || async {
        match write().await {
            Ok(()) => Ok(Attempt::Done(())),
            Err(StoreError::Conflict(Conflict::TransactionConflict)) => Ok(Attempt::Backoff),
            Err(StoreError::Conflict(Conflict::WebhookLimit)) => Err(WebhookError::Full),
            Err(StoreError::NotFound) => Err(WebhookError::NotFound),
            Err(error) => Err(error.into()),
        }
    })
    .await?;
    done.ok_or(WebhookError::Store(StoreError::Conflict(Conflict::TransactionConflict)))
}

fn invalid_url(message: impl Into<String>) -> WebhookError {
    let mut errors = FieldErrors::new();
    errors.add("url", message);
    WebhookError::Validation(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host is resolved by the system resolver (an address literal resolves to itself), and
    /// refused when an answer is an IPv6 address that carries an IPv4 one, or discards.
    #[tokio::test]
    async fn resolved_translation_and_discard_addresses_are_refused() {
        let refused = [
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "::ffff:0:a9fe:a9fe",
            "2001:0:4136:e378:8000:63bf:5601:5601",
            "100::1",
            "::ffff:169.254.169.254",
        ];
        for host in refused {
            for policy in [UrlPolicy::PublicHttps, UrlPolicy::AllowLoopback] {
                let answer = resolve_allowed(host, 443, policy).await;
                assert!(answer.is_err(), "{host} under {policy:?}: {answer:?}");
            }
        }
        let loopback = resolve_allowed("::1", 8080, UrlPolicy::AllowLoopback).await;
        assert_eq!(loopback.expect("loopback is allowed locally").len(), 1);
        let public = resolve_allowed("2606:4700:4700::1111", 443, UrlPolicy::PublicHttps).await;
        assert_eq!(public.expect("a public address").len(), 1);
    }
}
