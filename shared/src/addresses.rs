//! The caller's address book: list, add, change, remove. Each change reads the book, applies
//! the domain rules and writes the whole book back at the version read (re-reading when a
//! concurrent change came first), so the limit and the single default always hold.

use crate::{
    domain::{
        Address, AddressError, AddressId, AddressInput, FieldErrors, Timestamp, UserId,
        add_address, remove_address, update_address,
    },
    retry::{Attempt, until_answered, with_retries},
    store::{AddressStore, Conflict, StoreError, VersionedWrite},
};

/// How often a change is retried when another change of the same book got there first.
const ATTEMPTS: usize = 4;

/// Why an address-book operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AddressBookError {
    /// Not one of the caller's addresses.
    #[error("address not found")]
    NotFound,
    /// The book holds the most addresses allowed.
    #[error("address book full")]
    Full,
    /// Invalid fields.
    #[error(transparent)]
    Validation(#[from] FieldErrors),
    /// The book kept changing.
    #[error("the address book kept changing")]
    Busy,
    /// A storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AddressError> for AddressBookError {
    fn from(error: AddressError) -> Self {
        match error {
            AddressError::Validation(errors) => Self::Validation(errors),
            AddressError::TooMany => Self::Full,
            AddressError::NotFound => Self::NotFound,
        }
    }
}

/// The address-book operations over a store.
pub struct Addresses<'a> {
    /// The storage.
    pub store: &'a dyn AddressStore,
}

impl Addresses<'_> {
    /// The caller's addresses, oldest first.
    pub async fn list(&self, user: UserId) -> Result<Vec<Address>, AddressBookError> {
        Ok(self.store.addresses(user).await?.addresses)
    }

    /// Adds an address.
    pub async fn add(
        &self,
        user: UserId,
        input: AddressInput,
    ) -> Result<Address, AddressBookError> {
        self.change(user, |book| add_address(book, input.clone(), Timestamp::now())).await
    }

    /// Changes the address with the id in the path (absent fields are kept).
    pub async fn update(
        &self,
        user: UserId,
        id: &str,
        input: AddressInput,
    ) -> Result<Address, AddressBookError> {
        let id: AddressId = id.parse().map_err(|_| AddressBookError::NotFound)?;
        self.change(user, |book| update_address(book, id, input.clone(), Timestamp::now())).await
    }

    /// Removes the address with the id in the path.
    pub async fn remove(&self, user: UserId, id: &str) -> Result<Address, AddressBookError> {
        let id: AddressId = id.parse().map_err(|_| AddressBookError::NotFound)?;
        self.change(user, |book| remove_address(book, id)).await
    }

    /// Reads the book, applies `change` and writes it back at the version read.
    async fn change(
        &self,
        user: UserId,
        change: impl Fn(&mut Vec<Address>) -> Result<Address, AddressError>,
    ) -> Result<Address, AddressBookError> {
        let change = &change;
        let done = with_retries(ATTEMPTS, || async move {
            let stored = self.store.addresses(user).await?;
            let mut book = stored.addresses;
            let changed = change(&mut book)?;
            // Retry safety: conditional on the version read, marked with an id of its own; a
            // write whose answer was lost finds its id on the book read back (see the cart).
            let write_id = crate::domain::new_write_id();
            match self
                .store
                .save_addresses(VersionedWrite {
                    user,
                    version: stored.version,
                    items: &book,
                    write_id: &write_id,
                })
                .await
            {
                Ok(_) => Ok(Attempt::Done(changed)),
                Err(
                    error @ (StoreError::Conflict(Conflict::AddressesChanged)
                    | StoreError::Unavailable(_)),
                ) => {
                    let now = until_answered(|| self.store.addresses(user)).await?;
                    match (now.write_id.as_deref() == Some(write_id.as_str()), error) {
                        (true, _) => Ok(Attempt::Done(changed)),
                        (false, StoreError::Conflict(_)) => Ok(Attempt::Retry),
                        (false, _) => Ok(Attempt::Backoff),
                    }
                }
                Err(other) => Err(AddressBookError::Store(other)),
            }
        })
        .await?;
        done.ok_or(AddressBookError::Busy)
    }
}
