//! Carts in memory, one per user, written only at the version read; and the records of cart
//! writes made under an `Idempotency-Key`.

use async_trait::async_trait;

use super::{Inner, MemoryStore};
use crate::{
    domain::{CartLine, Timestamp, UserId},
    store::{
        CartKeyRecord, CartStore, Conflict, StoreError, StoreResult, StoredCart, VersionedWrite,
        records::sort_lines,
    },
};

impl Inner {
    /// Replaces the user's lines if the cart is at `version` (the conditional put).
    fn save_cart(&mut self, write: VersionedWrite<'_, CartLine>) -> StoreResult<u64> {
        let VersionedWrite { user, version, items: lines, write_id } = write;
        let current = self.carts.get(&user).map_or(0, |cart| cart.version);
        if current != version {
            return Err(StoreError::Conflict(Conflict::CartChanged));
        }
        if lines.is_empty() {
            self.carts.remove(&user);
            return Ok(0);
        }
        let mut lines = lines.to_vec();
        sort_lines(&mut lines);
        let next = version + 1;
        let write_id = Some(write_id.to_owned());
        self.carts.insert(user, StoredCart { lines, version: next, write_id });
        Ok(next)
    }
}

#[async_trait]
impl CartStore for MemoryStore {
    async fn cart(&self, user: UserId) -> StoreResult<StoredCart> {
        Ok(self.enter().await.carts.get(&user).cloned().unwrap_or_default())
    }

    async fn save_cart(&self, write: VersionedWrite<'_, CartLine>) -> StoreResult<u64> {
        let mut inner = self.enter().await;
        let saved = inner.save_cart(write);
        inner.answer(saved)
    }

    async fn cart_key(
        &self,
        user: UserId,
        key: &str,
        now: Timestamp,
    ) -> StoreResult<Option<CartKeyRecord>> {
        let inner = self.enter().await;
        let record = inner.cart_keys.get(&(user, key.to_owned()));
        Ok(record.filter(|r| r.expires_at > now).cloned())
    }

    async fn save_cart_keyed(
        &self,
        version: u64,
        write_id: &str,
        record: &CartKeyRecord,
        now: Timestamp,
    ) -> StoreResult<u64> {
        // One lock: the key's absence, the cart's version and both writes are one step, as
        // the transaction is on DynamoDB.
        let mut inner = self.enter().await;
        let slot = (record.user, record.key.clone());
        if inner.cart_keys.get(&slot).is_some_and(|r| r.expires_at > now) {
            return Err(StoreError::Conflict(Conflict::IdempotencyKeyUsed));
        }
        let write = VersionedWrite { user: record.user, version, items: &record.lines, write_id };
        let saved = inner.save_cart(write)?;
        inner.cart_keys.insert(slot, record.clone());
        inner.answer(Ok(saved))
    }
}
