//! Products (`ProductStore`): SKUs, versions, counts and listings.

use super::*;

async fn a_product_reads_back_as_written_and_counts(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let mug = item("Mug", "kitchen", &["M-1", "M-2"]);
    store.create_product(&mug, &audit()).await.expect("created");
    assert_eq!(store.find_product(mug.id).await.expect("read"), Some(mug.clone()));
    assert_eq!(store.count_products(None).await.expect("count"), 1);
    assert_eq!(store.count_products(Some("kitchen")).await.expect("count"), 1);
    assert_eq!(store.count_products(Some("garden")).await.expect("count"), 0);
}

async fn a_taken_sku_refuses_the_whole_product(store: Arc<dyn Store>) {
    let store = store.as_ref();
    store.create_product(&item("First", "a", &["S-1"]), &audit()).await.expect("created");
    let second = item("Second", "b", &["S-2", "S-1"]);
    assert_eq!(conflict(store.create_product(&second, &audit()).await), Conflict::SkuTaken);
    assert_eq!(store.find_product(second.id).await.expect("read"), None);
    assert_eq!(store.count_products(None).await.expect("count"), 1);
    assert_eq!(store.count_products(Some("b")).await.expect("count"), 0);
    // S-2 was not claimed by the refused product.
    store.create_product(&item("Third", "b", &["S-2"]), &audit()).await.expect("S-2 is free");
}

async fn replace_is_conditional_on_the_version_read(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let lamp = item("Lamp", "home", &["L-1", "L-2"]);
    store.create_product(&lamp, &audit()).await.expect("created");
    let moved = lamp.apply(patch(serde_json::json!({ "category": "office", "variants": [{ "sku": "L-2", "stock": 1, "price": 1 }, { "sku": "L-3", "stock": 1, "price": 1 }] })), Timestamp::now());
    store.replace_product(&lamp, &moved, &audit()).await.expect("replaced");
    assert_eq!(store.find_product(lamp.id).await.expect("read"), Some(moved.clone()));
    assert_eq!(
        (
            store.count_products(Some("home")).await.expect("c"),
            store.count_products(Some("office")).await.expect("c")
        ),
        (0, 1)
    );

    // A writer still holding the old version loses, and changes nothing.
    let stale = lamp.apply(patch(serde_json::json!({ "name": "Stale" })), Timestamp::now());
    assert_eq!(
        conflict(store.replace_product(&lamp, &stale, &audit()).await),
        Conflict::ProductChanged
    );
    assert_eq!(conflict(store.delete_product(&lamp, &audit()).await), Conflict::ProductChanged);
    assert_eq!(store.find_product(lamp.id).await.expect("read"), Some(moved.clone()));

    // L-1 was released, L-3 claimed.
    store.create_product(&item("Other", "x", &["L-1"]), &audit()).await.expect("L-1 free");
    assert_eq!(
        conflict(store.create_product(&item("Other", "x", &["L-3"]), &audit()).await),
        Conflict::SkuTaken
    );
}

async fn delete_releases_everything_and_a_second_delete_is_not_found(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let chair = item("Chair", "home", &["C-1"]);
    store.create_product(&chair, &audit()).await.expect("created");
    store.delete_product(&chair, &audit()).await.expect("deleted");
    assert_eq!(store.find_product(chair.id).await.expect("read"), None);
    assert_eq!(store.count_products(None).await.expect("count"), 0);
    assert_eq!(store.count_products(Some("home")).await.expect("count"), 0);
    assert!(matches!(store.delete_product(&chair, &audit()).await, Err(StoreError::NotFound)));
    let replaced = chair.apply(patch(serde_json::json!({ "name": "x" })), Timestamp::now());
    assert!(matches!(
        store.replace_product(&chair, &replaced, &audit()).await,
        Err(StoreError::NotFound)
    ));
    store.create_product(&item("Chair again", "home", &["C-1"]), &audit()).await.expect("C-1 free");
}

async fn listings_are_newest_first_by_offset_or_after_a_position(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let mut made = Vec::new();
    for i in 0..7 {
        let product =
            item(&format!("P{i}"), if i % 2 == 0 { "even" } else { "odd" }, &[&format!("P-{i}")]);
        store.create_product(&product, &audit()).await.expect("created");
        made.push(product);
    }
    made.sort_by_key(|p| std::cmp::Reverse(sort_key(p)));
    let all = store.list_products(&query(None, ListStart::Offset(0), 10)).await.expect("list");
    assert_eq!(all.products, made);
    assert_eq!(all.next, None);

    let first = store.list_products(&query(None, ListStart::Offset(0), 3)).await.expect("list");
    assert_eq!(first.products, made[..3]);
    assert_eq!(first.next.as_deref(), Some(sort_key(&made[2]).as_str()));
    let second = store
        .list_products(&query(None, ListStart::After(sort_key(&made[2])), 3))
        .await
        .expect("list");
    assert_eq!(second.products, made[3..6]);
    let offset = store.list_products(&query(None, ListStart::Offset(3), 3)).await.expect("list");
    assert_eq!(offset.products, second.products);
    let last = store
        .list_products(&query(None, ListStart::After(sort_key(&made[5])), 3))
        .await
        .expect("list");
    assert_eq!((last.products.as_slice(), last.next.as_deref()), (&made[6..], None));

    let odd: Vec<_> = made.iter().filter(|p| p.category == "odd").cloned().collect();
    let listed =
        store.list_products(&query(Some("odd"), ListStart::Offset(0), 10)).await.expect("list");
    assert_eq!(listed.products, odd);
    let beyond =
        store.list_products(&query(Some("odd"), ListStart::Offset(10), 10)).await.expect("list");
    assert_eq!((beyond.products.len(), beyond.next), (0, None));
}

/// A batch read: each id once, unknown ids left out.
async fn a_batch_read_finds_each_existing_product_once(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let (mug, lamp) = (item("Mug", "k", &["BM-1"]), item("Lamp", "h", &["BL-1"]));
    store.create_product(&mug, &audit()).await.expect("created");
    store.create_product(&lamp, &audit()).await.expect("created");
    let found =
        store.find_products(&[mug.id, lamp.id, mug.id, ProductId::new()]).await.expect("batch");
    assert_eq!(found.len(), 2);
    assert_eq!((found.get(&mug.id), found.get(&lamp.id)), (Some(&mug), Some(&lamp)));
    assert!(store.find_products(&[]).await.expect("nothing asked").is_empty());
}

contract!(
    a_batch_read_finds_each_existing_product_once,
    a_product_reads_back_as_written_and_counts,
    a_taken_sku_refuses_the_whole_product,
    replace_is_conditional_on_the_version_read,
    delete_releases_everything_and_a_second_delete_is_not_found,
    listings_are_newest_first_by_offset_or_after_a_position,
);
