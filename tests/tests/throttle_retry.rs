//! A DynamoDB throttle on a cached catalog read is retried within the request (by the SDK's
//! standard retry, as the functions configure it) before the API answers 503, so API Gateway
//! does not cache a transient error for the whole TTL. A stand-in DynamoDB endpoint on
//! loopback throttles the first requests it gets.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
    response::{IntoResponse, Response},
};
use shared::{AppState, store::DynamoStore};
use tower::ServiceExt;

/// Serves DynamoDB's JSON protocol badly on purpose: the first `throttled` requests get
/// `ProvisionedThroughputExceededException`, later ones an empty GetItem answer (no item).
/// Returns the endpoint and the request count.
async fn throttling_endpoint(throttled: usize) -> (String, Arc<AtomicUsize>) {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let app = Router::new().fallback(move || {
        let counter = Arc::clone(&counter);
        async move {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let (status, body) = if n < throttled {
                (
                    StatusCode::BAD_REQUEST,
                    r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"Rate of requests exceeds the allowed throughput."}"#,
                )
            } else {
                (StatusCode::OK, "{}")
            };
            let mut response: Response = (status, body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                "application/x-amz-json-1.0".parse().expect("header"),
            );
            response
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), seen)
}

/// The products function's router over a DynamoStore configured as on Lambda (the SDK's
/// default chain, so its default retry policy), pointed at `endpoint`.
async fn products_over(endpoint: &str) -> Router {
    let sdk = aws_config::from_env()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), "shop");
    products::router(AppState::new(Arc::new(store), e2e::token_config()))
}

async fn get_product(router: &Router) -> e2e::Reply {
    let path = format!("/products/{}", ulid::Ulid::new());
    let request = Request::get(path).body(Body::empty()).expect("request");
    e2e::Reply::read(router.clone().oneshot(request).await.expect("infallible")).await
}

#[tokio::test]
async fn a_transient_throttle_is_retried_within_the_request() {
    let (endpoint, seen) = throttling_endpoint(2).await;
    let router = products_over(&endpoint).await;
    let reply = get_product(&router).await;
    // The product does not exist: the real answer, not a 503 to be cached.
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.json);
    assert_eq!(seen.load(Ordering::SeqCst), 3, "two throttled attempts, then one answered");
}

#[tokio::test]
async fn a_lasting_throttle_answers_503_with_retry_after_after_three_attempts() {
    let (endpoint, seen) = throttling_endpoint(usize::MAX).await;
    let router = products_over(&endpoint).await;
    let reply = get_product(&router).await;
    assert_eq!(reply.outcome(), (StatusCode::SERVICE_UNAVAILABLE, "service_busy"));
    assert!(reply.headers.contains_key(header::RETRY_AFTER));
    assert_eq!(seen.load(Ordering::SeqCst), 3);
}
