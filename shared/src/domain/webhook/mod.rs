//! Webhook subscriptions: which order events go to which URL, and the rules of their
//! delivery, one concern per file: [`url_policy`] (server-side request forgery), [`signing`]
//! (the signature), [`delivery`] (attempts and backoff).

mod delivery;
mod signing;
mod url_policy;

use serde::{Deserialize, Serialize};

pub use super::webhook_event::{WebhookEventType, payload};
use super::{FieldErrors, Timestamp, WebhookId};
pub use delivery::{
    AttemptResult, DeliveryRecord, DeliveryState, MAX_ATTEMPTS, TIMEOUT_SECONDS, backoff_seconds,
};
use signing::new_secret;
pub use signing::{EVENT_ID_HEADER, SIGNATURE_HEADER, signature};
pub use url_policy::{UrlPolicy, check_url, is_public};

/// How many webhooks a shop may have: one event's deliveries, 8 at a time within 5 s each,
/// then fit the worker's batch in its timeout.
pub const MAX_WEBHOOKS: u32 = 16;

/// A subscription: order events of `events` are POSTed to `url`, signed with `secret`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// The id.
    pub id: WebhookId,
    /// Where events go.
    pub url: String,
    /// What it receives.
    pub events: Vec<WebhookEventType>,
    /// The signing secret: shown once, when created, and never serialised with the webhook.
    #[serde(skip_serializing, default)]
    pub secret: String,
    /// When it was created (UTC).
    pub created_at: Timestamp,
}

/// `POST /admin/webhooks`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// The receiver's URL.
    pub url: Option<String>,
    /// Event types, at least one.
    pub events: Option<Vec<String>>,
}

impl Webhook {
    /// A new webhook from an admin's input under `policy`, with a fresh secret.
    pub fn parse_new(
        input: WebhookInput,
        policy: UrlPolicy,
        now: Timestamp,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let url = match input.url {
            Some(url) => errors.check("url", check_url(&url, policy)),
            None => {
                errors.add("url", "is required");
                None
            }
        };
        let mut events = Vec::new();
        match input.events {
            None => errors.add("events", "is required"),
            Some(names) if names.is_empty() => errors.add("events", "must name at least one event"),
            Some(names) => {
                for name in names {
                    match WebhookEventType::parse(&name) {
                        Some(t) if !events.contains(&t) => events.push(t),
                        Some(_) => {}
                        None => errors.add(
                            "events",
                            format!(
                                "unknown event {name:?}: use order.placed or order.status_changed"
                            ),
                        ),
                    }
                }
            }
        }
        let secret = new_secret();
        errors.into_result(|| Webhook {
            id: WebhookId::new(),
            url: url.map(String::from).unwrap_or_default(),
            events,
            secret,
            created_at: now,
        })
    }

    /// Whether it receives events of this type.
    pub fn wants(&self, event_type: WebhookEventType) -> bool {
        self.events.contains(&event_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_webhook_needs_a_url_and_known_events_and_gets_a_secret() {
        let input = |v: serde_json::Value| serde_json::from_value::<WebhookInput>(v).unwrap();
        let now = Timestamp::now();
        let hook = Webhook::parse_new(
            input(serde_json::json!({"url": "https://a.example/h", "events": ["order.placed", "order.placed"]})),
            UrlPolicy::PublicHttps,
            now,
        )
        .unwrap();
        assert_eq!(hook.events, vec![WebhookEventType::OrderPlaced]);
        assert!(hook.secret.starts_with("whsec_") && hook.secret.len() == 70);
        assert!(serde_json::to_value(&hook).unwrap().get("secret").is_none());
        let errors = Webhook::parse_new(
            input(serde_json::json!({"events": ["order.shipped"]})),
            UrlPolicy::PublicHttps,
            now,
        )
        .unwrap_err();
        assert!(errors.get("url").is_some() && errors.get("events").is_some());
        let none = Webhook::parse_new(
            input(serde_json::json!({"url": "https://a.example/h", "events": []})),
            UrlPolicy::PublicHttps,
            now,
        );
        assert!(none.unwrap_err().get("events").is_some());
    }
}
