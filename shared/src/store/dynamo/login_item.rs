//! Login attempts per e-mail address: `failures` and `window_ends` on the account's e-mail
//! item (`EMAIL#<email>/EMAIL`), or, for an address without an account,
//! `LOGIN#<email>/FAILURES` with `ttl` at the window's end so the table sweeps it.

use super::attrs::Item;
use crate::{
    domain::Timestamp,
    store::{LoginFailures, StoreError, StoreResult},
};

impl TryFrom<&Item> for LoginFailures {
    type Error = StoreError;

    fn try_from(item: &Item) -> StoreResult<Self> {
        let count = u32::try_from(item.n("failures")?)
            .map_err(|_| StoreError::Unexpected(anyhow::anyhow!("login failures out of range")))?;
        let window_ends = Timestamp::from_unix(item.n("window_ends")?)
            .ok_or_else(|| StoreError::Unexpected(anyhow::anyhow!("login window out of range")))?;
        Ok(LoginFailures { count, window_ends })
    }
}
