//! The table definition, read from the `AWS::DynamoDB::Table` resource of template.yaml so
//! that local and test tables are built from the one definition that is deployed.

use std::time::Duration;

use anyhow::{Context, bail};
use aws_sdk_dynamodb::{
    Client,
    types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
    },
};
use serde::Deserialize;

/// Keys, indexes and TTL attribute of the shop table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableSchema {
    /// `AttributeDefinitions`.
    pub attribute_definitions: Vec<AttributeDef>,
    /// `KeySchema`.
    pub key_schema: Vec<KeyDef>,
    /// `GlobalSecondaryIndexes`.
    #[serde(default)]
    pub global_secondary_indexes: Vec<IndexDef>,
    /// `TimeToLiveSpecification`.
    pub time_to_live_specification: Option<TtlDef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDef {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyDef {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexDef {
    pub index_name: String,
    pub key_schema: Vec<KeyDef>,
    pub projection: ProjectionDef,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProjectionDef {
    pub projection_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TtlDef {
    pub attribute_name: String,
    pub enabled: bool,
}

impl TableSchema {
    /// Finds the single `AWS::DynamoDB::Table` resource in a CloudFormation/SAM template.
    pub fn from_template(template_yaml: &str) -> anyhow::Result<Self> {
        let template: serde_norway::Value =
            serde_norway::from_str(template_yaml).context("template.yaml is not YAML")?;
        let resources = template
            .get("Resources")
            .and_then(serde_norway::Value::as_mapping)
            .context("template.yaml has no Resources")?;
        let mut tables = resources.values().filter(|resource| {
            resource.get("Type").and_then(serde_norway::Value::as_str)
                == Some("AWS::DynamoDB::Table")
        });
        let table = tables.next().context("template.yaml defines no AWS::DynamoDB::Table")?;
        if tables.next().is_some() {
            bail!("template.yaml defines more than one table; the design has one");
        }
        let properties = table.get("Properties").context("the table resource has no Properties")?;
        serde_norway::from_value(properties.clone())
            .context("the table's Properties do not describe keys and indexes")
    }

    fn key_schema(keys: &[KeyDef]) -> anyhow::Result<Vec<KeySchemaElement>> {
        keys.iter()
            .map(|key| {
                Ok(KeySchemaElement::builder()
                    .attribute_name(&key.attribute_name)
                    .key_type(KeyType::from(key.key_type.as_str()))
                    .build()?)
            })
            .collect()
    }
}

/// Creates `table` from `schema` (on-demand billing, TTL enabled) unless it exists, and
/// waits until it is active. Returns whether it created the table.
pub async fn create_table(
    client: &Client,
    table: &str,
    schema: &TableSchema,
) -> anyhow::Result<bool> {
    if client.describe_table().table_name(table).send().await.is_ok() {
        return Ok(false);
    }
    let mut request =
        client.create_table().table_name(table).billing_mode(BillingMode::PayPerRequest);
    for attribute in &schema.attribute_definitions {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(&attribute.attribute_name)
                .attribute_type(ScalarAttributeType::from(attribute.attribute_type.as_str()))
                .build()?,
        );
    }
    request = request.set_key_schema(Some(TableSchema::key_schema(&schema.key_schema)?));
    for index in &schema.global_secondary_indexes {
        request = request.global_secondary_indexes(global_index(index)?);
    }
    request.send().await.with_context(|| format!("creating table {table}"))?;
    wait_until_active(client, table).await?;
    if let Some(ttl) = schema.time_to_live_specification.as_ref().filter(|ttl| ttl.enabled) {
        enable_ttl(client, table, &ttl.attribute_name).await?;
    }
    Ok(true)
}

fn global_index(index: &IndexDef) -> anyhow::Result<GlobalSecondaryIndex> {
    let projection = Projection::builder()
        .projection_type(ProjectionType::from(index.projection.projection_type.as_str()))
        .build();
    Ok(GlobalSecondaryIndex::builder()
        .index_name(&index.index_name)
        .set_key_schema(Some(TableSchema::key_schema(&index.key_schema)?))
        .projection(projection)
        .build()?)
}

/// Waits (up to 30 s) for a new table to become active.
async fn wait_until_active(client: &Client, table: &str) -> anyhow::Result<()> {
    for _ in 0..120 {
        let described = client.describe_table().table_name(table).send().await?;
        if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

async fn enable_ttl(client: &Client, table: &str, attribute: &str) -> anyhow::Result<()> {
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder().attribute_name(attribute).enabled(true).build()?,
        )
        .send()
        .await
        .with_context(|| format!("enabling TTL on {table}"))?;
    Ok(())
}
