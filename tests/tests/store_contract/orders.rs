//! Orders (`OrderStore`, `OutboxStore`): all-or-nothing checkout, conditional status changes, idempotency records, the outbox.

use super::*;

async fn place_order_is_all_or_nothing(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let shirt = item("Shirt", "c", &["S-1", "S-2"]);
    store.create_product(&shirt, &audit()).await.expect("created");
    let mut limited = coupon("ONE-USE", 0);
    limited.max_uses = Some(1);
    store.create_coupon(&limited, &audit()).await.expect("coupon");
    let user = UserId::new();
    let lines = [line(&shirt, "S-1", 2), line(&shirt, "S-2", 1)];
    let version = new_cart(store, user, &lines).await;
    let now = Timestamp::now();
    let products = store.find_products(&[shirt.id]).await.expect("read");
    let offer = CouponOffer { coupon: &limited, used_by_customer: 0 };
    let done =
        checkout(user, Role::Customer, &lines, &products, Some(offer), now).expect("checkout");
    let event = OrderEvent::new(&done.order, OrderEventKind::OrderPlaced, now);
    let record = keyed(&done.order, "k-1", now.plus_seconds(60));
    let new = |cart_version, checkout| NewOrder {
        checkout,
        cart_version,
        coupon: Some(&limited),
        idempotency: Some(&record),
        event: &event,
        now,
        max_unpaid: None,
    };
    let unchanged = || async {
        assert_eq!(
            store
                .find_product(shirt.id)
                .await
                .expect("read")
                .expect("exists")
                .variants
                .iter()
                .map(|v| v.stock)
                .collect::<Vec<_>>(),
            [2, 2]
        );
        assert_eq!(store.cart(user).await.expect("cart").lines.len(), 2);
        assert_eq!(store.find_coupon(&limited.code).await.expect("read").expect("exists").uses, 0);
        assert_eq!(store.find_order(done.order.id).await.expect("read"), None);
        assert!(store.outbox_events(10).await.expect("outbox").is_empty());
        assert_eq!(store.checkout_start(user, Some("k-1"), now).await.expect("start").1, None);
    };

    let greedy = {
        let mut greedy = done.clone();
        greedy.stock.insert(
            shirt.id,
            vec![(Sku::parse("S-1").expect("sku"), 2), (Sku::parse("S-2").expect("sku"), 3)],
        );
        greedy
    };
    let stale = store.place_order(&new(version + 1, &done)).await;
    assert!(matches!(stale, Err(StoreError::Conflict(Conflict::CartChanged))), "{stale:?}");
    unchanged().await;
    let short = store.place_order(&new(version, &greedy)).await;
    assert!(matches!(short, Err(StoreError::Conflict(Conflict::InsufficientStock))), "{short:?}");
    unchanged().await;

    store.place_order(&new(version, &done)).await.expect("placed");
    let stored = store.find_product(shirt.id).await.expect("read").expect("exists");
    assert_eq!(stored.variants.iter().map(|v| v.stock).collect::<Vec<_>>(), [0, 1]);
    assert!(stored.version > shirt.version, "a stock change is a new product version");
    assert_eq!(store.cart(user).await.expect("cart"), StoredCart::default());
    assert_eq!(store.find_coupon(&limited.code).await.expect("read").expect("exists").uses, 1);
    assert_eq!(store.find_order(done.order.id).await.expect("read"), Some(done.order.clone()));
    assert_eq!(store.outbox_events(10).await.expect("outbox"), std::slice::from_ref(&event));
    let (_, replay) = store.checkout_start(user, Some("k-1"), now).await.expect("start");
    assert_eq!(replay, Some(record.clone()));
    let reads = store.checkout_reads(user, &[shirt.id], Some(&limited.code)).await.expect("reads");
    assert_eq!(
        (reads.products.len(), reads.coupon.map(|c| c.uses), reads.coupon_uses_by_user),
        (1, Some(1), 1)
    );

    // Again with the same key, and (with a fresh cart) with a used-up coupon.
    let version = store
        .save_cart(VersionedWrite {
            user,
            version: 0,
            items: &[line(&shirt, "S-2", 1)],
            write_id: "w",
        })
        .await
        .expect("cart");
    let again = store.place_order(&new(version, &done)).await;
    assert!(matches!(again, Err(StoreError::Conflict(Conflict::IdempotencyKeyUsed))), "{again:?}");
    let small = priced(store, user, &[line(&shirt, "S-2", 1)], now).await;
    let other_event = OrderEvent::new(&small.order, OrderEventKind::OrderPlaced, now);
    let used_up = store
        .place_order(&NewOrder {
            checkout: &small,
            cart_version: version,
            coupon: Some(&limited),
            idempotency: None,
            event: &other_event,
            now,
            max_unpaid: None,
        })
        .await;
    assert!(
        matches!(used_up, Err(StoreError::Conflict(Conflict::CouponUnavailable))),
        "{used_up:?}"
    );
    store
        .place_order(&NewOrder {
            checkout: &small,
            cart_version: version,
            coupon: None,
            idempotency: None,
            event: &other_event,
            now,
            max_unpaid: None,
        })
        .await
        .expect("without the coupon");

    store.delete_outbox_event(event.id).await.expect("deleted");
    store.delete_outbox_event(event.id).await.expect("deleting twice is fine");
    assert_eq!(store.outbox_events(10).await.expect("outbox"), [other_event]);
}

