//! Sessions: `SESSION#<sid>/SESSION`, expiring through the table's `ttl` attribute.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::attrs::{Item, n, s};
use crate::{
    domain::{SessionId, Timestamp},
    store::{Session, StoreError},
};

pub const SK: &str = "SESSION";

pub fn pk(id: SessionId) -> String {
    format!("SESSION#{id}")
}

pub fn to_item(session: &Session) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("PK".into(), s(pk(session.id))),
        ("SK".into(), s(SK)),
        ("session_id".into(), s(session.id.to_string())),
        ("user_id".into(), s(session.user_id.to_string())),
        ("refresh_jti".into(), s(session.refresh_jti.to_string())),
        ("created_at".into(), s(session.created_at.to_string())),
        ("ttl".into(), n(session.expires_at.unix())),
    ])
}

pub fn from_item(item: &Item) -> Result<Session, StoreError> {
    let unexpected = |e: time::error::Parse| StoreError::Unexpected(e.into());
    Ok(Session {
        id: item.parse("session_id")?,
        user_id: item.parse("user_id")?,
        refresh_jti: item.parse("refresh_jti")?,
        created_at: Timestamp::parse(item.s("created_at")?).map_err(unexpected)?,
        expires_at: Timestamp::from_unix(item.n("ttl")?)
            .ok_or_else(|| StoreError::Unexpected(anyhow::anyhow!("session ttl out of range")))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{TokenId, UserId};

    #[test]
    fn round_trips_with_ttl_in_epoch_seconds() {
        let created_at = Timestamp::parse("2026-05-01T00:00:00Z").unwrap();
        let session = Session {
            id: SessionId::new(),
            user_id: UserId::new(),
            refresh_jti: TokenId::new(),
            created_at,
            expires_at: created_at.plus_seconds(3600),
        };
        let item = Item(to_item(&session));
        assert_eq!(item.n("ttl").unwrap(), created_at.unix() + 3600);
        assert_eq!(from_item(&item).unwrap(), session);
    }
}
