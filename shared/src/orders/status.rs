//! The admin status machine: a change is written with its event, and a cancellation puts the
//! units back in stock in the same transaction.

use super::{ATTEMPTS, ChangeStatus, OrderError, Orders};
use crate::{
    domain::{
        AuditAction, AuditEntry, FieldErrors, Order, OrderEvent, OrderEventKind, OrderId,
        OrderStatus, ProductId, Timestamp, UnitsByProduct, UserId,
    },
    metrics::Metric,
    retry::{Attempt, with_retries},
    store::{Conflict, StatusChange, StoreError},
};

impl Orders<'_> {
    /// Moves an order along the status machine (admins). A cancellation puts its units back
    /// in stock in the same transaction; lines whose product or SKU is gone are not restocked.
    pub async fn set_status(
        &self,
        actor: UserId,
        id: &str,
        request: ChangeStatus,
    ) -> Result<Order, OrderError> {
        let to: OrderStatus = request.status.parse().map_err(|problem: &str| {
            let mut errors = FieldErrors::new();
            errors.add("status", problem);
            OrderError::Validation(errors)
        })?;
        let id: OrderId = id.parse().map_err(|_| OrderError::NotFound)?;
        // With payments, cancelling ends the payment too and shipping may capture it first
        // (one more read); without, the status machine is the original one.
        let with_payment =
            self.payments.is_some() && matches!(to, OrderStatus::Cancelled | OrderStatus::Shipped);
        let paid_order =
            with_payment && self.store.find_order(id).await?.is_some_and(|o| o.payment.is_some());
        if paid_order && to == OrderStatus::Cancelled {
            let ending = super::ending::Ending { actor, reason: None };
            return self.end(id, ending, None).await;
        }
        if paid_order && to == OrderStatus::Shipped {
            self.capture_for_shipping(actor, id).await?;
        }
        let changed = with_retries(ATTEMPTS, || self.try_set_status(actor, id, to)).await?;
        let changed = changed.ok_or(OrderError::OrderBusy)?;
        self.metrics.publish("set_status", &[Metric::count("OrderStatusChanged")]);
        Ok(changed)
    }

    async fn try_set_status(
        &self,
        actor: UserId,
        id: OrderId,
        to: OrderStatus,
    ) -> Result<Attempt<Order>, OrderError> {
        let current = self.store.find_order(id).await?.ok_or(OrderError::NotFound)?;
        let status = current.status.transition(to)?;
        if status == OrderStatus::Shipped && !self.may_ship(&current) {
            return Err(OrderError::Unpaid);
        }
        let now = Timestamp::now();
        let next =
            Order { status, updated_at: now, revision: current.revision + 1, ..current.clone() };
        let restock = if status.restocks() {
            self.restockable(current.units_by_product()).await?
        } else {
            UnitsByProduct::new()
        };
        let kind = OrderEventKind::StatusChanged { from: current.status, to: status };
        let event = OrderEvent::new(&next, kind, now);
        let details = serde_json::json!({ "from": current.status, "to": status });
        let audit = AuditEntry::new(actor, AuditAction::OrderStatusChanged, id, details, now);
        let change = StatusChange {
            current: &current,
            next: &next,
            restock: &restock,
            event: &event,
            audit: &audit,
        };
        // Retry safety: conditional on the status read (and on the restocked products), so it
        // applies once. When its answer is lost (the SDK's retry then fails on the status the
        // write itself changed, or the database does not answer), the write's own audit entry,
        // written in its transaction, tells whether it landed.
        let written = self.store.change_order_status(&change).await;
        let written = crate::audit::settled(self.store, written, audit.id).await;
        match written {
            Ok(()) => {
                self.publish(&event).await;
                Ok(Attempt::Done(next))
            }
            Err(StoreError::NotFound) => Err(OrderError::NotFound),
            Err(StoreError::Conflict(Conflict::OrderChanged | Conflict::ProductChanged)) => {
                Ok(Attempt::Retry)
            }
            Err(
                StoreError::Conflict(Conflict::TransactionConflict) | StoreError::Unavailable(_),
            ) => Ok(Attempt::Backoff),
            Err(other) => Err(other.into()),
        }
    }

    /// The units that can go back: those whose product and SKU still exist.
    pub(super) async fn restockable(
        &self,
        mut units: UnitsByProduct,
    ) -> Result<UnitsByProduct, OrderError> {
        let ids: Vec<ProductId> = units.keys().copied().collect();
        let products = self.store.find_products(&ids).await?;
        units.retain(|id, skus| {
            let Some(product) = products.get(id) else {
                return false;
            };
            skus.retain(|(sku, _)| product.variants.iter().any(|v| v.sku == *sku));
            !skus.is_empty()
        });
        Ok(units)
    }
}
