//! Accounts (`UserStore`): uniqueness, roles, and the login attempts counted before a hash.

use super::*;

async fn a_created_user_is_found_by_email_and_by_id(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let alice = record("alice@shop.test");
    store.create_user(&alice, None).await.expect("created");
    let by_email = store.find_user_by_email(&alice.user.email).await.expect("read");
    assert_eq!(by_email.as_ref(), Some(&alice));
    assert_eq!(store.find_user(alice.user.id).await.expect("read"), Some(alice.user.clone()));
    let stranger = Email::parse("nobody@shop.test").expect("email");
    assert_eq!(store.find_user_by_email(&stranger).await.expect("read"), None);
    assert_eq!(store.find_user(UserId::new()).await.expect("read"), None);
}

async fn a_taken_email_is_a_conflict_and_writes_nothing(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let first = record("dup@shop.test");
    store.create_user(&first, None).await.expect("created");
    let second = record("dup@shop.test");
    let error = store.create_user(&second, None).await.expect_err("duplicate refused");
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(store.find_user(second.user.id).await.expect("read"), None);
    let kept = store.find_user_by_email(&first.user.email).await.expect("read");
    assert_eq!(kept.map(|r| r.user.id), Some(first.user.id));
}

async fn set_role_changes_both_views_of_the_user(store: Arc<dyn Store>) {
    let store = store.as_ref();
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

/// A window of 60 seconds admitting 3 attempts, seen at `now`.
fn window(now: Timestamp) -> LoginWindow {
    LoginWindow { now, max_attempts: 3, seconds: 60 }
}

async fn login_attempts_count_in_one_window_and_a_session_clears_them(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let erin = record(&format!("erin-{}@shop.test", UserId::new()).to_lowercase());
    store.create_user(&erin, None).await.expect("created");
    let email = &erin.user.email;
    let start = Timestamp::now();
    // An admitted attempt carries the account, hash included.
    match store.admit_login(email, window(start)).await.expect("admit") {
        LoginAdmission::Admitted { account, attempts } => {
            assert_eq!(account, Some(erin.clone()));
            assert_eq!(attempts, LoginFailures { count: 1, window_ends: start.plus_seconds(60) });
        }
        locked => panic!("{locked:?}"),
    }
    // Later attempts count in the window the first one opened, up to the limit.
    for (second, count) in [(1, 2), (2, 3)] {
        let at = start.plus_seconds(second);
        let admission = store.admit_login(email, window(at)).await.expect("admit");
        assert_eq!(admitted(admission), (true, count, start.plus_seconds(60)));
    }
    // At the limit: refused until the window ends, without counting.
    for _ in 0..2 {
        let refused = store.admit_login(email, window(start.plus_seconds(3))).await.expect("admit");
        assert_eq!(refused, LoginAdmission::Locked { retry_after_seconds: 57 });
    }
    // After the window, a new one opens.
    let later = start.plus_seconds(61);
    let admission = store.admit_login(email, window(later)).await.expect("admit");
    assert_eq!(admitted(admission), (true, 1, start.plus_seconds(121)));
    // A session (a login that succeeded) clears the count: the next attempt opens a window.
    let s = session(&erin.user, 3600);
    store.create_session(&s).await.expect("opened");
    let after = start.plus_seconds(62);
    let admission = store.admit_login(email, window(after)).await.expect("admit");
    assert_eq!(admitted(admission), (true, 1, start.plus_seconds(122)));

    // An address without an account counts the same way, and locks the same way.
    let nobody =
        Email::parse(&format!("nobody-{}@shop.test", UserId::new()).to_lowercase()).expect("email");
    for count in 1..=3 {
        let admission = store.admit_login(&nobody, window(start)).await.expect("admit");
        assert_eq!(admitted(admission), (false, count, start.plus_seconds(60)));
    }
    let refused = store.admit_login(&nobody, window(start.plus_seconds(10))).await.expect("admit");
    assert_eq!(refused, LoginAdmission::Locked { retry_after_seconds: 50 });
    // Another address is not affected by either.
    let other = record(&format!("other-{}@shop.test", UserId::new()).to_lowercase());
    store.create_user(&other, None).await.expect("created");
    let admission = store.admit_login(&other.user.email, window(start)).await.expect("admit");
    assert_eq!(admitted(admission), (true, 1, start.plus_seconds(60)));
}

/// 24 attempts at once against a limit of 5, for an account and for an unknown address:
/// exactly 5 are admitted (counts 1 to 5), the others refused.
async fn concurrent_login_attempts_never_pass_the_limit(store: Arc<dyn Store>) {
    let account = record(&format!("frank-{}@shop.test", UserId::new()).to_lowercase());
    store.create_user(&account, None).await.expect("created");
    let unknown =
        Email::parse(&format!("ghost-{}@shop.test", UserId::new()).to_lowercase()).expect("email");
    let now = Timestamp::now();
    for email in [account.user.email.clone(), unknown] {
        let mut racers = tokio::task::JoinSet::new();
        for _ in 0..24 {
            let store = Arc::clone(&store);
            let email = email.clone();
            racers.spawn(async move {
                store.admit_login(&email, LoginWindow { now, max_attempts: 5, seconds: 900 }).await
            });
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

contract!(
    a_created_user_is_found_by_email_and_by_id,
    a_taken_email_is_a_conflict_and_writes_nothing,
    set_role_changes_both_views_of_the_user,
    login_attempts_count_in_one_window_and_a_session_clears_them,
    concurrent_login_attempts_never_pass_the_limit,
);
