//! Address books, the audit trail, webhooks and their delivery log in memory.

use std::ops::Bound;

use async_trait::async_trait;

use super::MemoryStore;
use crate::{
    domain::{
        Address, AuditEntry, DeliveryRecord, DeliveryState, EventId, MAX_WEBHOOKS, UserId, Webhook,
        WebhookEventType, WebhookId,
    },
    store::{
        AddressStore, AuditPage, AuditQuery, AuditStore, Claim, Conflict, DeliveryClaim,
        StoreError, StoreResult, StoredAddresses, VersionedWrite, WebhookStore,
    },
};

#[async_trait]
impl AddressStore for MemoryStore {
    async fn addresses(&self, user: UserId) -> StoreResult<StoredAddresses> {
        Ok(self.enter().await.addresses.get(&user).cloned().unwrap_or_default())
    }

    async fn save_addresses(&self, write: VersionedWrite<'_, Address>) -> StoreResult<u64> {
        let VersionedWrite { user, version, items: addresses, write_id } = write;
        let mut inner = self.enter().await;
        let current = inner.addresses.get(&user).map_or(0, |book| book.version);
        if current != version {
            return Err(StoreError::Conflict(Conflict::AddressesChanged));
        }
        let next = version + 1;
        let book = StoredAddresses {
            addresses: addresses.to_vec(),
            version: next,
            write_id: Some(write_id.to_owned()),
        };
        inner.addresses.insert(user, book);
        inner.answer(Ok(next))
    }
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn audit_entry(&self, id: crate::domain::AuditId) -> StoreResult<Option<AuditEntry>> {
        Ok(self.enter().await.audit.get(&id).cloned())
    }

    async fn audit_entries(&self, query: &AuditQuery) -> StoreResult<AuditPage> {
        let inner = self.enter().await;
        let upper = query.after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut entries: Vec<AuditEntry> = inner
            .audit
            .range((Bound::Unbounded, upper))
            .rev()
            .map(|(_, entry)| entry)
            .filter(|entry| query.action.is_none_or(|action| entry.action == action))
            .take(query.limit + 1)
            .cloned()
            .collect();
        let more = entries.len() > query.limit;
        entries.truncate(query.limit);
        Ok(AuditPage { next: more.then(|| entries.last().map(|e| e.id)).flatten(), entries })
    }
}

#[async_trait]
impl WebhookStore for MemoryStore {
    async fn create_webhook(&self, webhook: &Webhook, audit: &AuditEntry) -> StoreResult<()> {
        let mut inner = self.enter().await;
        if inner.webhooks.len() >= MAX_WEBHOOKS as usize {
            return Err(StoreError::Conflict(Conflict::WebhookLimit));
        }
        inner.check_audit(audit)?;
        inner.webhooks.insert(webhook.id, webhook.clone());
        inner.audit(audit);
        inner.answer(Ok(()))
    }

    async fn list_webhooks(&self) -> StoreResult<Vec<Webhook>> {
        Ok(self.enter().await.webhooks.values().cloned().collect())
    }

    async fn find_webhook(&self, id: WebhookId) -> StoreResult<Option<Webhook>> {
        Ok(self.enter().await.webhooks.get(&id).cloned())
    }

    async fn delete_webhook(&self, id: WebhookId, audit: &AuditEntry) -> StoreResult<()> {
        let mut inner = self.enter().await;
        if !inner.webhooks.contains_key(&id) {
            return Err(StoreError::NotFound);
        }
        inner.check_audit(audit)?;
        inner.webhooks.remove(&id);
        inner.audit(audit);
        inner.answer(Ok(()))
    }

    async fn claim_delivery(
        &self,
        webhook: WebhookId,
        event: EventId,
        event_type: WebhookEventType,
        claim: Claim,
    ) -> StoreResult<DeliveryClaim> {
        let mut inner = self.enter().await;
        let inner_claim = inner.delivery_claims.get(&(webhook, event)).copied();
        let record = inner.deliveries.entry((webhook, event)).or_insert_with(|| DeliveryRecord {
            webhook_id: webhook,
            event_id: event,
            event_type,
            state: DeliveryState::Retrying,
            attempts: 0,
            last_status: None,
            last_error: None,
            delivered_at: None,
            next_attempt_at: None,
            claimed_at: None,
        });
        let found = match record.state {
            DeliveryState::Delivered | DeliveryState::Failed => {
                return Ok(DeliveryClaim::Done(record.clone()));
            }
            DeliveryState::Sending
                if record.claimed_at.is_some_and(|at| at >= claim.stale_before)
                    && inner_claim != Some(claim.token) =>
            {
                return Ok(DeliveryClaim::InFlight);
            }
            DeliveryState::Retrying if record.next_attempt_at.is_some_and(|due| due > claim.at) => {
                return Ok(DeliveryClaim::NotYet(record.clone()));
            }
            _ => record,
        };
        found.state = DeliveryState::Sending;
        found.claimed_at = Some(claim.at);
        let claimed = found.clone();
        inner.delivery_claims.insert((webhook, event), claim.token);
        inner.answer(Ok(DeliveryClaim::Claimed(claimed)))
    }

    async fn record_delivery(&self, record: &DeliveryRecord) -> StoreResult<()> {
        self.enter().await.deliveries.insert((record.webhook_id, record.event_id), record.clone());
        Ok(())
    }

    async fn deliveries(
        &self,
        webhook: WebhookId,
        limit: usize,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        let inner = self.enter().await;
        Ok(inner
            .deliveries
            .range((webhook, EventId::MIN)..=(webhook, EventId::MAX))
            .rev()
            .take(limit)
            .map(|(_, record)| record.clone())
            .collect())
    }
}
