//! Typed access to DynamoDB attributes: a malformed item is an error naming the attribute.

use std::{collections::HashMap, str::FromStr};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::store::{StoreError, StoreResult};

/// A DynamoDB item with typed, error-reporting accessors: a malformed item is an
/// unexpected store error naming the attribute, never a panic.
#[derive(Debug, Clone, Default)]
pub struct Item(pub HashMap<String, AttributeValue>);

impl From<HashMap<String, AttributeValue>> for Item {
    fn from(map: HashMap<String, AttributeValue>) -> Self {
        Self(map)
    }
}

impl Item {
    /// A string attribute.
    pub fn s(&self, name: &str) -> StoreResult<&str> {
        match self.0.get(name) {
            Some(AttributeValue::S(value)) => Ok(value),
            _ => Err(malformed(name)),
        }
    }

    /// A string attribute parsed into `T`.
    pub fn parse<T: FromStr>(&self, name: &str) -> StoreResult<T> {
        self.s(name)?.parse().map_err(|_| malformed(name))
    }

    /// A string attribute holding JSON, decoded into `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> StoreResult<T> {
        serde_json::from_str(self.s(name)?).map_err(|_| malformed(name))
    }

    /// A number attribute that is a count (0 to `u32::MAX`).
    pub fn count(&self, name: &str) -> StoreResult<u32> {
        u32::try_from(self.n(name)?).map_err(|_| malformed(name))
    }

    /// A number attribute holding Unix seconds.
    pub fn timestamp(&self, name: &str) -> StoreResult<crate::domain::Timestamp> {
        crate::domain::Timestamp::from_unix(self.n(name)?).ok_or_else(|| malformed(name))
    }

    /// A number attribute.
    pub fn n(&self, name: &str) -> StoreResult<i64> {
        match self.0.get(name) {
            Some(AttributeValue::N(value)) => value.parse().map_err(|_| malformed(name)),
            _ => Err(malformed(name)),
        }
    }
}

/// The error of an item whose attribute `name` is missing or malformed.
pub(super) fn malformed(name: &str) -> StoreError {
    StoreError::Unexpected(anyhow::anyhow!("stored item has a missing or malformed `{name}`"))
}

/// A string attribute value.
pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute value.
pub(super) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
