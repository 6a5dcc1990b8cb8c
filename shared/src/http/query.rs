//! Query strings: strict on uncached routes, read as the cache key reads them on cached ones.

use crate::domain::ErrorCode;
use axum::{
    extract::{FromRequestParts, Query},
    http::request::Parts,
};
use serde::de::DeserializeOwned;

use super::ApiError;

/// Query-string parameters; a malformed query string (a repeated parameter, bad escapes) is
/// a 400 in the JSON envelope instead of axum's plain-text rejection.
#[derive(Debug, Clone)]
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(params)| Self(params))
            .map_err(|_| {
                ApiError::bad_request(ErrorCode::InvalidQuery, "The query string is malformed")
            })
    }
}

/// Query-string parameters of a route API Gateway caches. The cache key holds only the
/// parameters the route reads, each with its last value (as API Gateway's own
/// `queryStringParameters` does), so this reads them the same way: a repeated parameter's
/// last value wins and unknown parameters are ignored. A request that shares a valid request's
/// cache key then gets the same answer, and no error is ever cached under a valid key.
#[derive(Debug, Clone)]
pub struct CachedQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for CachedQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let malformed =
            || ApiError::bad_request(ErrorCode::InvalidQuery, "The query string is malformed");
        let query = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query).map_err(|_| malformed())?;
        let mut last: Vec<(String, String)> = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            match last.iter_mut().find(|(seen, _)| *seen == name) {
                Some(entry) => entry.1 = value,
                None => last.push((name, value)),
            }
        }
        let canonical = serde_urlencoded::to_string(&last).map_err(|_| malformed())?;
        serde_urlencoded::from_str(&canonical).map(Self).map_err(|_| malformed())
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Params {
        page: Option<String>,
        category: Option<String>,
    }

    async fn cached(query: &str) -> Result<Params, ApiError> {
        let request = Request::get(format!("/x?{query}")).body(()).unwrap();
        let (mut parts, ()) = request.into_parts();
        CachedQuery::<Params>::from_request_parts(&mut parts, &()).await.map(|CachedQuery(p)| p)
    }

    #[tokio::test]
    async fn the_last_value_wins_and_unknown_names_are_ignored() {
        let params = cached("page=1&page=2&Page=9&other=x&category=a%20b").await.unwrap();
        assert_eq!(params, Params { page: Some("2".into()), category: Some("a b".into()) });
        assert_eq!(cached("").await.unwrap(), Params { page: None, category: None });
        // The strict extractor of uncached routes still refuses repeats.
        let request = Request::get("/x?page=1&page=1").body(()).unwrap();
        let (mut parts, ()) = request.into_parts();
        let strict = QueryParams::<Params>::from_request_parts(&mut parts, &()).await;
        assert!(strict.is_err());
    }
}
