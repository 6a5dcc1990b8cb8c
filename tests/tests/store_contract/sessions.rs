//! Sessions (`SessionStore`): expiry, the current role, refresh rotation under races.

use super::*;

/// The live session `session` of `user` at `now`, if the store finds it.
async fn read_session(
    store: &dyn Store,
    user: UserId,
    session: SessionId,
    now: Timestamp,
) -> Option<Session> {
    store.find_session(user, session, now).await.expect("read")
}

async fn a_session_is_found_until_it_expires(store: Arc<dyn Store>) {
    let store = store.as_ref();
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

async fn a_session_holds_the_accounts_current_role(store: Arc<dyn Store>) {
    let store = store.as_ref();
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

async fn rotation_accepts_the_current_token_once(store: Arc<dyn Store>) {
    let store = store.as_ref();
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

async fn rotation_of_an_ended_session_is_gone(store: Arc<dyn Store>) {
    let store = store.as_ref();
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

async fn concurrent_rotations_of_one_token_let_exactly_one_win(store: Arc<dyn Store>) {
    let s = account_session(store.as_ref(), 3600).await;
    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let store = Arc::clone(&store);
        let attempt = rotation(&s, Timestamp::now());
        racers.spawn(async move { store.rotate_refresh(&attempt).await.expect("rotate") });
    }
    let outcomes = racers.join_all().await;
    let won = outcomes.iter().filter(|o| matches!(o, RotateOutcome::Rotated(_))).count();
    let stale = outcomes.iter().filter(|o| matches!(o, RotateOutcome::Stale(_))).count();
    assert_eq!((won, stale), (1, 7), "{outcomes:?}");
}

contract!(
    a_session_is_found_until_it_expires,
    a_session_holds_the_accounts_current_role,
    rotation_accepts_the_current_token_once,
    rotation_of_an_ended_session_is_gone,
    concurrent_rotations_of_one_token_let_exactly_one_win,
);
