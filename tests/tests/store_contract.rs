//! The storage contract: the same cases against the in-memory store and the DynamoDB store.

use e2e::{TestApp, both_stores};
use shared::store::Conflict;
use shared::{
    domain::{
        CartLine, Coupon, CouponCode, CouponInput, CouponOffer, DeliveryState, Email, Order,
        OrderEvent, OrderEventKind, OrderStatus, Product, ProductId, ProductInput, ProductPatch,
        ProductSpec, Role, SessionId, Sku, StoredHash, Timestamp, TokenId, User, UserId, checkout,
    },
    store::{
        Claim, DeliveryClaim, EmailClaim, EmailMarker, IdempotencyRecord, ListStart,
        LoginAdmission, LoginFailures, NewOrder, OrderQuery, OrderScope, ProductQuery,
        RotateOutcome, Rotation, Session, StatusChange, StoreError, StoredCart, UserRecord,
        sort_key,
    },
};

fn record(email: &str) -> UserRecord {
    UserRecord {
        user: User {
            id: UserId::new(),
            email: Email::parse(email).expect("email"),
            role: Role::Customer,
            created_at: Timestamp::now(),
        },
        password_hash: StoredHash(format!("$argon2id$v=19$m=19456,t=2,p=1$fake${email}")),
    }
}

fn session(user: &User, lifetime_seconds: i64) -> Session {
    Session::open(user, Timestamp::now(), lifetime_seconds)
}

/// Presenting `session`'s current refresh token at `now`, for a new one.
fn rotation(session: &Session, now: Timestamp) -> Rotation {
    Rotation {
        user: session.user_id,
        session: session.id,
        presented: session.refresh_jti,
        next: TokenId::new(),
        now,
    }
}

/// An audit entry for a store write (the contract of entries is in `admin.rs`).
fn audit() -> shared::domain::AuditEntry {
    shared::domain::AuditEntry::new(
        UserId::new(),
        shared::domain::AuditAction::ProductUpdated,
        "x",
        serde_json::json!({}),
        Timestamp::now(),
    )
}

/// A stored account (unique e-mail per call) and a live session of it.
async fn account_session(store: &dyn shared::store::Store, lifetime_seconds: i64) -> Session {
    let account = record(&format!("s-{}@shop.test", UserId::new()).to_lowercase());
    store.create_user(&account, None).await.expect("account");
    let s = session(&account.user, lifetime_seconds);
    store.create_session(&s).await.expect("created");
    s
}

