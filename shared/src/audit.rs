//! Reading the admin audit trail (entries are written by the admin writes themselves, in their
//! transactions).

use serde::Deserialize;

use crate::{
    domain::{AuditAction, AuditEntry, AuditId, FieldErrors, query_number},
    store::{AuditQuery, AuditStore, StoreError},
};

/// `result` of an admin write, or `Ok` when it failed as a write whose answer was lost would
/// (a conflict with itself — its audit entry or its own change already there —, its target
/// gone, no answer) and its audit entry exists: the entry is written in the write's own
/// transaction, so the write landed. How coupon and webhook writes are retry-safe.
pub async fn settled(
    store: &dyn AuditStore,
    result: Result<(), StoreError>,
    audit: AuditId,
) -> Result<(), StoreError> {
    match result {
        Err(StoreError::Conflict(_) | StoreError::NotFound | StoreError::Unavailable(_)) => {
            let entry = crate::retry::until_answered(|| store.audit_entry(audit)).await?;
            if entry.is_some() { Ok(()) } else { result }
        }
        other => other,
    }
}

/// Entries per page when the client gives no `limit`.
pub const DEFAULT_LIMIT: usize = 50;
/// The most entries a page may ask for.
pub const MAX_LIMIT: usize = 200;

/// The query of `GET /admin/audit`.
#[derive(Debug, Default, Deserialize)]
pub struct AuditParams {
    /// Entries per page.
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this action (`product.created`, …).
    pub action: Option<String>,
}

/// A page of the trail and the cursor of the next one.
#[derive(Debug)]
pub struct AuditEntries {
    /// The entries, newest first.
    pub entries: Vec<AuditEntry>,
    /// The cursor of the next page; none on the last.
    pub next_cursor: Option<String>,
}

/// Why a listing failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Invalid parameters.
    #[error(transparent)]
    Validation(#[from] FieldErrors),
    /// A storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The audit trail over a store.
pub struct AuditLog<'a> {
    /// The storage.
    pub store: &'a dyn AuditStore,
}

impl AuditLog<'_> {
    /// A page of entries, newest first. The cursor is the last entry's id (entry ids are
    /// ULIDs, so sortable and not secret).
    pub async fn list(&self, params: AuditParams) -> Result<AuditEntries, AuditError> {
        let mut errors = FieldErrors::new();
        let limit = query_number(&mut errors, "limit", params.limit, DEFAULT_LIMIT, MAX_LIMIT);
        let after = params.cursor.as_deref().filter(|c| !c.is_empty()).and_then(|c| {
            errors
                .check("cursor", c.parse::<AuditId>().map_err(|_| "is not a cursor this API gave"))
        });
        let action = params
            .action
            .as_deref()
            .filter(|a| !a.is_empty())
            .and_then(|a| errors.check("action", a.parse::<AuditAction>()));
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let page = self.store.audit_entries(&AuditQuery { action, after, limit }).await?;
        Ok(AuditEntries { entries: page.entries, next_cursor: page.next.map(|id| id.to_string()) })
    }
}
