//! The audit trail (`AuditStore`): entries written by the admin writes themselves, found by
//! id, listed newest first by page and by action.

use super::*;
use shared::domain::{AuditAction, AuditEntry, AuditId};
use shared::store::AuditQuery;

async fn entries_are_found_by_id_and_listed_newest_first(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let admin = UserId::new();
    let mut written = Vec::new();
    for (n, action) in
        [AuditAction::ProductCreated, AuditAction::CouponCreated, AuditAction::ProductCreated]
            .into_iter()
            .enumerate()
    {
        let entry =
            AuditEntry::new(admin, action, "x", serde_json::json!({ "n": n }), Timestamp::now());
        match action {
            AuditAction::CouponCreated => {
                store.create_coupon(&coupon(&format!("AUD{n}"), 0), &entry).await.expect("coupon")
            }
            _ => store
                .create_product(&item("Audited", "a", &[&format!("AUD-{n}")]), &entry)
                .await
                .expect("product"),
        }
        written.push(entry);
    }
    assert_eq!(store.audit_entry(written[1].id).await.expect("read"), Some(written[1].clone()));
    assert_eq!(store.audit_entry(AuditId::new()).await.expect("read"), None);

    let query = |action, after, limit| AuditQuery { action, after, limit };
    let newest_first: Vec<_> = written.iter().rev().cloned().collect();
    let page = store.audit_entries(&query(None, None, 2)).await.expect("page");
    assert_eq!(page.entries, newest_first[..2]);
    let next = page.next.expect("more follow");
    let rest = store.audit_entries(&query(None, Some(next), 2)).await.expect("page");
    assert_eq!((rest.entries.as_slice(), rest.next), (&newest_first[2..], None));

    let products = query(Some(AuditAction::ProductCreated), None, 10);
    let products = store.audit_entries(&products).await.expect("page");
    assert_eq!(products.entries, [written[2].clone(), written[0].clone()]);
    let coupons = query(Some(AuditAction::CouponCreated), None, 10);
    assert_eq!(store.audit_entries(&coupons).await.expect("page").entries, [written[1].clone()]);
}

contract!(entries_are_found_by_id_and_listed_newest_first);
