//! What each service may touch of storage: the narrow store traits it uses, and nothing else.
//! Every view is a supertrait of [`Store`], so a `&dyn Store` becomes any view by
//! trait upcasting, and a service holding a view cannot reach the rest of the table.

use super::{
    AddressStore, AuditStore, CartStore, CouponStore, DynamoStore, MemoryStore, OrderStore,
    OutboxStore, PaymentStore, ProductStore, SentEmailStore, SessionStore, UserStore, WebhookStore,
};

/// Declares a view: a trait made of store traits, implemented by whatever implements them.
macro_rules! view {
    ($(#[$doc:meta])* $name:ident: $first:ident $(+ $rest:ident)*) => {
        $(#[$doc])*
        pub trait $name: $first $(+ $rest)* {}
        impl<T: $first $(+ $rest)* + ?Sized> $name for T {}
    };
}

view!(
    /// Accounts: users and their sessions.
    AccountStorage: UserStore + SessionStore
);
view!(
    /// The catalog: products, and the audit trail that settles a lost answer.
    CatalogStorage: ProductStore + AuditStore
);
view!(
    /// Coupon administration, and the audit trail that settles a lost answer.
    CouponStorage: CouponStore + AuditStore
);
view!(
    /// Carts, priced from the products.
    CartStorage: CartStore + ProductStore
);
view!(
    /// Checkout, orders, their payments and the outbox; the coupons and products an order's
    /// ending gives back; the audit trail of admin changes.
    OrderStorage: OrderStore + PaymentStore + OutboxStore + CouponStore + ProductStore + AuditStore
);
view!(
    /// Webhook administration, and the audit trail that settles a lost answer.
    WebhookStorage: WebhookStore + AuditStore
);
view!(
    /// Webhook deliveries: the subscriptions and their log, and the orders events name.
    DeliveryStorage: WebhookStore + OrderStore
);
view!(
    /// Order e-mails: their markers, the orders and their customers.
    EmailStorage: SentEmailStore + OrderStore + UserStore
);

/// Everything the functions need from storage: every store trait, implemented by both stores.
pub trait Store:
    UserStore
    + AccountStorage
    + CatalogStorage
    + CouponStorage
    + CartStorage
    + OrderStorage
    + WebhookStorage
    + DeliveryStorage
    + EmailStorage
    + AddressStore
    + AuditStore
    + WebhookStore
    + SessionStore
    + ProductStore
    + CouponStore
    + CartStore
    + OrderStore
    + PaymentStore
    + OutboxStore
    + SentEmailStore
{
}

impl Store for DynamoStore {}
impl Store for MemoryStore {}
