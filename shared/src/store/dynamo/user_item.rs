//! Accounts: `EMAIL#<email>/EMAIL` (unique e-mail, hash, login in one read) and
//! `USER#<uid>/PROFILE` (the account by id).

use super::keys;
use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::attrs::{Item, s};
use crate::{
    domain::{Email, StoredHash, Timestamp, User},
    store::{StoreError, StoreResult, UserRecord},
};

fn user_attrs(user: &User) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("user_id".into(), s(user.id.to_string())),
        ("email".into(), s(user.email.as_str())),
        ("role".into(), s(user.role.as_str())),
        ("created_at".into(), s(user.created_at.to_string())),
    ])
}

pub(super) fn email_item(record: &UserRecord) -> HashMap<String, AttributeValue> {
    let mut item = user_attrs(&record.user);
    item.insert("PK".into(), s(keys::email(&record.user.email)));
    item.insert("SK".into(), s(keys::EMAIL));
    item.insert("password_hash".into(), s(record.password_hash.0.clone()));
    item
}

pub(super) fn profile_item(user: &User) -> HashMap<String, AttributeValue> {
    let mut item = user_attrs(user);
    item.insert("PK".into(), s(keys::user(user.id)));
    item.insert("SK".into(), s(keys::PROFILE));
    item
}

impl TryFrom<&Item> for User {
    type Error = StoreError;

    fn try_from(item: &Item) -> StoreResult<Self> {
        Ok(User {
            id: item.parse("user_id")?,
            email: Email::parse(item.s("email")?).map_err(|e| StoreError::Unexpected(e.into()))?,
            role: item.parse("role")?,
            created_at: Timestamp::parse(item.s("created_at")?)
                .map_err(|e| StoreError::Unexpected(e.into()))?,
        })
    }
}

impl TryFrom<&Item> for UserRecord {
    type Error = StoreError;

    fn try_from(item: &Item) -> StoreResult<Self> {
        Ok(UserRecord {
            user: User::try_from(item)?,
            password_hash: StoredHash(item.s("password_hash")?.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Role, UserId};

    fn record() -> UserRecord {
        UserRecord {
            user: User {
                id: UserId::new(),
                email: Email::parse("Ann@Example.com").unwrap(),
                role: Role::PrimeCustomer,
                created_at: Timestamp::parse("2026-01-02T03:04:05Z").unwrap(),
            },
            password_hash: StoredHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        }
    }

    #[test]
    fn email_item_round_trips_with_its_hash() {
        let record = record();
        let item = Item(email_item(&record));
        assert_eq!(item.s("PK").unwrap(), "EMAIL#ann@example.com");
        assert_eq!(item.s("SK").unwrap(), "EMAIL");
        assert_eq!(UserRecord::try_from(&item).unwrap(), record);
    }

    #[test]
    fn profile_item_round_trips_without_a_hash() {
        let record = record();
        let item = Item(profile_item(&record.user));
        assert_eq!(item.s("PK").unwrap(), format!("USER#{}", record.user.id));
        assert!(item.s("password_hash").is_err());
        assert_eq!(User::try_from(&item).unwrap(), record.user);
    }

    #[test]
    fn a_malformed_item_is_an_error_not_a_panic() {
        let mut item = profile_item(&record().user);
        item.insert("role".into(), s("emperor"));
        assert!(matches!(User::try_from(&Item(item)), Err(StoreError::Unexpected(_))));
    }
}
