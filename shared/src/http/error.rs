//! The JSON error envelope every failure answers with.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::{
    domain::{ErrorCode, FieldErrors},
    store::StoreError,
};

/// Every error a client can see: a status and the envelope (README, "Architecture"),
/// `{"message": …, "error": <stable code>, "errors": {field: [...]}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    errors: Option<FieldErrors>,
    retry_after_seconds: Option<u32>,
    detail: Option<Box<(&'static str, serde_json::Value)>>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    message: &'a str,
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a FieldErrors>,
}

impl ApiError {
    /// An error with this status, stable code and human sentence.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            errors: None,
            retry_after_seconds: None,
            detail: None,
        }
    }

    /// The same error with one more machine-readable member in the envelope (for example the
    /// SKUs a checkout lacks).
    pub fn with_detail(mut self, name: &'static str, value: serde_json::Value) -> Self {
        self.detail = Some(Box::new((name, value)));
        self
    }

    /// 400 with the per-field messages.
    pub fn validation(errors: FieldErrors) -> Self {
        Self {
            errors: Some(errors),
            ..Self::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::ValidationError,
                "The request has invalid fields",
            )
        }
    }

    /// 400.
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401.
    pub fn unauthorized(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }

    /// 404.
    pub fn not_found(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 409.
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 413: the body is over [`super::MAX_BODY_BYTES`].
    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "The request body is larger than 64 KiB",
        )
    }

    /// 503 with `Retry-After`: a dependency asked us to slow down.
    pub fn unavailable() -> Self {
        Self {
            retry_after_seconds: Some(1),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::ServiceBusy,
                "The service is busy; retry shortly",
            )
        }
    }

    /// The same error with `Retry-After: seconds`.
    pub fn with_retry_after(mut self, seconds: u32) -> Self {
        self.retry_after_seconds = Some(seconds.max(1));
        self
    }

    /// 500. The cause is logged with its context here and never sent to the client.
    pub fn internal(cause: anyhow::Error) -> Self {
        tracing::error!(error = format!("{cause:#}"), "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InternalError,
            "Something went wrong on our side",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let envelope = Envelope {
            message: &self.message,
            error: self.code.as_str(),
            errors: self.errors.as_ref(),
        };
        let mut body = serde_json::to_value(envelope).unwrap_or_default();
        if let (Some(detail), Some(members)) = (self.detail, body.as_object_mut()) {
            let (name, value) = *detail;
            members.insert(name.to_owned(), value);
        }
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after_seconds {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        Self::validation(errors)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::not_found(ErrorCode::NotFound, "Not found"),
            StoreError::Conflict(conflict) => {
                Self::conflict(conflict.code(), "The request conflicts with the current state")
            }
            StoreError::Throttled => Self::unavailable(),
            StoreError::Unavailable(cause) => {
                tracing::error!(error = format!("{cause:#}"), "the database did not answer");
                Self::unavailable()
            }
            StoreError::Unexpected(cause) => Self::internal(cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;

    use super::*;

    async fn body(error: ApiError) -> (StatusCode, Option<HeaderValue>, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let retry = response.headers().get(header::RETRY_AFTER).cloned();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, retry, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn validation_errors_list_fields() {
        let mut errors = FieldErrors::new();
        errors.add("email", "is required");
        let (status, _, json) = body(ApiError::validation(errors)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(json["error"], "validation_error");
        assert_eq!(json["errors"]["email"][0], "is required");
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let (status, _, json) =
            body(ApiError::internal(anyhow::anyhow!("table arn:aws:secret exploded"))).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!json.to_string().contains("arn:aws"));
        assert!(json.get("errors").is_none());
    }

    #[tokio::test]
    async fn throttling_becomes_503_with_retry_after() {
        let (status, retry, json) = body(StoreError::Throttled.into()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry, Some(HeaderValue::from(1)));
        assert_eq!(json["error"], "service_busy");
    }
}