async fn status_changes_are_conditional_and_restock(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let shirt = item("Shirt", "c", &["S-1"]);
    store.create_product(&shirt, &audit()).await.expect("created");
    let user = UserId::new();
    let lines = [line(&shirt, "S-1", 2)];
    let version = new_cart(store, user, &lines).await;
    let now = Timestamp::now();
    let done = priced(store, user, &lines, now).await;
    let placed = OrderEvent::new(&done.order, OrderEventKind::OrderPlaced, now);
    store
        .place_order(&NewOrder {
            checkout: &done,
            cart_version: version,
            coupon: None,
            idempotency: None,
            event: &placed,
            now,
            max_unpaid: None,
        })
        .await
        .expect("placed");

    let current = done.order.clone();
    let cancelled = Order { status: OrderStatus::Cancelled, ..current.clone() };
    let event = OrderEvent::new(
        &cancelled,
        OrderEventKind::StatusChanged { from: OrderStatus::Pending, to: OrderStatus::Cancelled },
        now,
    );
    let restock = current.units_by_product();
    let change = StatusChange {
        current: &current,
        next: &cancelled,
        restock: &restock,
        event: &event,
        audit: &audit(),
    };
    store.change_order_status(&change).await.expect("cancelled");
    assert_eq!(
        store.find_order(current.id).await.expect("read").map(|o| o.status),
        Some(OrderStatus::Cancelled)
    );
    assert_eq!(stock(store, shirt.id).await, 2);

    // The same change again was decided on a stale status: refused, nothing restocked.
    let again = store.change_order_status(&change).await;
    assert!(matches!(again, Err(StoreError::Conflict(Conflict::OrderChanged))), "{again:?}");
    assert_eq!(stock(store, shirt.id).await, 2);
    let (pending, gone) = (
        with_status(store, OrderStatus::Pending).await,
        with_status(store, OrderStatus::Cancelled).await,
    );
    assert_eq!((pending, gone), (0, 1), "the status index moves with the order");

    let missing = Order { id: shared::domain::OrderId::new(), ..current.clone() };
    let nowhere = store
        .change_order_status(&StatusChange {
            current: &missing,
            next: &Order { status: OrderStatus::Shipped, ..missing.clone() },
            restock: &Default::default(),
            event: &event,
            audit: &audit(),
        })
        .await;
    assert!(matches!(nowhere, Err(StoreError::NotFound)), "{nowhere:?}");
}

async fn an_expired_idempotency_record_is_ignored_and_replaced(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let shirt = item("Shirt", "c", &["S-1"]);
    store.create_product(&shirt, &audit()).await.expect("created");
    let user = UserId::new();
    let lines = [line(&shirt, "S-1", 1)];
    let now = Timestamp::now();
    for _ in 0..2 {
        let version = new_cart(store, user, &lines).await;
        let done = priced(store, user, &lines, now).await;
        let event = OrderEvent::new(&done.order, OrderEventKind::OrderPlaced, now);
        let record = keyed(&done.order, "old", now);
        assert_eq!(
            store.checkout_start(user, Some("old"), now).await.expect("start").1,
            None,
            "expired at `now`"
        );
        store
            .place_order(&NewOrder {
                checkout: &done,
                cart_version: version,
                coupon: None,
                idempotency: Some(&record),
                event: &event,
                now,
                max_unpaid: None,
            })
            .await
            .expect("placed over the expired record");
    }
    assert_eq!(stock(store, shirt.id).await, 0);
}

contract!(
    place_order_is_all_or_nothing,
    status_changes_are_conditional_and_restock,
    an_expired_idempotency_record_is_ignored_and_replaced,
);

/// The stock of the product's first variant.
async fn stock(store: &dyn Store, product: ProductId) -> u32 {
    store.find_product(product).await.expect("read").expect("exists").variants[0].stock
}

/// How many of the shop's orders (at most 10) have `status`.
async fn with_status(store: &dyn Store, status: OrderStatus) -> usize {
    let query = OrderQuery { scope: OrderScope::All(Some(status)), after: None, limit: 10 };
    store.list_orders(&query).await.expect("list").orders.len()
}

/// The record of `order` placed under `key` (request `{}`), forgotten at `expires_at`.
fn keyed(order: &Order, key: &str, expires_at: Timestamp) -> IdempotencyRecord {
    let (user, request) = (order.user_id, "{}".to_owned());
    IdempotencyRecord { user, key: key.to_owned(), request, order: order.clone(), expires_at }
}

/// A new cart of `lines` for `user`; its version.
async fn new_cart(store: &dyn Store, user: UserId, lines: &[CartLine]) -> u64 {
    let write = VersionedWrite { user, version: 0, items: lines, write_id: "w" };
    store.save_cart(write).await.expect("cart")
}
