//! Coupons (`CouponStore`): unique codes, updates that never touch the use count.

use super::*;

async fn coupons_are_unique_by_code_and_updates_never_touch_the_use_count(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let used = coupon("USED-5", 5);
    store.create_coupon(&used, &audit()).await.expect("created");
    assert!(matches!(
        store.create_coupon(&coupon("USED-5", 0), &audit()).await,
        Err(StoreError::Conflict(Conflict::CouponExists))
    ));
    assert_eq!(store.find_coupon(&used.code).await.expect("read"), Some(used.clone()));

    let edited = Coupon { discount_percent: 40, max_uses: Some(9), uses: 0, ..used.clone() };
    store.update_coupon(&edited, &audit()).await.expect("updated");
    let stored = store.find_coupon(&used.code).await.expect("read").expect("exists");
    assert_eq!((stored.discount_percent, stored.max_uses, stored.uses), (40, Some(9), 5));
    let cleared = Coupon { max_uses: None, ..stored.clone() };
    store.update_coupon(&cleared, &audit()).await.expect("updated");
    assert_eq!(store.find_coupon(&used.code).await.expect("read").expect("exists").max_uses, None);

    store.create_coupon(&coupon("ABC", 0), &audit()).await.expect("created");
    let listed: Vec<_> =
        store.list_coupons().await.expect("list").into_iter().map(|c| c.code).collect();
    assert_eq!(listed, [CouponCode::parse("ABC").expect("code"), used.code.clone()]);

    store.delete_coupon(&used.code, &audit()).await.expect("deleted");
    assert!(matches!(store.delete_coupon(&used.code, &audit()).await, Err(StoreError::NotFound)));
    assert!(matches!(store.update_coupon(&used, &audit()).await, Err(StoreError::NotFound)));
    assert_eq!(store.find_coupon(&used.code).await.expect("read"), None);
}

contract!(coupons_are_unique_by_code_and_updates_never_touch_the_use_count,);
