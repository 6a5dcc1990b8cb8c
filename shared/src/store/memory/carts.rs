//! Carts in memory, one per user, written only at the version read.

use async_trait::async_trait;

use super::MemoryStore;
use crate::{
    domain::{CartLine, UserId},
    store::{CartStore, Conflict, StoreError, StoreResult, StoredCart, records::sort_lines},
};

#[async_trait]
impl CartStore for MemoryStore {
    async fn cart(&self, user: UserId) -> StoreResult<StoredCart> {
        Ok(self.lock().carts.get(&user).cloned().unwrap_or_default())
    }

    async fn save_cart(
        &self,
        user: UserId,
        version: u64,
        lines: &[CartLine],
        write_id: &str,
    ) -> StoreResult<u64> {
        let mut inner = self.lock();
        let current = inner.carts.get(&user).map_or(0, |cart| cart.version);
        if current != version {
            return Err(StoreError::Conflict(Conflict::CartChanged));
        }
        if lines.is_empty() {
            inner.carts.remove(&user);
            return inner.answer(Ok(0));
        }
        let mut lines = lines.to_vec();
        sort_lines(&mut lines);
        let next = version + 1;
        let write_id = Some(write_id.to_owned());
        inner.carts.insert(user, StoredCart { lines, version: next, write_id });
        inner.answer(Ok(next))
    }
}
