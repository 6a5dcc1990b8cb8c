//! The storage contract: every operation of every store trait, the same cases against the
//! in-memory store and the DynamoDB store, one file per aggregate. The fixture is the store
//! alone (no router, no services); `every_store_operation_has_a_contract_case` fails when a
//! trait method is called in no case of its aggregate's file.

use std::sync::Arc;

use shared::store::Conflict;
use shared::store::Store;
use shared::{
    domain::{
        CartLine, Coupon, CouponCode, CouponInput, CouponOffer, DeliveryState, Email, Order,
        OrderEvent, OrderEventKind, OrderStatus, Product, ProductId, ProductInput, ProductPatch,
        ProductSpec, Role, SessionId, Sku, StoredHash, Timestamp, TokenId, User, UserId, checkout,
    },
    store::{
        Claim, DeliveryClaim, EmailClaim, EmailMarker, IdempotencyRecord, ListStart,
        LoginAdmission, LoginFailures, LoginWindow, NewOrder, OrderQuery, OrderScope, ProductQuery,
        RotateOutcome, Rotation, Session, StatusChange, StoreError, StoredCart, UserRecord,
        VersionedWrite, sort_key,
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
async fn account_session(store: &dyn Store, lifetime_seconds: i64) -> Session {
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

/// `user`'s checkout of `lines` at `now`, priced from the stored products, without a coupon.
async fn priced(
    store: &dyn Store,
    user: UserId,
    lines: &[CartLine],
    now: Timestamp,
) -> shared::domain::Checkout {
    let ids: Vec<ProductId> = lines.iter().map(|line| line.product_id).collect();
    let products = store.find_products(&ids).await.expect("read");
    checkout(user, Role::Customer, lines, &products, None, now).expect("checkout")
}

/// Runs each named case on a fresh in-memory store and on a fresh DynamoDB table (moto), on
/// four workers, so concurrent calls in a case really race.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn memory() {
                    super::$name(e2e::store(e2e::Backend::Memory).await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn dynamodb() {
                    super::$name(e2e::store(e2e::Backend::Dynamo).await).await;
                }
            }
        )*
    };
}

mod accounts;
mod addresses;
mod audit;
mod carts;
mod catalog;
mod coupons;
mod coverage;
mod emails;
mod orders;
mod payments;
mod sessions;
mod webhooks;
