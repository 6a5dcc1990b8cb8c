//! Address books (`AddressStore`): one record per account, written whole at the version read.

use super::*;
use shared::domain::{Address, AddressInput, add_address};

/// An address as the service would add it to `book` at `now`.
fn added(book: &mut Vec<Address>, name: &str, now: Timestamp) -> Address {
    let input: AddressInput = serde_json::from_value(serde_json::json!({
        "full_name": name, "line1": "1 Main St", "city": "Dublin",
        "postal_code": "D01 F5P2", "country": "IE",
    }))
    .expect("input");
    add_address(book, input, now).expect("valid")
}

async fn an_address_book_is_written_only_at_the_version_read(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let (me, other) = (UserId::new(), UserId::new());
    let empty = store.addresses(me).await.expect("read");
    assert_eq!((empty.addresses.len(), empty.version, empty.write_id), (0, 0, None));

    let now = Timestamp::now();
    let mut book = Vec::new();
    added(&mut book, "Ann Home", now);
    let v1 = store
        .save_addresses(VersionedWrite { user: me, version: 0, items: &book, write_id: "w1" })
        .await
        .expect("created");
    assert!(v1 > 0);
    // A second writer that read the empty book loses, and writes nothing.
    let mut theirs = Vec::new();
    added(&mut theirs, "Mallory", now);
    let stale = store
        .save_addresses(VersionedWrite {
            user: me,
            version: 0,
            items: &theirs,
            write_id: "w-stale",
        })
        .await;
    assert_eq!(conflict(stale), Conflict::AddressesChanged);

    added(&mut book, "Ann Work", now);
    let v2 = store
        .save_addresses(VersionedWrite { user: me, version: v1, items: &book, write_id: "w2" })
        .await
        .expect("replaced");
    assert!(v2 > v1);
    let again = store
        .save_addresses(VersionedWrite { user: me, version: v1, items: &book, write_id: "w3" })
        .await;
    assert_eq!(conflict(again), Conflict::AddressesChanged, "v1 is gone");
    store
        .save_addresses(VersionedWrite { user: other, version: 0, items: &theirs, write_id: "w" })
        .await
        .expect("another account's own book");

    let mine = store.addresses(me).await.expect("read");
    assert_eq!((mine.addresses, mine.version), (book.clone(), v2), "oldest first, as written");
    assert_eq!(mine.write_id.as_deref(), Some("w2"), "the last write's id is kept");
    assert_eq!(store.addresses(other).await.expect("read").addresses, theirs);
}

/// Concurrent writers from one read: exactly one lands (the book's limit and single default
/// rest on it).
async fn concurrent_saves_from_one_read_let_exactly_one_win(store: Arc<dyn Store>) {
    let me = UserId::new();
    let mut racers = tokio::task::JoinSet::new();
    for n in 0..8 {
        let store = Arc::clone(&store);
        racers.spawn(async move {
            let mut book = Vec::new();
            added(&mut book, &format!("Racer {n}"), Timestamp::now());
            store
                .save_addresses(VersionedWrite {
                    user: me,
                    version: 0,
                    items: &book,
                    write_id: &format!("w{n}"),
                })
                .await
        });
    }
    let results = racers.join_all().await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    let lost = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Conflict(Conflict::AddressesChanged))))
        .count();
    assert_eq!((won, lost), (1, 7), "{results:?}");
    assert_eq!(store.addresses(me).await.expect("read").addresses.len(), 1);
}

contract!(
    an_address_book_is_written_only_at_the_version_read,
    concurrent_saves_from_one_read_let_exactly_one_win,
);
