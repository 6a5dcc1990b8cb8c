//! E-mail markers (`SentEmailStore`): claimed once, taken over when stale, sent is final.

use super::*;

async fn an_e_mail_marker_is_claimed_once_and_taken_over_only_when_stale(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let order = shared::domain::OrderId::new();
    // A claim at `at` takes over claims made before `at - 120 s` (the lease).
    let marker = |event| EmailMarker { order, event };
    let claim = |event: &'static str, at: Timestamp| async move {
        store.claim_email(marker(event), Claim::new(at, 120)).await.expect("claim")
    };
    let release = |at: Timestamp| async move {
        store.release_email(marker("placed"), at).await.expect("release");
    };
    let now = Timestamp::now();
    assert_eq!(claim("placed", now).await, EmailClaim::Claimed);
    assert_eq!(claim("placed", now).await, EmailClaim::InFlight, "a fresh claim holds");
    assert_eq!(claim("shipped", now).await, EmailClaim::Claimed, "per event");
    // A claim older than the lease belongs to a sender that died: taken over.
    let later = now.plus_seconds(300);
    assert_eq!(claim("placed", later).await, EmailClaim::Claimed);
    // Releasing someone else's (the old) claim does nothing; releasing one's own frees it.
    release(now).await;
    assert_eq!(claim("placed", later).await, EmailClaim::InFlight);
    release(later).await;
    assert_eq!(claim("placed", later).await, EmailClaim::Claimed);
    store.mark_email_sent(marker("placed"), later).await.expect("marked");
    let much_later = later.plus_seconds(86_400);
    // Sent is final, even for a claim that would take over any other (every claim stale).
    let over_everything = Claim { at: much_later, stale_before: much_later, token: 7 };
    let claim_over_everything = || store.claim_email(marker("placed"), over_everything);
    let after_sending = claim_over_everything().await.expect("claim");
    assert_eq!(after_sending, EmailClaim::AlreadySent, "sent is final");
    release(later).await;
    let after_release = claim_over_everything().await.expect("claim");
    assert_eq!(after_release, EmailClaim::AlreadySent);
}

/// A claim whose answer was lost is made again with the same token: it finds itself, where a
/// claim of another delivery (another token) is refused as in flight, and once sent, even the
/// same claim is not sent twice.
async fn the_same_claim_made_again_finds_itself(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let marker = EmailMarker { order: shared::domain::OrderId::new(), event: "placed" };
    let now = Timestamp::now();
    let mine = Claim::new(now, 120);
    let other = Claim { token: mine.token.wrapping_add(1), ..mine };
    assert_eq!(store.claim_email(marker, mine).await.expect("claim"), EmailClaim::Claimed);
    assert_eq!(store.claim_email(marker, mine).await.expect("again"), EmailClaim::Claimed);
    assert_eq!(store.claim_email(marker, other).await.expect("other"), EmailClaim::InFlight);
    store.mark_email_sent(marker, now).await.expect("marked");
    assert_eq!(store.claim_email(marker, mine).await.expect("sent"), EmailClaim::AlreadySent);

    // The same for a webhook delivery.
    let (webhook, event) = (shared::domain::WebhookId::new(), shared::domain::EventId::new());
    let kind = shared::domain::WebhookEventType::OrderPlaced;
    let claim = |claim| store.claim_delivery(webhook, event, kind, claim);
    let first = claim(mine).await.expect("claim");
    assert!(matches!(first, DeliveryClaim::Claimed(_)), "{first:?}");
    let again = claim(mine).await.expect("again");
    assert!(
        matches!(again, DeliveryClaim::Claimed(ref r) if r.state == DeliveryState::Sending),
        "{again:?}"
    );
    let refused = claim(other).await.expect("other");
    assert_eq!(refused, DeliveryClaim::InFlight);
}

contract!(
    an_e_mail_marker_is_claimed_once_and_taken_over_only_when_stale,
    the_same_claim_made_again_finds_itself,
);
