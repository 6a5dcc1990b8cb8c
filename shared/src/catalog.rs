//! Catalog operations: validate, apply the rules, store. The products function's handlers
//! only parse requests and shape responses around these.

use serde::Serialize;

use crate::{
    domain::{
        AuditAction, AuditEntry, FieldErrors, Listing, Paging, Product, ProductId, ProductInput,
        ProductPatch, ProductSpec, Timestamp, UserId, encode_cursor,
    },
    retry::{Attempt, with_retries},
    store::{
        CatalogStorage, Conflict, ListStart, MAX_TRANSACTION_ACTIONS, ProductQuery, StoreError,
    },
};

/// How often a write is retried when another write to the same product got there first.
const ATTEMPTS: usize = 3;

/// Why a catalog operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Product not found.
    #[error("product not found")]
    NotFound,
    /// A SKU is taken.
    #[error("a SKU is taken")]
    SkuTaken,
    /// The product keeps changing.
    #[error("the product keeps changing")]
    Contended,
    /// Invalid fields, each with its messages.
    #[error(transparent)]
    Validation(#[from] FieldErrors),
    /// A storage failure.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CatalogError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => CatalogError::NotFound,
            StoreError::Conflict(Conflict::SkuTaken) => CatalogError::SkuTaken,
            StoreError::Conflict(Conflict::ProductChanged) => CatalogError::Contended,
            other => CatalogError::Store(other),
        }
    }
}

/// One page of a listing, in the shape of the mode that asked for it.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ProductList {
    /// The original API's envelope.
    Pages {
        /// Page number, from 1.
        page: usize,
        /// Items per page.
        per_page: usize,
        /// How many there are in all.
        total: u64,
        /// Pages of `per_page` in all.
        total_pages: u64,
        /// The products of the page.
        products: Vec<Product>,
    },
    /// Cursor paging: `next_cursor` is null on the last page.
    Cursor {
        /// Items per page.
        limit: usize,
        /// How many there are in all.
        total: u64,
        /// The cursor of the next page; none on the last.
        next_cursor: Option<String>,
        /// The products of the page.
        products: Vec<Product>,
    },
}

/// A conditional catalog write's outcome as an attempt: a product changed meanwhile is read
/// again.
fn written<T>(result: Result<(), StoreError>, value: T) -> Result<Attempt<T>, CatalogError> {
    match result {
        Ok(()) => Ok(Attempt::Done(value)),
        Err(StoreError::Conflict(Conflict::ProductChanged)) => Ok(Attempt::Retry),
        Err(other) => Err(other.into()),
    }
}

/// A catalog write's audit entry: the product's name, category, SKUs and version after it.
fn audit(actor: UserId, action: AuditAction, product: &Product, now: Timestamp) -> AuditEntry {
    let skus: Vec<&str> = product.variants.iter().map(|v| v.sku.as_str()).collect();
    let details = serde_json::json!({
        "name": product.name,
        "category": product.category,
        "skus": skus,
        "version": product.version,
    });
    AuditEntry::new(actor, action, product.id, details, now)
}

/// The catalog over a store.
pub struct Catalog<'a> {
    /// The storage.
    pub store: &'a dyn CatalogStorage,
}

impl Catalog<'_> {
    /// Creates a product from an admin's input (`actor`), with its audit entry.
    pub async fn create(
        &self,
        actor: UserId,
        input: ProductInput,
    ) -> Result<Product, CatalogError> {
        let now = Timestamp::now();
        let product = Product::create(ProductSpec::parse(input)?, now);
        let audit = audit(actor, AuditAction::ProductCreated, &product, now);
        // Retry safety: the product id is new and the write is conditional on its absence and
        // on its SKUs being free, so it applies once. When its answer is lost (the SDK's retry
        // then finds the product and SKUs it claimed itself, or the database does not answer),
        // the write's own audit entry, written in its transaction, tells whether it landed. The
        // same holds for the update and the deletion.
        let created = self.store.create_product(&product, &audit).await;
        crate::audit::settled(self.store, created, audit.id).await?;
        Ok(product)
    }

    /// A product by the id in a path; a malformed id is simply not found.
    pub async fn get(&self, id: &str) -> Result<Product, CatalogError> {
        let id: ProductId = id.parse().map_err(|_| CatalogError::NotFound)?;
        self.store.find_product(id).await?.ok_or(CatalogError::NotFound)
    }

    /// Applies a partial update, re-reading and re-applying it if a concurrent write won.
    pub async fn update(
        &self,
        actor: UserId,
        id: &str,
        input: ProductInput,
    ) -> Result<Product, CatalogError> {
        let patch = &ProductPatch::parse(input)?;
        let updated = with_retries(ATTEMPTS, || async move {
            let current = self.get(id).await?;
            let now = Timestamp::now();
            let next = current.apply(patch.clone(), now);
            // One action of the transaction is the audit entry.
            current.check_update_size(&next, MAX_TRANSACTION_ACTIONS - 1)?;
            let mut audit = audit(actor, AuditAction::ProductUpdated, &next, now);
            audit.details["changes"] = current.changes_to(&next);
            let replaced = self.store.replace_product(&current, &next, &audit).await;
            written(crate::audit::settled(self.store, replaced, audit.id).await, next)
        })
        .await?;
        updated.ok_or(CatalogError::Contended)
    }

    /// Deletes a product with its SKU claims.
    pub async fn delete(&self, actor: UserId, id: &str) -> Result<(), CatalogError> {
        let deleted = with_retries(ATTEMPTS, || async move {
            let current = self.get(id).await?;
            let now = Timestamp::now();
            let audit = audit(actor, AuditAction::ProductDeleted, &current, now);
            let deleted = self.store.delete_product(&current, &audit).await;
            written(crate::audit::settled(self.store, deleted, audit.id).await, ())
        })
        .await?;
        deleted.ok_or(CatalogError::Contended)
    }

    /// A page of the catalog, newest first.
    pub async fn list(&self, listing: Listing) -> Result<ProductList, CatalogError> {
        let category = listing.category.as_deref();
        let (start, limit) = match &listing.paging {
            Paging::Pages { page, per_page } => {
                (ListStart::Offset((page - 1) * per_page), *per_page)
            }
            Paging::Cursor { after: Some(after), limit } => {
                (ListStart::After(after.clone()), *limit)
            }
            Paging::Cursor { after: None, limit } => (ListStart::Offset(0), *limit),
        };
        let query = ProductQuery { category: listing.category.clone(), start, limit };
        let (page, total) = tokio::try_join!(
            self.store.list_products(&query),
            self.store.count_products(category)
        )?;
        Ok(match listing.paging {
            Paging::Pages { page: number, per_page } => ProductList::Pages {
                page: number,
                per_page,
                total,
                total_pages: total.div_ceil(per_page as u64),
                products: page.products,
            },
            Paging::Cursor { limit, .. } => ProductList::Cursor {
                limit,
                total,
                next_cursor: page.next.as_deref().map(encode_cursor),
                products: page.products,
            },
        })
    }
}
