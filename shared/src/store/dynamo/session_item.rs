//! Sessions: `USER#<uid>/SESSION#<sid>`, in their user's partition (so a role change finds
//! every session of the account with one strongly consistent Query), expiring through the
//! table's `ttl` attribute. A session holds the identity every authenticated request uses.

use super::keys;
use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::attrs::{Item, n, s};
use crate::{
    domain::{Email, Timestamp},
    store::{Session, StoreError, StoreResult},
};

pub(super) fn to_item(session: &Session) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        ("PK".into(), s(keys::user(session.user_id))),
        ("SK".into(), s(keys::session(session.id))),
        ("session_id".into(), s(session.id.to_string())),
        ("user_id".into(), s(session.user_id.to_string())),
        ("email".into(), s(session.email.as_str())),
        ("role".into(), s(session.role.as_str())),
        ("refresh_jti".into(), s(session.refresh_jti.to_string())),
        ("created_at".into(), s(session.created_at.to_string())),
        ("ttl".into(), n(session.expires_at.unix())),
    ]);
    if let Some((jti, at)) = session.previous_jti {
        item.insert("previous_jti".into(), s(jti.to_string()));
        item.insert("rotated_at".into(), n(at.unix()));
    }
    item
}

fn timestamp(seconds: i64, name: &str) -> StoreResult<Timestamp> {
    Timestamp::from_unix(seconds)
        .ok_or_else(|| StoreError::Unexpected(anyhow::anyhow!("session {name} out of range")))
}

impl TryFrom<&Item> for Session {
    type Error = StoreError;

    fn try_from(item: &Item) -> StoreResult<Self> {
        let unexpected = |e: time::error::Parse| StoreError::Unexpected(e.into());
        let previous_jti = match item.0.get("previous_jti") {
            None => None,
            Some(_) => {
                Some((item.parse("previous_jti")?, timestamp(item.n("rotated_at")?, "rotated_at")?))
            }
        };
        Ok(Session {
            id: item.parse("session_id")?,
            user_id: item.parse("user_id")?,
            email: Email::parse(item.s("email")?).map_err(|e| StoreError::Unexpected(e.into()))?,
            role: item.parse("role")?,
            refresh_jti: item.parse("refresh_jti")?,
            previous_jti,
            created_at: Timestamp::parse(item.s("created_at")?).map_err(unexpected)?,
            expires_at: timestamp(item.n("ttl")?, "ttl")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Role, SessionId, TokenId, UserId};

    #[test]
    fn round_trips_with_ttl_in_epoch_seconds_and_the_previous_token() {
        let created_at = Timestamp::parse("2026-05-01T00:00:00Z").unwrap();
        let mut session = Session {
            id: SessionId::new(),
            user_id: UserId::new(),
            email: Email::parse("ann@example.com").unwrap(),
            role: Role::PrimeCustomer,
            refresh_jti: TokenId::new(),
            previous_jti: None,
            created_at,
            expires_at: created_at.plus_seconds(3600),
        };
        let item = Item(to_item(&session));
        assert_eq!(item.n("ttl").unwrap(), created_at.unix() + 3600);
        assert_eq!(item.s("PK").unwrap(), format!("USER#{}", session.user_id));
        assert_eq!(Session::try_from(&item).unwrap(), session);

        session.previous_jti = Some((TokenId::new(), created_at.plus_seconds(60)));
        assert_eq!(Session::try_from(&Item(to_item(&session))).unwrap(), session);
    }
}
