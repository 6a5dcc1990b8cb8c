//! Strict JSON bodies: the right content type, a size limit, unknown fields named.

use crate::domain::ErrorCode;
use axum::{
    extract::{FromRequest, Request},
    http::{HeaderMap, header},
};
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use super::ApiError;
use crate::domain::FieldErrors;

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON request body, read strictly: the content type must be JSON, the body at most
/// [`MAX_BODY_BYTES`], the syntax valid and the shape right. Every failure is an
/// [`ApiError`] in the JSON envelope; axum's plain-text rejections never reach a client.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ApiError> {
        if !has_json_content_type(request.headers()) {
            return Err(not_json());
        }
        let bytes = read_body(request).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A JSON body that may be left out: no body (or an empty one) reads as `T::default()`;
/// a body that is present is read as strictly as by [`JsonBody`].
#[derive(Debug, Clone)]
pub struct OptionalJsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ApiError> {
        let typed = has_json_content_type(request.headers());
        let bytes = read_body(request).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        if !typed {
            return Err(not_json());
        }
        parse_json(&bytes).map(OptionalJsonBody)
    }
}

fn not_json() -> ApiError {
    ApiError::bad_request(
        ErrorCode::UnsupportedMediaType,
        "Expected a JSON body with Content-Type: application/json",
    )
}

/// The body, at most [`MAX_BODY_BYTES`] (413 beyond, by its declared or its real length).
async fn read_body(request: Request) -> Result<axum::body::Bytes, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(ApiError::payload_too_large());
    }
    // Reading can only fail here by passing the limit (bodies are in memory on Lambda).
    axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::payload_too_large())
}

fn has_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a JSON document into `T`, naming the offending field on a shape error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let invalid_json =
        || ApiError::bad_request(ErrorCode::InvalidJson, "The request body is not valid JSON");
    // Syntax first, so a broken document is reported as such rather than as a shape error.
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(|_| invalid_json())?;
    // Every request body of this API is an object; serde would read an array as a tuple.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let mut errors = FieldErrors::new();
        errors.add("body", "must be a JSON object");
        return Err(ApiError::validation(errors));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let inner = error.inner();
        match inner.classify() {
            Category::Data => ApiError::validation(shape_errors(&error.path().to_string(), inner)),
            Category::Syntax | Category::Eof | Category::Io => invalid_json(),
        }
    })?;
    Ok(value)
}

/// Turns serde's message into a field and a sentence: `missing field `email`` at the root
/// becomes `email: is required`; a type error keeps its path.
fn shape_errors(path: &str, error: &serde_json::Error) -> FieldErrors {
    let text = error.to_string();
    // serde_json appends the position; the field name says more to a client.
    let text = text.split(" at line ").next().unwrap_or_default();
    let quoted = |prefix: &str| {
        text.strip_prefix(prefix).and_then(|rest| rest.split('`').nth(1)).map(str::to_owned)
    };
    let mut errors = FieldErrors::new();
    let at = |field: String| {
        if path == "." { field } else { format!("{path}.{field}") }
    };
    if let Some(field) = quoted("missing field ") {
        errors.add(at(field), "is required");
    } else if let Some(field) = quoted("unknown field ") {
        // Here the path already ends at the unknown key.
        let field = if path.ends_with(field.as_str()) { path.to_owned() } else { at(field) };
        errors.add(field, "is not allowed");
    } else if path == "." {
        errors.add("body", text);
    } else {
        errors.add(path, text);
    }
    errors
}

#[cfg(test)]
mod tests {
    use axum::{
        body::Body,
        http::{Request, StatusCode},
    };
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Login {
        email: String,
        password: String,
    }

    async fn extract(content_type: Option<&str>, body: impl Into<Body>) -> Result<Login, ApiError> {
        let mut request = Request::post("/");
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        JsonBody::<Login>::from_request(request.body(body.into()).unwrap(), &()).await.map(|b| b.0)
    }

    #[tokio::test]
    async fn accepts_a_well_formed_body() {
        let login = extract(
            Some("application/json; charset=utf-8"),
            r#"{"email":"a@b.co","password":"x"}"#,
        )
        .await;
        assert_eq!(login.unwrap().email, "a@b.co");
    }

    #[tokio::test]
    async fn classifies_each_bad_input() {
        let code = |r: Result<Login, ApiError>| r.map(|_| ()).unwrap_err();
        let e = code(extract(None, "{}").await);
        assert_eq!(
            (e.status(), e.code().as_str()),
            (StatusCode::BAD_REQUEST, "unsupported_media_type")
        );
        let e = code(extract(Some("text/plain"), "{}").await);
        assert_eq!(e.code().as_str(), "unsupported_media_type");
        let e = code(extract(Some("application/json"), "{\"email\":").await);
        assert_eq!(e.code().as_str(), "invalid_json");
        let e = code(extract(Some("application/json"), "{} trailing").await);
        assert_eq!(e.code().as_str(), "invalid_json");
        let e = code(extract(Some("application/json"), r#"{"email":1,"password":"x"}"#).await);
        assert_eq!(e.code().as_str(), "validation_error");
        let e = code(extract(Some("application/json"), vec![b' '; MAX_BODY_BYTES + 1]).await);
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn names_the_field_at_fault() {
        let field_errors = |json: &str| {
            let error = serde_path_to_error::deserialize::<_, Login>(
                &mut serde_json::Deserializer::from_str(json),
            )
            .unwrap_err();
            shape_errors(&error.path().to_string(), error.inner())
        };
        assert_eq!(field_errors(r#"{"password":"x"}"#).get("email").unwrap(), ["is required"]);
        assert_eq!(
            field_errors(r#"{"email":"a","password":"x","role":"admin"}"#).get("role").unwrap(),
            ["is not allowed"]
        );
        let wrong_type = field_errors(r#"{"email":["a"],"password":"x"}"#);
        assert!(
            wrong_type.get("email").unwrap()[0].starts_with("invalid type: sequence"),
            "{wrong_type:?}"
        );
        let array = parse_json::<Login>(b"[1,2]").unwrap_err();
        assert_eq!(
            (array.status(), array.code().as_str()),
            (StatusCode::BAD_REQUEST, "validation_error")
        );
    }
}
