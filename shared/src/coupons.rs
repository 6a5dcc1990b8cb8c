//! Coupon administration and the coupons a caller may use now. Handlers of the coupons
//! function only parse requests and shape responses around these.

use crate::{
    domain::{
        AuditAction, AuditEntry, Coupon, CouponCode, CouponInput, FieldErrors, Role, Timestamp,
        UserId, field_changes,
    },
    store::{Conflict, CouponStorage, StoreError},
};

/// Why a coupon operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CouponError {
    /// Coupon not found.
    #[error("coupon not found")]
    NotFound,
    /// A coupon with this code exists.
    #[error("a coupon with this code exists")]
    Exists,
    /// Invalid fields, each with its messages.
    #[error(transparent)]
    Validation(#[from] FieldErrors),
    /// A storage failure.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CouponError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => CouponError::NotFound,
            StoreError::Conflict(Conflict::CouponExists) => CouponError::Exists,
            other => CouponError::Store(other),
        }
    }
}

/// A coupon write's audit entry: the coupon's admin-editable fields after it (not its use
/// count, which checkouts own).
fn audit(actor: UserId, action: AuditAction, coupon: &Coupon) -> AuditEntry {
    let mut details = serde_json::to_value(coupon).unwrap_or_default();
    if let Some(fields) = details.as_object_mut() {
        fields.remove("uses");
        fields.remove("code");
    }
    AuditEntry::new(actor, action, coupon.code.as_str(), details, Timestamp::now())
}

/// The coupon operations over a store.
pub struct Coupons<'a> {
    /// The storage.
    pub store: &'a dyn CouponStorage,
}

impl Coupons<'_> {
    /// Creates a coupon from an admin's input (`actor`), with its audit entry.
    pub async fn create(&self, actor: UserId, input: CouponInput) -> Result<Coupon, CouponError> {
        let coupon = Coupon::parse_new(input)?;
        let audit = audit(actor, AuditAction::CouponCreated, &coupon);
        // Retry safety: conditional on the code's absence; a lost answer is settled by the
        // write's audit entry (see `settled`). So are the update and the deletion.
        let created = self.store.create_coupon(&coupon, &audit).await;
        crate::audit::settled(self.store, created, audit.id).await?;
        Ok(coupon)
    }

    /// Applies a partial update to the coupon named in the path.
    pub async fn update(
        &self,
        actor: UserId,
        code: &str,
        input: CouponInput,
    ) -> Result<Coupon, CouponError> {
        let code = CouponCode::parse(code).map_err(|_| CouponError::NotFound)?;
        let current = self.store.find_coupon(&code).await?.ok_or(CouponError::NotFound)?;
        let next = current.parse_update(input)?;
        let mut audit = audit(actor, AuditAction::CouponUpdated, &next);
        // Each changed setting with its old and new value (the use count is not a setting).
        let (before, after) = (serde_json::to_value(&current), serde_json::to_value(&next));
        if let (Ok(before), Ok(after)) = (before, after) {
            audit.details["changes"] = field_changes(&before, &after, &["uses", "code"]).into();
        }
        let updated = self.store.update_coupon(&next, &audit).await;
        crate::audit::settled(self.store, updated, audit.id).await?;
        Ok(next)
    }

    /// Deletes the coupon named in the path.
    pub async fn delete(&self, actor: UserId, code: &str) -> Result<(), CouponError> {
        let code = CouponCode::parse(code).map_err(|_| CouponError::NotFound)?;
        let now = Timestamp::now();
        let audit = AuditEntry::new(
            actor,
            AuditAction::CouponDeleted,
            code.as_str(),
            serde_json::json!({}),
            now,
        );
        let deleted = self.store.delete_coupon(&code, &audit).await;
        Ok(crate::audit::settled(self.store, deleted, audit.id).await?)
    }

    /// Every coupon (admins).
    pub async fn all(&self) -> Result<Vec<Coupon>, CouponError> {
        Ok(self.store.list_coupons().await?)
    }

    /// The coupons `role` may use now: started, not expired, not used up.
    pub async fn offered_to(&self, role: Role) -> Result<Vec<Coupon>, CouponError> {
        let now = Timestamp::now();
        let mut coupons = self.all().await?;
        coupons.retain(|coupon| coupon.offered_to(role, now));
        Ok(coupons)
    }
}
