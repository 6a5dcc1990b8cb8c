//! Coupon administration and the coupons a caller may use now. Handlers of the coupons
//! function only parse requests and shape responses around these.

use crate::store::Conflict;
use crate::{
    domain::{Coupon, CouponCode, CouponInput, Role, Timestamp},
    http::ApiError,
    store::{Store, StoreError},
};

/// The coupon operations over a store.
pub struct Coupons<'a> {
    pub store: &'a dyn Store,
}

fn not_found() -> ApiError {
    ApiError::not_found("coupon_not_found", "Coupon not found")
}

fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound => not_found(),
        StoreError::Conflict(Conflict::CouponExists) => {
            ApiError::conflict("coupon_exists", "A coupon with this code already exists")
        }
        other => other.into(),
    }
}

impl Coupons<'_> {
    /// Creates a coupon from an admin's input.
    pub async fn create(&self, input: CouponInput) -> Result<Coupon, ApiError> {
        let coupon = Coupon::parse_new(input).map_err(ApiError::validation)?;
        self.store
            .create_coupon(&coupon)
            .await
            .map_err(store_error)?;
        Ok(coupon)
    }

    /// Applies a partial update to the coupon named in the path.
    pub async fn update(&self, code: &str, input: CouponInput) -> Result<Coupon, ApiError> {
        let code = CouponCode::parse(code).map_err(|_| not_found())?;
        let current = self
            .store
            .find_coupon(&code)
            .await
            .map_err(store_error)?
            .ok_or_else(not_found)?;
        let next = current.parse_update(input).map_err(ApiError::validation)?;
        self.store.update_coupon(&next).await.map_err(store_error)?;
        Ok(next)
    }

    /// Deletes the coupon named in the path.
    pub async fn delete(&self, code: &str) -> Result<(), ApiError> {
        let code = CouponCode::parse(code).map_err(|_| not_found())?;
        self.store.delete_coupon(&code).await.map_err(store_error)
    }

    /// Every coupon (admins).
    pub async fn all(&self) -> Result<Vec<Coupon>, ApiError> {
        self.store.list_coupons().await.map_err(store_error)
    }

    /// The coupons `role` may use now: started, not expired, not used up.
    pub async fn offered_to(&self, role: Role) -> Result<Vec<Coupon>, ApiError> {
        let now = Timestamp::now();
        let mut coupons = self.all().await?;
        coupons.retain(|coupon| coupon.offered_to(role, now));
        Ok(coupons)
    }
}
