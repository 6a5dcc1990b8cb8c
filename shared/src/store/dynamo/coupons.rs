//! Coupons: `COUPON#<CODE>/META`, listed through GSI1 (`COUPONS` / `<CODE>`). The use count
//! (`uses`) belongs to checkouts; admin updates never write it.

use super::{attrs::malformed, keys};
use crate::store::Conflict;
use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{
    DynamoStore,
    admin::absent_is_not_found,
    attrs::{Item, n, s},
    built,
    transact::{Action, Expression},
};
use crate::{
    domain::{AuditEntry, Coupon, CouponCode, Money, Role, Timestamp},
    store::{CouponStore, StoreError, StoreResult},
};
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};

/// The admin-editable attributes: `Some` values to set, `None` ones to remove.
fn editable(coupon: &Coupon) -> Vec<(&'static str, Option<AttributeValue>)> {
    let roles = coupon.eligible_roles.iter().map(|r| s(r.as_str())).collect();
    vec![
        ("discount_percent", Some(n(i64::from(coupon.discount_percent)))),
        ("expiry", Some(s(coupon.expiry.to_string()))),
        ("eligible_roles", Some(AttributeValue::L(roles))),
        ("max_uses", coupon.max_uses.map(|v| n(i64::from(v)))),
        ("max_uses_per_user", coupon.max_uses_per_user.map(|v| n(i64::from(v)))),
        ("min_order_amount", coupon.min_order_amount.map(|m| s(m.to_string()))),
        ("starts_at", coupon.starts_at.map(|t| s(t.to_string()))),
    ]
}

fn to_item(coupon: &Coupon) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        ("PK".to_owned(), s(keys::coupon(&coupon.code))),
        ("SK".to_owned(), s(keys::META)),
        ("GSI1PK".to_owned(), s(keys::ALL_COUPONS)),
        ("GSI1SK".to_owned(), s(coupon.code.as_str())),
        ("code".to_owned(), s(coupon.code.as_str())),
        ("uses".to_owned(), n(i64::from(coupon.uses))),
    ]);
    for (name, value) in editable(coupon) {
        if let Some(value) = value {
            item.insert(name.to_owned(), value);
        }
    }
    item
}

impl TryFrom<&Item> for Coupon {
    type Error = StoreError;

    fn try_from(item: &Item) -> StoreResult<Self> {
        let optional_n = |name: &str| match item.0.get(name) {
            None => Ok(None),
            Some(_) => u32::try_from(item.n(name)?).map(Some).map_err(|_| malformed(name)),
        };
        let optional_time = |name: &str| match item.0.get(name) {
            None => Ok(None),
            Some(_) => Timestamp::parse(item.s(name)?).map(Some).map_err(|_| malformed(name)),
        };
        let roles = match item.0.get("eligible_roles") {
            Some(AttributeValue::L(values)) => values
                .iter()
                .map(|v| {
                    v.as_s()
                        .ok()
                        .and_then(|r| r.parse::<Role>().ok())
                        .ok_or_else(|| malformed("eligible_roles"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(malformed("eligible_roles")),
        };
        Ok(Coupon {
            code: CouponCode::parse(item.s("code")?).map_err(|_| malformed("code"))?,
            discount_percent: u8::try_from(item.n("discount_percent")?)
                .map_err(|_| malformed("discount_percent"))?,
            expiry: Timestamp::parse(item.s("expiry")?).map_err(|_| malformed("expiry"))?,
            eligible_roles: roles,
            max_uses: optional_n("max_uses")?,
            max_uses_per_user: optional_n("max_uses_per_user")?,
            min_order_amount: match item.0.get("min_order_amount") {
                None => None,
                Some(_) => Some(item.parse::<Money>("min_order_amount")?),
            },
            starts_at: optional_time("starts_at")?,
            uses: u32::try_from(item.n("uses")?).map_err(|_| malformed("uses"))?,
        })
    }
}

#[async_trait]
impl CouponStore for DynamoStore {
    async fn create_coupon(&self, coupon: &Coupon, audit: &AuditEntry) -> StoreResult<()> {
        let mut absent = Expression::default();
        let pk = absent.name("PK");
        let put = self.put(
            to_item(coupon),
            Some((&format!("attribute_not_exists({pk})"), absent)),
            Some(Conflict::CouponExists),
        )?;
        self.transact_actions(vec![put, self.audit_put(audit)?]).await
    }

    async fn find_coupon(&self, code: &CouponCode) -> StoreResult<Option<Coupon>> {
        self.get(keys::coupon(code), keys::META)
            .await?
            .map(|item| Coupon::try_from(&item))
            .transpose()
    }

    async fn update_coupon(&self, coupon: &Coupon, audit: &AuditEntry) -> StoreResult<()> {
        let mut expression = Expression::default();
        let mut sets = Vec::new();
        let mut removes = Vec::new();
        for (name, value) in editable(coupon) {
            let placeholder = expression.name(name);
            match value {
                Some(value) => sets.push(format!("{placeholder} = {}", expression.value(value))),
                None => removes.push(placeholder),
            }
        }
        let mut set = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            set.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let update = self.update(
            keys::coupon(&coupon.code),
            keys::META,
            &set,
            Some("attribute_exists(PK)"),
            expression,
            Some(Conflict::Absent),
        )?;
        absent_is_not_found(self.transact_actions(vec![update, self.audit_put(audit)?]).await)
    }

    async fn delete_coupon(&self, code: &CouponCode, audit: &AuditEntry) -> StoreResult<()> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("PK", s(keys::coupon(code)))
            .key("SK", s(keys::META))
            .condition_expression("attribute_exists(PK)");
        let action = Action {
            item: TransactWriteItem::builder().delete(built(delete.build())?).build(),
            conflict: Some(Conflict::Absent),
        };
        absent_is_not_found(self.transact_actions(vec![action, self.audit_put(audit)?]).await)
    }

    async fn list_coupons(&self) -> StoreResult<Vec<Coupon>> {
        self.query_all(self.query_index(keys::ALL_COUPONS))
            .await?
            .iter()
            .map(Coupon::try_from)
            .collect()
    }
}