/// The conflict a store operation failed with; anything else fails the test.
fn conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> Conflict {
    match result {
        Err(StoreError::Conflict(conflict)) => conflict,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// The live session `session` of `user` at `now`, if the store finds it.
async fn read_session(
    store: &dyn shared::store::Store,
    user: UserId,
    session: SessionId,
    now: Timestamp,
) -> Option<Session> {
    store.find_session(user, session, now).await.expect("read")
}

fn item(name: &str, category: &str, skus: &[&str]) -> Product {
    let variants: Vec<_> = skus
        .iter()
        .map(|sku| serde_json::json!({ "sku": sku, "stock": 2, "price": "3.50" }))
        .collect();
    let input: ProductInput = serde_json::from_value(
        serde_json::json!({ "name": name, "category": category, "variants": variants }),
    )
    .expect("input");
    Product::create(ProductSpec::parse(input).expect("valid"), Timestamp::now())
}

/// A cart line of `quantity` × `sku` of `product` at 3.50 (every `item` variant's price).
fn line(product: &Product, sku: &str, quantity: u32) -> CartLine {
    CartLine {
        product_id: product.id,
        sku: Sku::parse(sku).expect("sku"),
        quantity,
        price_when_added: "3.50".parse().expect("money"),
    }
}

fn patch(value: serde_json::Value) -> ProductPatch {
    ProductPatch::parse(serde_json::from_value(value).expect("input")).expect("valid")
}

fn query(category: Option<&str>, start: ListStart, limit: usize) -> ProductQuery {
    ProductQuery { category: category.map(str::to_owned), start, limit }
}

fn coupon(code: &str, uses: u32) -> Coupon {
    let input: CouponInput = serde_json::from_value(serde_json::json!({ "code": code, "discount_percent": 20, "expiry": "2099-01-01T00:00:00Z" })).expect("input");
    Coupon { uses, ..Coupon::parse_new(input).expect("valid") }
}

async fn carts_are_per_user_and_written_only_at_the_version_read(app: TestApp) {
    let store = app.store.as_ref();
    let (mug, lamp) = (item("Mug", "k", &["M-1", "M-2"]), item("Lamp", "h", &["L-1"]));
    store.create_product(&mug, &audit()).await.expect("created");
    store.create_product(&lamp, &audit()).await.expect("created");
    let (me, other) = (UserId::new(), UserId::new());
    assert_eq!(store.cart(me).await.expect("read"), StoredCart::default());
    let v1 = store
        .save_cart(me, 0, &[line(&lamp, "L-1", 1), line(&mug, "M-2", 1)], "w")
        .await
        .expect("created");
    let stale = store.save_cart(me, 0, &[line(&mug, "M-1", 1)], "w").await;
    assert!(matches!(stale, Err(StoreError::Conflict(Conflict::CartChanged))), "{stale:?}");
    let v2 = store
        .save_cart(me, v1, &[line(&mug, "M-2", 4), line(&lamp, "L-1", 1)], "w2")
        .await
        .expect("replaced");
    assert!(v2 > v1);
    assert!(matches!(
        store.save_cart(me, v1, &[], "w").await,
        Err(StoreError::Conflict(Conflict::CartChanged))
    ));
    store.save_cart(other, 0, &[line(&mug, "M-1", 9)], "w").await.expect("created");

    let mine = store.cart(me).await.expect("read");
    let mut expected = vec![line(&mug, "M-2", 4), line(&lamp, "L-1", 1)];
    expected.sort_by(|a, b| (a.product_id, &a.sku).cmp(&(b.product_id, &b.sku)));
    assert_eq!((mine.lines, mine.version), (expected, v2), "by product id, then SKU");
    assert_eq!(mine.write_id.as_deref(), Some("w2"), "the last write's id is kept");
    assert_eq!(store.cart(other).await.expect("read").lines, [line(&mug, "M-1", 9)]);

    assert_eq!(store.save_cart(me, v2, &[], "w").await.expect("emptied"), 0);
    assert_eq!(store.cart(me).await.expect("read"), StoredCart::default());

    let found =
        store.find_products(&[mug.id, lamp.id, mug.id, ProductId::new()]).await.expect("batch");
    assert_eq!(found.len(), 2);
    assert_eq!((found.get(&mug.id), found.get(&lamp.id)), (Some(&mug), Some(&lamp)));
}

async fn coupons_are_unique_by_code_and_updates_never_touch_the_use_count(app: TestApp) {
    let store = app.store.as_ref();
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

async fn a_product_reads_back_as_written_and_counts(app: TestApp) {
    let store = app.store.as_ref();
    let mug = item("Mug", "kitchen", &["M-1", "M-2"]);
    store.create_product(&mug, &audit()).await.expect("created");
    assert_eq!(store.find_product(mug.id).await.expect("read"), Some(mug.clone()));
    assert_eq!(store.count_products(None).await.expect("count"), 1);
    assert_eq!(store.count_products(Some("kitchen")).await.expect("count"), 1);
    assert_eq!(store.count_products(Some("garden")).await.expect("count"), 0);
}

async fn a_taken_sku_refuses_the_whole_product(app: TestApp) {
    let store = app.store.as_ref();
    store.create_product(&item("First", "a", &["S-1"]), &audit()).await.expect("created");
    let second = item("Second", "b", &["S-2", "S-1"]);
    assert_eq!(conflict(store.create_product(&second, &audit()).await), Conflict::SkuTaken);
    assert_eq!(store.find_product(second.id).await.expect("read"), None);
    assert_eq!(store.count_products(None).await.expect("count"), 1);
    assert_eq!(store.count_products(Some("b")).await.expect("count"), 0);
    // S-2 was not claimed by the refused product.
    store.create_product(&item("Third", "b", &["S-2"]), &audit()).await.expect("S-2 is free");
}

async fn replace_is_conditional_on_the_version_read(app: TestApp) {
    let store = app.store.as_ref();
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

async fn delete_releases_everything_and_a_second_delete_is_not_found(app: TestApp) {
    let store = app.store.as_ref();
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

async fn listings_are_newest_first_by_offset_or_after_a_position(app: TestApp) {
    let store = app.store.as_ref();
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

async fn a_created_user_is_found_by_email_and_by_id(app: TestApp) {
    let store = app.store.as_ref();
    let alice = record("alice@shop.test");
    store.create_user(&alice, None).await.expect("created");
    let by_email = store.find_user_by_email(&alice.user.email).await.expect("read");
    assert_eq!(by_email.as_ref(), Some(&alice));
    assert_eq!(store.find_user(alice.user.id).await.expect("read"), Some(alice.user.clone()));
    let stranger = Email::parse("nobody@shop.test").expect("email");
    assert_eq!(store.find_user_by_email(&stranger).await.expect("read"), None);
    assert_eq!(store.find_user(UserId::new()).await.expect("read"), None);
}

async fn a_taken_email_is_a_conflict_and_writes_nothing(app: TestApp) {
    let store = app.store.as_ref();
    let first = record("dup@shop.test");
    store.create_user(&first, None).await.expect("created");
    let second = record("dup@shop.test");
    let error = store.create_user(&second, None).await.expect_err("duplicate refused");
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(store.find_user(second.user.id).await.expect("read"), None);
    let kept = store.find_user_by_email(&first.user.email).await.expect("read");
    assert_eq!(kept.map(|r| r.user.id), Some(first.user.id));
}

async fn set_role_changes_both_views_of_the_user(app: TestApp) {
    let store = app.store.as_ref();
    let carol = record("carol@shop.test");
    store.create_user(&carol, None).await.expect("created");
    store
        .set_role(&carol.user, Role::Admin, &e2e::role_change(&carol.user, Role::Admin))
        .await
        .expect("role set");
    let by_id = store.find_user(carol.user.id).await.expect("read").expect("exists");
    let by_email =
        store.find_user_by_email(&carol.user.email).await.expect("read").expect("exists");
    assert_eq!((by_id.role, by_email.user.role), (Role::Admin, Role::Admin));
    assert_eq!(by_email.password_hash, carol.password_hash);
    // With its audit entry; one whose entry cannot be stored (its id taken) changes nothing.
    let entry = e2e::role_change(&by_id, Role::Customer);
    store.set_role(&by_id, Role::Customer, &entry).await.expect("role set");
    assert!(store.set_role(&by_id, Role::PrimeCustomer, &entry).await.is_err());
    let kept = store.find_user(carol.user.id).await.expect("read").expect("exists");
    assert_eq!(kept.role, Role::Customer);
    let query = shared::store::AuditQuery { action: None, after: None, limit: 10 };
    let trail = store.audit_entries(&query).await.expect("read").entries;
    assert_eq!(
        trail.iter().map(|e| e.details["to"].clone()).collect::<Vec<_>>(),
        ["customer", "admin"]
    );
    // An entry is found by its id (how a write whose answer was lost finds it landed).
    assert_eq!(store.audit_entry(entry.id).await.expect("read"), Some(entry.clone()));
    let unknown = shared::domain::AuditId::new();
    assert_eq!(store.audit_entry(unknown).await.expect("read"), None);

    let ghost = record("ghost@shop.test");
    let error = store
        .set_role(&ghost.user, Role::Admin, &e2e::role_change(&ghost.user, Role::Admin))
        .await
        .expect_err("absent");
    assert!(matches!(error, StoreError::NotFound), "{error:?}");
    assert_eq!(store.find_user_by_email(&ghost.user.email).await.expect("read"), None);
}

async fn a_session_is_found_until_it_expires(app: TestApp) {
    let store = app.store.as_ref();
    let live = account_session(store, 3600).await;
    let now = Timestamp::now();
    assert_eq!(read_session(store, live.user_id, live.id, now).await, Some(live.clone()));
    // Lazy expiry: past its end the session is gone even though no TTL sweep ran.
    let later = live.expires_at.plus_seconds(1);
    assert_eq!(read_session(store, live.user_id, live.id, later).await, None);
    assert_eq!(read_session(store, live.user_id, SessionId::new(), now).await, None);
    // Found only under its own user: a token naming another `sub` finds nothing.
    assert_eq!(read_session(store, UserId::new(), live.id, now).await, None);

    assert_eq!(conflict(store.create_session(&live).await), Conflict::SessionExists);
}

async fn a_session_holds_the_accounts_current_role(app: TestApp) {
    let store = app.store.as_ref();
    let dave = record("dave@shop.test");
    store.create_user(&dave, None).await.expect("created");
    let first = session(&dave.user, 3600);
    let second = session(&dave.user, 3600);
    store.create_session(&first).await.expect("created");
    store.create_session(&second).await.expect("created");

    store
        .set_role(&dave.user, Role::Admin, &e2e::role_change(&dave.user, Role::Admin))
        .await
        .expect("promoted");
    let now = Timestamp::now();
    for s in [&first, &second] {
        let stored = read_session(store, dave.user.id, s.id, now).await.expect("live");
        assert_eq!(stored.role, Role::Admin);
    }
    store
        .set_role(&dave.user, Role::Customer, &e2e::role_change(&dave.user, Role::Customer))
        .await
        .expect("demoted");
    let stored = read_session(store, dave.user.id, first.id, now).await.expect("live");
    assert_eq!(stored.role, Role::Customer);

    // A session read before a role change is not opened with the old role.
    let stale = session(&dave.user, 3600);
    store
        .set_role(
            &dave.user,
            Role::PrimeCustomer,
            &e2e::role_change(&dave.user, Role::PrimeCustomer),
        )
        .await
        .expect("changed");
    assert_eq!(conflict(store.create_session(&stale).await), Conflict::RoleChanged);
    assert_eq!(read_session(store, dave.user.id, stale.id, now).await, None);
    // Nor for an account that does not exist.
    let ghost = session(&record("ghost@shop.test").user, 3600);
    assert_eq!(conflict(store.create_session(&ghost).await), Conflict::RoleChanged);
}

fn admitted(admission: LoginAdmission) -> (bool, u32, Timestamp) {
    match admission {
        LoginAdmission::Admitted { account, attempts } => {
            (account.is_some(), attempts.count, attempts.window_ends)
        }
        LoginAdmission::Locked { retry_after_seconds } => {
            panic!("locked for {retry_after_seconds} s")
        }
    }
}

async fn login_attempts_count_in_one_window_and_a_session_clears_them(app: TestApp) {
    let store = app.store.as_ref();
    let erin = record(&format!("erin-{}@shop.test", UserId::new()).to_lowercase());
    store.create_user(&erin, None).await.expect("created");
    let email = &erin.user.email;
    let start = Timestamp::now();
    // An admitted attempt carries the account, hash included.
    match store.admit_login(email, start, 3, 60).await.expect("admit") {
        LoginAdmission::Admitted { account, attempts } => {
            assert_eq!(account, Some(erin.clone()));
            assert_eq!(attempts, LoginFailures { count: 1, window_ends: start.plus_seconds(60) });
        }
        locked => panic!("{locked:?}"),
    }
    // Later attempts count in the window the first one opened, up to the limit.
    for (second, count) in [(1, 2), (2, 3)] {
        let at = start.plus_seconds(second);
        let admission = store.admit_login(email, at, 3, 60).await.expect("admit");
        assert_eq!(admitted(admission), (true, count, start.plus_seconds(60)));
    }
    // At the limit: refused until the window ends, without counting.
    for _ in 0..2 {
        let refused = store.admit_login(email, start.plus_seconds(3), 3, 60).await.expect("admit");
        assert_eq!(refused, LoginAdmission::Locked { retry_after_seconds: 57 });
    }
    // After the window, a new one opens.
    let later = start.plus_seconds(61);
    let admission = store.admit_login(email, later, 3, 60).await.expect("admit");
    assert_eq!(admitted(admission), (true, 1, start.plus_seconds(121)));
    // A session (a login that succeeded) clears the count: the next attempt opens a window.
    let s = session(&erin.user, 3600);
    store.create_session(&s).await.expect("opened");
    let after = start.plus_seconds(62);
    let admission = store.admit_login(email, after, 3, 60).await.expect("admit");
    assert_eq!(admitted(admission), (true, 1, start.plus_seconds(122)));

    // An address without an account counts the same way, and locks the same way.
    let nobody =
        Email::parse(&format!("nobody-{}@shop.test", UserId::new()).to_lowercase()).expect("email");
    for count in 1..=3 {
        let admission = store.admit_login(&nobody, start, 3, 60).await.expect("admit");
        assert_eq!(admitted(admission), (false, count, start.plus_seconds(60)));
    }
    let refused = store.admit_login(&nobody, start.plus_seconds(10), 3, 60).await.expect("admit");
    assert_eq!(refused, LoginAdmission::Locked { retry_after_seconds: 50 });
    // Another address is not affected by either.
    let other = record(&format!("other-{}@shop.test", UserId::new()).to_lowercase());
    store.create_user(&other, None).await.expect("created");
    let admission = store.admit_login(&other.user.email, start, 3, 60).await.expect("admit");
    assert_eq!(admitted(admission), (true, 1, start.plus_seconds(60)));
}

/// 24 attempts at once against a limit of 5, for an account and for an unknown address:
/// exactly 5 are admitted (counts 1 to 5), the others refused.
async fn concurrent_login_attempts_never_pass_the_limit(app: TestApp) {
    let account = record(&format!("frank-{}@shop.test", UserId::new()).to_lowercase());
    app.store.create_user(&account, None).await.expect("created");
    let unknown =
        Email::parse(&format!("ghost-{}@shop.test", UserId::new()).to_lowercase()).expect("email");
    let now = Timestamp::now();
    for email in [account.user.email.clone(), unknown] {
        let mut racers = tokio::task::JoinSet::new();
        for _ in 0..24 {
            let store = std::sync::Arc::clone(&app.store);
            let email = email.clone();
            racers.spawn(async move { store.admit_login(&email, now, 5, 900).await });
        }
        let mut counts = Vec::new();
        let mut refused = 0;
        for admission in racers.join_all().await {
            match admission.expect("admit") {
                LoginAdmission::Admitted { attempts, .. } => counts.push(attempts.count),
                LoginAdmission::Locked { .. } => refused += 1,
            }
        }
        counts.sort_unstable();
        assert_eq!(counts, (1..=5).collect::<Vec<u32>>(), "{email}");
        assert_eq!(refused, 19, "{email}");
    }
}

async fn rotation_accepts_the_current_token_once(app: TestApp) {
    let store = app.store.as_ref();
    let s = account_session(store, 3600).await;
    let next = TokenId::new();
    let at = Timestamp::now();
    match store.rotate_refresh(&Rotation { next, ..rotation(&s, at) }).await.expect("rotate") {
        RotateOutcome::Rotated(rotated) => {
            assert_eq!(rotated.refresh_jti, next);
            let previous = rotated.previous_jti.map(|(jti, when)| (jti, when.unix()));
            assert_eq!(previous, Some((s.refresh_jti, at.unix())));
            assert_eq!(
                (rotated.id, rotated.user_id, rotated.expires_at),
                (s.id, s.user_id, s.expires_at)
            );
        }
        other => panic!("expected Rotated, got {other:?}"),
    }
    let stored = read_session(store, s.user_id, s.id, Timestamp::now()).await.expect("live");
    assert_eq!(stored.refresh_jti, next);

    let replay = store.rotate_refresh(&rotation(&s, Timestamp::now())).await.expect("rotate");
    assert_eq!(replay, RotateOutcome::Stale(stored.clone()));
    // A refused rotation changes nothing.
    let after = read_session(store, s.user_id, s.id, Timestamp::now()).await.expect("live");
    assert_eq!(after, stored);
}

async fn rotation_of_an_ended_session_is_gone(app: TestApp) {
    let store = app.store.as_ref();
    let absent = store
        .rotate_refresh(&Rotation {
            user: UserId::new(),
            session: SessionId::new(),
            presented: TokenId::new(),
            next: TokenId::new(),
            now: Timestamp::now(),
        })
        .await;
    assert_eq!(absent.expect("rotate"), RotateOutcome::Gone);

    let s = account_session(store, 3600).await;
    let after_expiry = s.expires_at.plus_seconds(1);
    let expired = store.rotate_refresh(&rotation(&s, after_expiry)).await;
    assert_eq!(expired.expect("rotate"), RotateOutcome::Gone);
    let other_user = store
        .rotate_refresh(&Rotation { user: UserId::new(), ..rotation(&s, Timestamp::now()) })
        .await;
    assert_eq!(other_user.expect("rotate"), RotateOutcome::Gone);

    store.delete_session(s.user_id, s.id).await.expect("deleted");
    assert_eq!(read_session(store, s.user_id, s.id, Timestamp::now()).await, None);
    let deleted = store.rotate_refresh(&rotation(&s, Timestamp::now())).await;
    assert_eq!(deleted.expect("rotate"), RotateOutcome::Gone);
    store.delete_session(s.user_id, s.id).await.expect("deleting twice is fine");
}

async fn concurrent_rotations_of_one_token_let_exactly_one_win(app: TestApp) {
    let s = account_session(app.store.as_ref(), 3600).await;
    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let store = std::sync::Arc::clone(&app.store);
        let attempt = rotation(&s, Timestamp::now());
        racers.spawn(async move { store.rotate_refresh(&attempt).await.expect("rotate") });
    }
    let outcomes = racers.join_all().await;
    let won = outcomes.iter().filter(|o| matches!(o, RotateOutcome::Rotated(_))).count();
    let stale = outcomes.iter().filter(|o| matches!(o, RotateOutcome::Stale(_))).count();
    assert_eq!((won, stale), (1, 7), "{outcomes:?}");
}

async fn place_order_is_all_or_nothing(app: TestApp) {
    let store = app.store.as_ref();
    let shirt = item("Shirt", "c", &["S-1", "S-2"]);
    store.create_product(&shirt, &audit()).await.expect("created");
    let mut limited = coupon("ONE-USE", 0);
    limited.max_uses = Some(1);
    store.create_coupon(&limited, &audit()).await.expect("coupon");
    let user = UserId::new();
    let lines = [line(&shirt, "S-1", 2), line(&shirt, "S-2", 1)];
    let version = store.save_cart(user, 0, &lines, "w").await.expect("cart");
    let now = Timestamp::now();
    let products = store.find_products(&[shirt.id]).await.expect("read");
    let offer = CouponOffer { coupon: &limited, used_by_customer: 0 };
    let done =
        checkout(user, Role::Customer, &lines, &products, Some(offer), now).expect("checkout");
    let event = OrderEvent::new(&done.order, OrderEventKind::OrderPlaced, now);
    let record = IdempotencyRecord {
        user,
        key: "k-1".into(),
        request: "{}".into(),
        order: done.order.clone(),
        expires_at: now.plus_seconds(60),
    };
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
    let version = store.save_cart(user, 0, &[line(&shirt, "S-2", 1)], "w").await.expect("cart");
    let again = store.place_order(&new(version, &done)).await;
    assert!(matches!(again, Err(StoreError::Conflict(Conflict::IdempotencyKeyUsed))), "{again:?}");
    let small = checkout(
        user,
        Role::Customer,
        &[line(&shirt, "S-2", 1)],
        &store.find_products(&[shirt.id]).await.expect("read"),
        None,
        now,
    )
    .expect("checkout");
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

async fn status_changes_are_conditional_and_restock(app: TestApp) {
    let store = app.store.as_ref();
    let shirt = item("Shirt", "c", &["S-1"]);
    store.create_product(&shirt, &audit()).await.expect("created");
    let user = UserId::new();
    let lines = [line(&shirt, "S-1", 2)];
    let version = store.save_cart(user, 0, &lines, "w").await.expect("cart");
    let now = Timestamp::now();
    let done = checkout(
        user,
        Role::Customer,
        &lines,
        &store.find_products(&[shirt.id]).await.expect("read"),
        None,
        now,
    )
    .expect("checkout");
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
    assert_eq!(
        store.find_product(shirt.id).await.expect("read").expect("exists").variants[0].stock,
        2
    );

    // The same change again was decided on a stale status: refused, nothing restocked.
    let again = store.change_order_status(&change).await;
    assert!(matches!(again, Err(StoreError::Conflict(Conflict::OrderChanged))), "{again:?}");
    assert_eq!(
        store.find_product(shirt.id).await.expect("read").expect("exists").variants[0].stock,
        2
    );
    let pending = store
        .list_orders(&OrderQuery {
            scope: OrderScope::All(Some(OrderStatus::Pending)),
            after: None,
            limit: 10,
        })
        .await
        .expect("list");
    let gone = store
        .list_orders(&OrderQuery {
            scope: OrderScope::All(Some(OrderStatus::Cancelled)),
            after: None,
            limit: 10,
        })
        .await
        .expect("list");
    assert_eq!(
        (pending.orders.len(), gone.orders.len()),
        (0, 1),
        "the status index moves with the order"
    );

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

async fn an_expired_idempotency_record_is_ignored_and_replaced(app: TestApp) {
    let store = app.store.as_ref();
    let shirt = item("Shirt", "c", &["S-1"]);
    store.create_product(&shirt, &audit()).await.expect("created");
    let user = UserId::new();
    let lines = [line(&shirt, "S-1", 1)];
    let now = Timestamp::now();
    for _ in 0..2 {
        let version = store.save_cart(user, 0, &lines, "w").await.expect("cart");
        let done = checkout(
            user,
            Role::Customer,
            &lines,
            &store.find_products(&[shirt.id]).await.expect("read"),
            None,
            now,
        )
        .expect("checkout");
        let event = OrderEvent::new(&done.order, OrderEventKind::OrderPlaced, now);
        let record = IdempotencyRecord {
            user,
            key: "old".into(),
            request: "{}".into(),
            order: done.order.clone(),
            expires_at: now,
        };
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
    assert_eq!(
        store.find_product(shirt.id).await.expect("read").expect("exists").variants[0].stock,
        0
    );
}

async fn an_e_mail_marker_is_claimed_once_and_taken_over_only_when_stale(app: TestApp) {
    let store = app.store.as_ref();
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
async fn the_same_claim_made_again_finds_itself(app: TestApp) {
    let store = app.store.as_ref();
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

both_stores!(
    the_same_claim_made_again_finds_itself,
    carts_are_per_user_and_written_only_at_the_version_read,
    coupons_are_unique_by_code_and_updates_never_touch_the_use_count,
    a_product_reads_back_as_written_and_counts,
    a_taken_sku_refuses_the_whole_product,
    replace_is_conditional_on_the_version_read,
    delete_releases_everything_and_a_second_delete_is_not_found,
    listings_are_newest_first_by_offset_or_after_a_position,
    a_created_user_is_found_by_email_and_by_id,
    a_taken_email_is_a_conflict_and_writes_nothing,
    set_role_changes_both_views_of_the_user,
    a_session_is_found_until_it_expires,
    a_session_holds_the_accounts_current_role,
    login_attempts_count_in_one_window_and_a_session_clears_them,
    concurrent_login_attempts_never_pass_the_limit,
    rotation_accepts_the_current_token_once,
    rotation_of_an_ended_session_is_gone,
    concurrent_rotations_of_one_token_let_exactly_one_win,
    place_order_is_all_or_nothing,
    status_changes_are_conditional_and_restock,
    an_expired_idempotency_record_is_ignored_and_replaced,
    an_e_mail_marker_is_claimed_once_and_taken_over_only_when_stale,
);
