//! Payments (`PaymentStore`): order changes conditional on status and revision with their
//! ledger entries, ledger entries written once per state, the unpaid holds and the watch list.

use super::*;
use shared::domain::{LedgerEntry, LedgerKind, LedgerStatus, OrderId, Payment};
use shared::store::OrderUpdate;

/// An unpaid order of `user` placed with a hold ending at `hold_until`, under `max_unpaid`.
async fn unpaid_order(
    store: &dyn Store,
    user: UserId,
    hold_until: Timestamp,
    max_unpaid: u32,
) -> Result<Order, StoreError> {
    let mug = item("Mug", "k", &[&format!("PAY-{}", UserId::new())]);
    store.create_product(&mug, &audit()).await.expect("created");
    let sku = mug.variants[0].sku.as_str().to_owned();
    let lines = [line(&mug, &sku, 1)];
    let before = store.cart(user).await.expect("cart").version;
    let version = store
        .save_cart(VersionedWrite { user, version: before, items: &lines, write_id: "w" })
        .await
        .expect("cart");
    let now = Timestamp::now();
    let mut done = priced(store, user, &lines, now).await;
    let currency = "EUR".parse().expect("currency");
    done.order.payment = Some(Payment::new(done.order.final_amount, currency, hold_until));
    let event = OrderEvent::new(&done.order, OrderEventKind::OrderPlaced, now);
    let new = NewOrder {
        checkout: &done,
        cart_version: version,
        coupon: None,
        idempotency: None,
        event: &event,
        now,
        max_unpaid: Some(max_unpaid),
    };
    store.place_order(&new).await.map(|()| done.order.clone())
}

/// `current` one revision on, with `change` applied to its payment.
fn next_of(current: &Order, change: impl FnOnce(&mut Payment)) -> Order {
    let mut next = current.clone();
    next.revision += 1;
    if let Some(payment) = next.payment.as_mut() {
        change(payment);
    }
    next
}

fn event_entry(order: OrderId, id: &str, at: Timestamp) -> LedgerEntry {
    LedgerEntry {
        id: id.into(),
        order_id: order,
        kind: LedgerKind::Event,
        status: LedgerStatus::Received,
        amount: 0,
        provider_id: None,
        detail: Some("payment_intent.created".into()),
        at,
    }
}

fn update<'a>(current: &'a Order, next: &'a Order, ledger: &'a [LedgerEntry]) -> OrderUpdate<'a> {
    static NOTHING: std::sync::LazyLock<shared::domain::UnitsByProduct> =
        std::sync::LazyLock::new(Default::default);
    OrderUpdate {
        current,
        next,
        restock: &NOTHING,
        coupon_back: false,
        release_hold: false,
        ledger,
        event: None,
        audit: None,
    }
}

