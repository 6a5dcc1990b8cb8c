//! E-mail markers in memory: one per (order, event).

use async_trait::async_trait;

use super::MemoryStore;
use crate::{
    domain::Timestamp,
    store::{Claim, EmailClaim, EmailMarker, SentEmailStore, StoreResult},
};

#[async_trait]
impl SentEmailStore for MemoryStore {
    async fn claim_email(&self, email: EmailMarker<'_>, claim: Claim) -> StoreResult<EmailClaim> {
        let (now, stale_before) = (claim.at, claim.stale_before);
        let mut inner = self.enter().await;
        let key = (email.order, email.event.to_owned());
        match inner.sent_emails.get(&key) {
            Some((true, _, _)) => Ok(EmailClaim::AlreadySent),
            Some((false, claimed, token)) if *claimed >= stale_before && *token != claim.token => {
                Ok(EmailClaim::InFlight)
            }
            _ => {
                inner.sent_emails.insert(key, (false, now, claim.token));
                inner.answer(Ok(EmailClaim::Claimed))
            }
        }
    }

    async fn mark_email_sent(&self, email: EmailMarker<'_>, now: Timestamp) -> StoreResult<()> {
        self.enter()
            .await
            .sent_emails
            .insert((email.order, email.event.to_owned()), (true, now, 0));
        Ok(())
    }

    async fn release_email(&self, email: EmailMarker<'_>, claimed: Timestamp) -> StoreResult<()> {
        let mut inner = self.enter().await;
        let key = (email.order, email.event.to_owned());
        if inner.sent_emails.get(&key).is_some_and(|&(sent, at, _)| !sent && at == claimed) {
            inner.sent_emails.remove(&key);
        }
        Ok(())
    }
}
