/// A storage failure, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The item to change does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness or state condition failed; the text names which.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The database asked us to slow down.
    #[error("throttled by the database")]
    Throttled,
    /// Anything else: logged with context, never shown to a client.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}