async fn order_changes_are_conditional_on_revision_and_new_events(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let now = Timestamp::now();
    let placed =
        unpaid_order(store, UserId::new(), now.plus_seconds(900), 3).await.expect("placed");
    let current = store.find_order(placed.id).await.expect("read").expect("stored");
    assert_eq!(current.revision, placed.revision);

    let started = next_of(&current, |p| p.intent_id = Some("pi_contract".into()));
    let created = event_entry(current.id, "evt_1", now);
    store
        .update_order(&update(&current, &started, std::slice::from_ref(&created)))
        .await
        .expect("ok");
    let stored = store.find_order(current.id).await.expect("read").expect("stored");
    assert_eq!(stored, started);
    assert_eq!(store.ledger(current.id).await.expect("ledger"), std::slice::from_ref(&created));

    // Decided from the old read: refused, nothing written.
    let stale = next_of(&current, |p| p.intent_id = Some("pi_other".into()));
    let refused = store.update_order(&update(&current, &stale, &[])).await;
    assert_eq!(conflict(refused), Conflict::OrderChanged);
    // The same provider event again: refused whole, the order unchanged.
    let again = next_of(&stored, |p| p.authorized = p.amount);
    let refused =
        store.update_order(&update(&stored, &again, std::slice::from_ref(&created))).await;
    assert_eq!(conflict(refused), Conflict::EventSeen);
    assert_eq!(store.find_order(current.id).await.expect("read"), Some(started));
    // An order that does not exist.
    let mut ghost = current.clone();
    ghost.id = OrderId::new();
    let missing = store.update_order(&update(&ghost, &next_of(&ghost, |_| {}), &[])).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

async fn ledger_entries_are_written_once_per_state_oldest_first(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let order = OrderId::new();
    let now = Timestamp::now();
    let refund = LedgerEntry::operation(order, LedgerKind::Refund, 500, now);
    store.record_event(&refund).await.expect("a new operation");
    assert_eq!(conflict(store.record_event(&refund).await), Conflict::EventSeen, "once pending");
    let answered = refund.answered(LedgerStatus::Succeeded, Some("re_1".into()));
    store.record_event(&answered).await.expect("its answer, while pending");
    let refused = answered.answered(LedgerStatus::Failed, None);
    assert_eq!(conflict(store.record_event(&refused).await), Conflict::EventSeen, "answered once");
    let event = event_entry(order, "evt_9", now.plus_seconds(5));
    store.record_event(&event).await.expect("a new event");
    assert_eq!(conflict(store.record_event(&event).await), Conflict::EventSeen);
    let earlier = event_entry(order, "evt_0", now.plus_seconds(-5));
    store.record_event(&earlier).await.expect("an older event");

    assert_eq!(store.ledger(order).await.expect("ledger"), [earlier, answered, event], "by time");
    assert_eq!(store.ledger(OrderId::new()).await.expect("ledger"), []);
}

async fn holds_come_due_and_watched_payments_are_listed_until_final(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let now = Timestamp::now();
    let user = UserId::new();
    let due = unpaid_order(store, user, now.plus_seconds(-10), 2).await.expect("placed");
    let later = unpaid_order(store, user, now.plus_seconds(600), 2).await.expect("placed");
    // The customer's unpaid count is at its limit: a third is refused, nothing written.
    let third = unpaid_order(store, user, now.plus_seconds(600), 2).await;
    assert_eq!(conflict(third), Conflict::TooManyUnpaid);

    let holds = store.due_holds(now, 100).await.expect("holds");
    assert!(holds.contains(&due.id) && !holds.contains(&later.id), "{holds:?}");
    let all = store.due_holds(now.plus_seconds(601), 100).await.expect("holds");
    assert!(all.contains(&due.id) && all.contains(&later.id));
    assert!(store.due_holds(now.plus_seconds(601), 1).await.expect("holds").len() <= 1);

    // An intent makes the payment watched; not before its last change.
    let current = store.find_order(due.id).await.expect("read").expect("stored");
    let started = next_of(&current, |p| p.intent_id = Some("pi_watch".into()));
    store.update_order(&update(&current, &started, &[])).await.expect("intent");
    let watched = store.unsettled(started.updated_at, 100).await.expect("watch");
    assert!(watched.contains(&due.id), "{watched:?}");
    let before = store.unsettled(started.updated_at.plus_seconds(-3600), 100).await.expect("watch");
    assert!(!before.contains(&due.id));

    // Expired, its intent cancelled and its hold released: final, off both lists, and the
    // customer may hold another order.
    let ended = next_of(&started, |p| {
        *p = Payment { intent_canceled: true, ..p.expire().expect("unpaid") };
    });
    let release = OrderUpdate { release_hold: true, ..update(&started, &ended, &[]) };
    store.update_order(&release).await.expect("expired");
    assert!(!store.due_holds(now.plus_seconds(601), 100).await.expect("holds").contains(&due.id));
    assert!(!store.unsettled(now.plus_seconds(3600), 100).await.expect("watch").contains(&due.id));
    unpaid_order(store, user, now.plus_seconds(600), 2).await.expect("a slot was freed");
}

contract!(
    order_changes_are_conditional_on_revision_and_new_events,
    ledger_entries_are_written_once_per_state_oldest_first,
    holds_come_due_and_watched_payments_are_listed_until_final,
);
