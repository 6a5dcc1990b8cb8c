//! E-mail markers: `SENT#<oid>#<event>/SENT` with `state` (`sending` or `sent`) and
//! `claimed_at` (Unix seconds), `claim_token`, and `ttl` 30 days on. A claim is a conditional
//! put: absent, a `sending` claim older than the lease, or this same claim (its token) made
//! again, which is how a claim whose answer was lost is retried safely.

use super::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{DynamoStore, attrs::n, attrs::s, classify, is_condition_failure};
use crate::{
    domain::Timestamp,
    store::{Claim, EmailClaim, EmailMarker, SentEmailStore, StoreResult},
};

const SENDING: &str = "sending";
/// Markers expire (DynamoDB TTL) 30 days after their claim: longer than any order event can
/// stay in the queue (4 days) or its dead-letter queue (14 days), so no redelivery outlives its
/// marker.
pub(crate) const MARKER_TTL_SECONDS: i64 = 30 * 86_400;
const SENT: &str = "sent";

#[async_trait]
impl SentEmailStore for DynamoStore {
    async fn claim_email(&self, email: EmailMarker<'_>, claim: Claim) -> StoreResult<EmailClaim> {
        let (now, stale_before) = (claim.at, claim.stale_before);
        let result = self
            .put_item()
            .item("PK", s(keys::sent_email(email.order, email.event)))
            .item("SK", s(keys::SENT_EMAIL))
            .item("state", s(SENDING))
            .item("claimed_at", n(now.unix()))
            .item("claim_token", AttributeValue::N(claim.token.to_string()))
            .item("ttl", n(now.unix() + MARKER_TTL_SECONDS))
            .condition_expression(
                "attribute_not_exists(PK) \
                 OR (#state = :sending AND (claimed_at < :stale OR claim_token = :token))",
            )
            .expression_attribute_values(":token", AttributeValue::N(claim.token.to_string()))
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sending", s(SENDING))
            .expression_attribute_values(":stale", n(stale_before.unix()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(EmailClaim::Claimed),
            Err(error) if is_condition_failure(&error) => {
                // Sent, or another claim in flight (never this one: it would have passed).
                let marker =
                    self.get(keys::sent_email(email.order, email.event), keys::SENT_EMAIL).await?;
                match marker {
                    Some(item) if item.s("state")? == SENT => Ok(EmailClaim::AlreadySent),
                    _ => Ok(EmailClaim::InFlight),
                }
            }
            Err(error) => Err(classify("PutItem", error)),
        }
    }

    async fn mark_email_sent(&self, email: EmailMarker<'_>, now: Timestamp) -> StoreResult<()> {
        self.update_item(keys::sent_email(email.order, email.event), keys::SENT_EMAIL)
            .update_expression("SET #state = :sent, sent_at = :now")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sent", s(SENT))
            .expression_attribute_values(":now", n(now.unix()))
            .send()
            .await
            .map_err(|e| classify("UpdateItem", e))?;
        Ok(())
    }

    async fn release_email(&self, email: EmailMarker<'_>, claimed: Timestamp) -> StoreResult<()> {
        let result = self
            .delete_item(keys::sent_email(email.order, email.event), keys::SENT_EMAIL)
            .condition_expression("#state = :sending AND claimed_at = :claimed")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sending", s(SENDING))
            .expression_attribute_values(":claimed", n(claimed.unix()))
            .send()
            .await;
        match result {
            // Not ours any more (taken over or sent): leave it.
            Ok(_) => Ok(()),
            Err(error) if is_condition_failure(&error) => Ok(()),
            Err(error) => Err(classify("DeleteItem", error)),
        }
    }
}
