//! The request builders the store's operations start from: the table is named, and a single
//! item's key written, in one place.

use aws_sdk_dynamodb::operation::{
    delete_item::builders::DeleteItemFluentBuilder, put_item::builders::PutItemFluentBuilder,
    query::builders::QueryFluentBuilder, update_item::builders::UpdateItemFluentBuilder,
};

use super::{DynamoStore, attrs::s};

impl DynamoStore {
    /// A Query on the table.
    pub(super) fn query(&self) -> QueryFluentBuilder {
        self.client.query().table_name(&self.table)
    }

    /// A Query of partition `pk`'s items whose sort key starts with `prefix`.
    pub(super) fn query_prefix(&self, pk: String, prefix: &str) -> QueryFluentBuilder {
        self.query()
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
    }

    /// A Query of GSI1's partition `pk`: the shop-wide lists (coupons, webhooks, the outbox).
    pub(super) fn query_index(&self, pk: &str) -> QueryFluentBuilder {
        self.query()
            .index_name("GSI1")
            .key_condition_expression("GSI1PK = :pk")
            .expression_attribute_values(":pk", s(pk))
    }

    /// A PutItem on the table (the item names its own key).
    pub(super) fn put_item(&self) -> PutItemFluentBuilder {
        self.client.put_item().table_name(&self.table)
    }

    /// An UpdateItem of the item (`pk`, `sk`).
    pub(super) fn update_item(&self, pk: String, sk: impl Into<String>) -> UpdateItemFluentBuilder {
        self.client.update_item().table_name(&self.table).key("PK", s(pk)).key("SK", s(sk))
    }

    /// A DeleteItem of the item (`pk`, `sk`).
    pub(super) fn delete_item(&self, pk: String, sk: impl Into<String>) -> DeleteItemFluentBuilder {
        self.client.delete_item().table_name(&self.table).key("PK", s(pk)).key("SK", s(sk))
    }
}
