//! Carts (`CartStore`): per user, written at the version read, keyed writes.

use super::*;
use shared::store::CartKeyRecord;

async fn carts_are_per_user_and_written_only_at_the_version_read(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let (mug, lamp) = (item("Mug", "k", &["M-1", "M-2"]), item("Lamp", "h", &["L-1"]));
    store.create_product(&mug, &audit()).await.expect("created");
    store.create_product(&lamp, &audit()).await.expect("created");
    let (me, other) = (UserId::new(), UserId::new());
    assert_eq!(store.cart(me).await.expect("read"), StoredCart::default());
    let v1 = store
        .save_cart(VersionedWrite {
            user: me,
            version: 0,
            items: &[line(&lamp, "L-1", 1), line(&mug, "M-2", 1)],
            write_id: "w",
        })
        .await
        .expect("created");
    let stale = store
        .save_cart(VersionedWrite {
            user: me,
            version: 0,
            items: &[line(&mug, "M-1", 1)],
            write_id: "w",
        })
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(Conflict::CartChanged))), "{stale:?}");
    let v2 = store
        .save_cart(VersionedWrite {
            user: me,
            version: v1,
            items: &[line(&mug, "M-2", 4), line(&lamp, "L-1", 1)],
            write_id: "w2",
        })
        .await
        .expect("replaced");
    assert!(v2 > v1);
    assert!(matches!(
        store.save_cart(VersionedWrite { user: me, version: v1, items: &[], write_id: "w" }).await,
        Err(StoreError::Conflict(Conflict::CartChanged))
    ));
    store
        .save_cart(VersionedWrite {
            user: other,
            version: 0,
            items: &[line(&mug, "M-1", 9)],
            write_id: "w",
        })
        .await
        .expect("created");

    let mine = store.cart(me).await.expect("read");
    let mut expected = vec![line(&mug, "M-2", 4), line(&lamp, "L-1", 1)];
    expected.sort_by(|a, b| (a.product_id, &a.sku).cmp(&(b.product_id, &b.sku)));
    assert_eq!((mine.lines, mine.version), (expected, v2), "by product id, then SKU");
    assert_eq!(mine.write_id.as_deref(), Some("w2"), "the last write's id is kept");
    assert_eq!(store.cart(other).await.expect("read").lines, [line(&mug, "M-1", 9)]);

    assert_eq!(
        store
            .save_cart(VersionedWrite { user: me, version: v2, items: &[], write_id: "w" })
            .await
            .expect("emptied"),
        0
    );
    assert_eq!(store.cart(me).await.expect("read"), StoredCart::default());
}
/// A cart write under an `Idempotency-Key`: the lines and the key's record land together, a
/// second write under a live key is refused, an expired record is ignored and replaced.
async fn a_keyed_cart_write_lands_with_its_record_once(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let mug = item("Mug", "k", &["KM-1"]);
    store.create_product(&mug, &audit()).await.expect("created");
    let me = UserId::new();
    let now = Timestamp::now();
    let record = |key: &str, quantity, expires_at| CartKeyRecord {
        user: me,
        key: key.into(),
        request: format!("{{\"quantity\":{quantity}}}"),
        lines: vec![line(&mug, "KM-1", quantity)],
        expires_at,
    };
    assert_eq!(store.cart_key(me, "k1", now).await.expect("read"), None);

    let first = record("k1", 2, now.plus_seconds(86_400));
    let v1 = store.save_cart_keyed(0, "w1", &first, now).await.expect("written");
    assert_eq!(store.cart_key(me, "k1", now).await.expect("read"), Some(first.clone()));
    let cart = store.cart(me).await.expect("cart");
    assert_eq!((cart.lines, cart.version), (first.lines.clone(), v1));
    assert_eq!(store.cart_key(UserId::new(), "k1", now).await.expect("read"), None, "per user");

    // The key again (a concurrent duplicate that read no record): refused, nothing written.
    let duplicate = record("k1", 5, now.plus_seconds(86_400));
    let refused = store.save_cart_keyed(v1, "w2", &duplicate, now).await;
    assert_eq!(conflict(refused), Conflict::IdempotencyKeyUsed);
    assert_eq!(store.cart(me).await.expect("cart").version, v1);
    // At the wrong version: the cart's conflict.
    let stale = store.save_cart_keyed(0, "w3", &record("k2", 1, now.plus_seconds(60)), now).await;
    assert_eq!(conflict(stale), Conflict::CartChanged);
    assert_eq!(store.cart_key(me, "k2", now).await.expect("read"), None, "nothing half-written");

    // An expired record is not found, and its key may be used again.
    let expired = record("k3", 1, now.plus_seconds(-1));
    let v2 = store.save_cart_keyed(v1, "w4", &expired, now).await.expect("written");
    assert_eq!(store.cart_key(me, "k3", now).await.expect("read"), None);
    let reused = record("k3", 3, now.plus_seconds(86_400));
    let v3 = store.save_cart_keyed(v2, "w5", &reused, now).await.expect("replaced");
    assert_eq!(store.cart_key(me, "k3", now).await.expect("read"), Some(reused));
    assert!(v3 > v2 && v2 > v1);
}

contract!(
    a_keyed_cart_write_lands_with_its_record_once,
    carts_are_per_user_and_written_only_at_the_version_read,
);
