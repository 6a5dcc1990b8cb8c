//! The order-event outbox: events committed with their change and not yet published, read
//! oldest first through GSI1 (`OUTBOX` / event id) and deleted once published.

use async_trait::async_trait;

use super::{DynamoStore, attrs::s, classify, keys};
use crate::{
    domain::{EventId, OrderEvent},
    store::{OutboxStore, StoreResult},
};

#[async_trait]
impl OutboxStore for DynamoStore {
    async fn outbox_events(&self, limit: usize) -> StoreResult<Vec<OrderEvent>> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("GSI1")
            .key_condition_expression("GSI1PK = :pk")
            .expression_attribute_values(":pk", s(keys::OUTBOX));
        let items = self.query_page(request, limit).await?;
        items.iter().map(OrderEvent::try_from).collect()
    }

    async fn delete_outbox_event(&self, id: EventId) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(keys::outbox(id)))
            .key("SK", s(keys::OUTBOX))
            .send()
            .await
            .map_err(|e| classify("DeleteItem", e))?;
        Ok(())
    }
}
