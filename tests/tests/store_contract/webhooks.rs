//! Webhooks (`WebhookStore`): subscriptions with their audit entries and secrets, the cap, and
//! the delivery log's claims (fresh claims hold, stale ones are taken over, due retries are
//! claimable, finished deliveries are done).

use super::*;
use shared::domain::{
    AttemptResult, AuditAction, AuditEntry, EventId, MAX_WEBHOOKS, UrlPolicy, Webhook,
    WebhookEventType, WebhookId, WebhookInput,
};

fn webhook(url: &str) -> Webhook {
    let input = WebhookInput { url: Some(url.into()), events: Some(vec!["order.placed".into()]) };
    Webhook::parse_new(input, UrlPolicy::AllowLoopback, Timestamp::now()).expect("valid")
}

fn entry(action: AuditAction, target: WebhookId) -> AuditEntry {
    AuditEntry::new(UserId::new(), action, target, serde_json::json!({}), Timestamp::now())
}

async fn webhooks_are_created_listed_found_and_deleted_with_their_audit(store: Arc<dyn Store>) {
    let store = store.as_ref();
    assert!(store.list_webhooks().await.expect("list").is_empty());
    let (first, second) = (webhook("http://127.0.0.1:9/a"), webhook("http://127.0.0.1:9/b"));
    let created = entry(AuditAction::WebhookCreated, first.id);
    store.create_webhook(&first, &created).await.expect("created");
    store.create_webhook(&second, &entry(AuditAction::WebhookCreated, second.id)).await.expect("2");
    assert_eq!(store.audit_entry(created.id).await.expect("audit"), Some(created.clone()));

    // Oldest first, secrets included (the worker signs with them).
    let listed = store.list_webhooks().await.expect("list");
    assert_eq!(listed, [first.clone(), second.clone()]);
    assert!(listed.iter().all(|w| w.secret.starts_with("whsec_")));
    assert_eq!(store.find_webhook(first.id).await.expect("find"), Some(first.clone()));
    assert_eq!(store.find_webhook(WebhookId::new()).await.expect("find"), None);

    // The same audit entry twice (its id taken) refuses the write whole.
    let third = webhook("http://127.0.0.1:9/c");
    assert!(store.create_webhook(&third, &created).await.is_err());
    assert_eq!(store.find_webhook(third.id).await.expect("find"), None, "nothing half-written");

    let deleted = entry(AuditAction::WebhookDeleted, first.id);
    store.delete_webhook(first.id, &deleted).await.expect("deleted");
    assert_eq!(store.audit_entry(deleted.id).await.expect("audit"), Some(deleted));
    assert_eq!(store.find_webhook(first.id).await.expect("find"), None);
    assert_eq!(store.list_webhooks().await.expect("list"), [second]);
    let again = store.delete_webhook(first.id, &entry(AuditAction::WebhookDeleted, first.id)).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
}

async fn a_shop_keeps_at_most_the_webhook_cap(store: Arc<dyn Store>) {
    let store = store.as_ref();
    for n in 0..MAX_WEBHOOKS {
        let hook = webhook(&format!("http://127.0.0.1:9/{n}"));
        store
            .create_webhook(&hook, &entry(AuditAction::WebhookCreated, hook.id))
            .await
            .expect("ok");
    }
    let over = webhook("http://127.0.0.1:9/over");
    let refused = store.create_webhook(&over, &entry(AuditAction::WebhookCreated, over.id)).await;
    assert_eq!(conflict(refused), Conflict::WebhookLimit);
    // Deleting one frees its place.
    let first = store.list_webhooks().await.expect("list")[0].id;
    store.delete_webhook(first, &entry(AuditAction::WebhookDeleted, first)).await.expect("gone");
    store.create_webhook(&over, &entry(AuditAction::WebhookCreated, over.id)).await.expect("room");
}

async fn a_delivery_claim_holds_until_stale_and_a_retry_until_due(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let (hook, event) = (WebhookId::new(), EventId::new());
    let kind = WebhookEventType::OrderPlaced;
    let claim = |claim| store.claim_delivery(hook, event, kind, claim);
    let now = Timestamp::now();

    // No record: claimed, nothing attempted yet.
    let DeliveryClaim::Claimed(record) = claim(Claim::new(now, 60)).await.expect("claim") else {
        panic!("a first claim is granted");
    };
    assert_eq!((record.state, record.attempts), (DeliveryState::Sending, 0));
    // Another worker within the lease: refused, the first one is sending.
    assert_eq!(
        claim(Claim::new(now.plus_seconds(30), 60)).await.expect("claim"),
        DeliveryClaim::InFlight
    );
    // After the lease the first worker is presumed dead: taken over.
    let later = now.plus_seconds(61);
    let DeliveryClaim::Claimed(taken) = claim(Claim::new(later, 60)).await.expect("claim") else {
        panic!("a stale claim is taken over");
    };
    assert_eq!(taken.state, DeliveryState::Sending);

    // A failed attempt: retrying in 10 s. Not claimable before, claimable once due.
    let failed = taken.after_attempt(AttemptResult::Answered(503), later, 10);
    store.record_delivery(&failed).await.expect("recorded");
    let early = claim(Claim::new(later.plus_seconds(5), 60)).await.expect("claim");
    assert_eq!(early, DeliveryClaim::NotYet(failed.clone()));
    let due = later.plus_seconds(10);
    let DeliveryClaim::Claimed(retry) = claim(Claim::new(due, 60)).await.expect("claim") else {
        panic!("a due retry is claimable");
    };
    assert_eq!((retry.state, retry.attempts), (DeliveryState::Sending, 1));

    // Delivered: done for every later claim, stale or not.
    let delivered = retry.after_attempt(AttemptResult::Answered(200), due, 10);
    store.record_delivery(&delivered).await.expect("recorded");
    let done = claim(Claim::new(due.plus_seconds(3600), 60)).await.expect("claim");
    assert_eq!(done, DeliveryClaim::Done(delivered));
}

async fn the_delivery_log_is_per_webhook_newest_event_first(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let (hook, other) = (WebhookId::new(), WebhookId::new());
    let kind = WebhookEventType::OrderPlaced;
    let now = Timestamp::now();
    let mut events = Vec::new();
    for _ in 0..3 {
        let event = EventId::new();
        let claimed = store.claim_delivery(hook, event, kind, Claim::new(now, 60)).await;
        let Ok(DeliveryClaim::Claimed(record)) = claimed else { panic!("{claimed:?}") };
        let answered = record.after_attempt(AttemptResult::Answered(200), now, 10);
        store.record_delivery(&answered).await.expect("recorded");
        events.push(event);
    }
    store.claim_delivery(other, EventId::new(), kind, Claim::new(now, 60)).await.expect("other");

    let log = store.deliveries(hook, 10).await.expect("log");
    let ids: Vec<EventId> = log.iter().map(|r| r.event_id).collect();
    assert_eq!(
        ids,
        events.iter().rev().copied().collect::<Vec<_>>(),
        "newest first, this webhook's"
    );
    assert!(log.iter().all(|r| r.state == DeliveryState::Delivered && r.attempts == 1));
    assert_eq!(store.deliveries(hook, 2).await.expect("log").len(), 2, "at most the limit");
    assert_eq!(store.deliveries(WebhookId::new(), 10).await.expect("log"), []);
}

contract!(
    webhooks_are_created_listed_found_and_deleted_with_their_audit,
    a_shop_keeps_at_most_the_webhook_cap,
    a_delivery_claim_holds_until_stale_and_a_retry_until_due,
    the_delivery_log_is_per_webhook_newest_event_first,
);
