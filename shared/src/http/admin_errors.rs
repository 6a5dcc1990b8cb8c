//! Address-book, audit-trail and webhook errors as API answers.

use super::ApiError;
use crate::domain::ErrorCode;
use crate::{
    addresses::AddressBookError,
    audit::AuditError,
    domain::{FieldErrors, MAX_ADDRESSES, MAX_WEBHOOKS},
    webhooks::WebhookError,
};

impl From<AddressBookError> for ApiError {
    fn from(error: AddressBookError) -> Self {
        match error {
            AddressBookError::NotFound => {
                ApiError::not_found(ErrorCode::AddressNotFound, "Address not found")
            }
            AddressBookError::Full => {
                let mut errors = FieldErrors::new();
                errors.add(
                    "addresses",
                    format!("an account keeps at most {MAX_ADDRESSES} addresses"),
                );
                ApiError::validation(errors)
            }
            AddressBookError::Validation(errors) => ApiError::validation(errors),
            AddressBookError::Busy => ApiError::conflict(
                ErrorCode::AddressesChanged,
                "The address book was changed by another request; try again",
            ),
            AddressBookError::Store(error) => error.into(),
        }
    }
}

impl From<AuditError> for ApiError {
    fn from(error: AuditError) -> Self {
        match error {
            AuditError::Validation(errors) => ApiError::validation(errors),
            AuditError::Store(error) => error.into(),
        }
    }
}

impl From<WebhookError> for ApiError {
    fn from(error: WebhookError) -> Self {
        match error {
            WebhookError::NotFound => {
                ApiError::not_found(ErrorCode::WebhookNotFound, "Webhook not found")
            }
            WebhookError::Full => {
                let mut errors = FieldErrors::new();
                errors.add(
                    "webhooks",
                    format!("a shop has at most {MAX_WEBHOOKS} webhooks; delete one first"),
                );
                ApiError::validation(errors)
            }
            WebhookError::Validation(errors) => ApiError::validation(errors),
            WebhookError::Store(error) => error.into(),
        }
    }
}
