//! The order-event outbox: events committed with their change and not yet published, read
//! oldest first through GSI1 (`OUTBOX` / event id) and deleted once published.

use async_trait::async_trait;

use super::{DynamoStore, classify, keys};
use crate::{
    domain::{EventId, OrderEvent},
    store::{OutboxStore, StoreResult},
};

#[async_trait]
impl OutboxStore for DynamoStore {
    async fn outbox_events(&self, limit: usize) -> StoreResult<Vec<OrderEvent>> {
        let items = self.query_page(self.query_index(keys::OUTBOX), limit).await?;
        items.iter().map(OrderEvent::try_from).collect()
    }

    async fn delete_outbox_event(&self, id: EventId) -> StoreResult<()> {
        self.delete_item(keys::outbox(id), keys::OUTBOX)
            .send()
            .await
            .map_err(|e| classify("DeleteItem", e))?;
        Ok(())
    }
}
