//! Validation messages by field, as the `errors` member of the error envelope carries them.

use std::collections::BTreeMap;

use serde::Serialize;

/// Validation messages per input field, collected so a client sees every problem at once.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `message` against `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_default().push(message.into());
    }

    /// Keeps the value of `result`, or records its error against `field` and returns `None`.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        result: Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error.to_string());
                None
            }
        }
    }

    /// True when no field has an error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages recorded for `field`.
    pub fn get(&self, field: &str) -> Option<&[String]> {
        self.0.get(field).map(Vec::as_slice)
    }

    /// `Ok(value)` when nothing was recorded, else these errors.
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, FieldErrors> {
        if self.is_empty() { Ok(value()) } else { Err(self) }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields: Vec<&str> = self.0.keys().map(String::as_str).collect();
        write!(f, "invalid fields: {}", fields.join(", "))
    }
}

impl std::error::Error for FieldErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_messages_per_field() {
        let mut errors = FieldErrors::new();
        assert!(errors.is_empty());
        errors.add("email", "is required");
        errors.add("email", "is too long");
        assert_eq!(errors.check::<u8, _>("password", Err("too short")), None);
        assert_eq!(errors.check::<u8, String>("other", Ok(3)), Some(3));
        assert_eq!(errors.get("email").map(<[String]>::len), Some(2));
        assert_eq!(serde_json::to_value(&errors).unwrap()["password"][0], "too short");
        assert!(errors.into_result(|| ()).is_err());
    }
}
