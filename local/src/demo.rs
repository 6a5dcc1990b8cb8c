//! `--demo` (or `SHOP_DEMO=1`): a small shop to explore at first start — six categories,
//! twenty products with variants, stock, prices and image URLs, two coupons, an admin and a
//! customer. Seeding is idempotent: a product whose SKUs exist, a coupon whose code exists
//! and an account that exists are left as they are, so restarting over a persistent table
//! changes nothing.
//!
//! The accounts' passwords are published here and printed at start: the local server refuses
//! `--demo` on anything but a loopback address.

use anyhow::Context;
use serde::Deserialize;
use shared::{
    auth::ensure_account,
    catalog::{Catalog, CatalogError},
    coupons::{CouponError, Coupons},
    domain::{CouponInput, Money, ProductInput, Role, Timestamp},
    store::Store,
};

/// The demo catalog and coupons.
const SHOP_JSON: &str = include_str!("../demo/shop.json");

/// The demo admin's e-mail.
pub const ADMIN_EMAIL: &str = "admin@shop.localhost";
/// The demo admin's password (published: demo only).
pub const ADMIN_PASSWORD: &str = "demo-admin-password";
/// The demo customer's e-mail.
pub const CUSTOMER_EMAIL: &str = "customer@shop.localhost";
/// The demo customer's password (published: demo only).
pub const CUSTOMER_PASSWORD: &str = "demo-customer-password";

#[derive(Deserialize)]
struct DemoShop {
    coupons: Vec<DemoCoupon>,
    products: Vec<ProductInput>,
}

/// A coupon whose expiry is relative to the day it is seeded.
#[derive(Deserialize)]
struct DemoCoupon {
    code: String,
    discount_percent: i64,
    valid_days: i64,
    eligible_roles: Vec<String>,
    min_order_amount: Option<Money>,
}

impl DemoCoupon {
    fn input(self, now: Timestamp) -> CouponInput {
        CouponInput {
            code: Some(self.code),
            discount_percent: Some(self.discount_percent),
            expiry: Some(now.plus_seconds(self.valid_days * 86_400).to_string()),
            eligible_roles: Some(self.eligible_roles),
            min_order_amount: self.min_order_amount,
            ..CouponInput::default()
        }
    }
}

/// What seeding did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Seeded {
    /// Products created by this run.
    pub products_created: usize,
    /// Products already there (their SKUs exist).
    pub products_present: usize,
    /// Coupon codes created by this run.
    pub coupons_created: usize,
    /// Coupon codes already there.
    pub coupons_present: usize,
    /// The demo coupons' codes.
    pub coupon_codes: Vec<String>,
    /// The admin account: created, exists or role changed.
    pub admin: &'static str,
    /// The customer account: created, exists or role changed.
    pub customer: &'static str,
}

/// Seeds the demo shop into `store`; safe to run on every start.
pub async fn seed(store: &dyn Store) -> anyhow::Result<Seeded> {
    let shop: DemoShop = serde_json::from_str(SHOP_JSON).context("demo/shop.json")?;
    let mut seeded = Seeded {
        admin: account(store, ADMIN_EMAIL, ADMIN_PASSWORD, Role::Admin).await?,
        customer: account(store, CUSTOMER_EMAIL, CUSTOMER_PASSWORD, Role::Customer).await?,
        ..Seeded::default()
    };
    // The catalog is written as the demo admin, so the audit trail names who seeded it.
    let admin_email = shared::domain::Email::parse(ADMIN_EMAIL).map_err(|e| anyhow::anyhow!(e))?;
    let admin = store
        .find_user_by_email(&admin_email)
        .await?
        .context("the demo admin was just ensured")?
        .user
        .id;
    let catalog = Catalog { store };
    for product in shop.products {
        let name = product.name.clone().unwrap_or_default();
        match catalog.create(admin, product).await {
            Ok(_) => seeded.products_created += 1,
            Err(CatalogError::SkuTaken) => seeded.products_present += 1,
            Err(error) => return Err(anyhow::anyhow!("demo product {name:?}: {error}")),
        }
    }
    let coupons = Coupons { store };
    let now = Timestamp::now();
    for coupon in shop.coupons {
        let code = coupon.code.clone();
        seeded.coupon_codes.push(code.clone());
        match coupons.create(admin, coupon.input(now)).await {
            Ok(_) => seeded.coupons_created += 1,
            Err(CouponError::Exists) => seeded.coupons_present += 1,
            Err(error) => return Err(anyhow::anyhow!("demo coupon {code}: {error}")),
        }
    }
    Ok(seeded)
}

async fn account(
    store: &dyn Store,
    email: &str,
    password: &str,
    role: Role,
) -> anyhow::Result<&'static str> {
    ensure_account(store, email, password, role)
        .await
        .map_err(|error| anyhow::anyhow!("demo account {email}: {error}"))
}

/// Refuses a host other than loopback: the demo accounts' passwords are public.
pub fn check_host(host: std::net::IpAddr) -> anyhow::Result<()> {
    anyhow::ensure!(
        host.is_loopback(),
        "--demo creates accounts with published passwords; it only runs on a loopback --host, not {host}"
    );
    Ok(())
}

/// The lines printed at start: where to look and how to sign in.
pub fn banner(address: std::net::SocketAddr, seeded: &Seeded) -> String {
    let total = seeded.products_created + seeded.products_present;
    format!(
        "\n  Demo shop at http://{address} ({total} products, {} new; coupons {})\n  \
         API explorer:  http://{address}/docs\n  \
         Admin:         {ADMIN_EMAIL} / {ADMIN_PASSWORD}\n  \
         Customer:      {CUSTOMER_EMAIL} / {CUSTOMER_PASSWORD}\n",
        seeded.products_created,
        seeded.coupon_codes.join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_runs_on_loopback_only() {
        assert!(check_host("127.0.0.1".parse().unwrap()).is_ok());
        assert!(check_host("::1".parse().unwrap()).is_ok());
        let refused = check_host("0.0.0.0".parse().unwrap()).unwrap_err();
        assert!(refused.to_string().contains("loopback"));
        assert!(check_host("192.168.1.20".parse().unwrap()).is_err());
    }

    #[test]
    fn the_demo_data_parses_and_its_coupons_expire_after_they_are_seeded() {
        let shop: DemoShop = serde_json::from_str(SHOP_JSON).unwrap();
        assert_eq!(shop.products.len(), 20);
        let now = Timestamp::now();
        for coupon in shop.coupons {
            let days = coupon.valid_days;
            let input = coupon.input(now);
            let expiry = Timestamp::parse(input.expiry.as_deref().unwrap()).unwrap();
            assert_eq!(expiry.unix() - now.unix(), days * 86_400);
        }
    }
}
