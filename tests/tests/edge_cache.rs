//! The products function's stage-cache flush through the real API Gateway client, against a
//! loopback endpoint that checks the signed DELETE; a refused flush is counted, and the catalog
//! write it followed still answers as done.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::Credentials;
use axum::{
    Router,
    http::{HeaderMap, Method, StatusCode, Uri},
    routing::any,
};
use e2e::invoke_event;
use products::ApiGatewayCache;
use shared::{
    edge::{ApiStage, EdgeCache},
    metrics::Recorder,
};

/// What the endpoint received: (method, path, headers).
type Seen = Arc<Mutex<Vec<(Method, String, HeaderMap)>>>;

/// An API Gateway stand-in on loopback answering `status` to everything; its requests are kept.
async fn endpoint(status: StatusCode) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let kept = Arc::clone(&seen);
    let app = Router::new().fallback(any(move |method: Method, uri: Uri, headers: HeaderMap| {
        let kept = Arc::clone(&kept);
        async move {
            kept.lock().expect("lock").push((method, uri.path().to_owned(), headers));
            (status, [("content-type", "application/json")], "{}")
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

/// The SDK configuration of a function whose API Gateway endpoint is `url`, one attempt per call.
async fn sdk(url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("AKIDFLUSHTEST", "secret", None, None, "test"))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await
}

#[tokio::test]
async fn a_flush_is_one_signed_delete_of_the_stage_cache() {
    let (url, seen) = endpoint(StatusCode::ACCEPTED).await;
    let cache = ApiGatewayCache::new(&sdk(&url).await);
    let stage = ApiStage { api_id: "abcdef1234".into(), stage: "v1".into() };
    cache.flush(&stage).await.expect("flushed");

    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), 1, "one request");
    let (method, path, headers) = &seen[0];
    assert_eq!(
        (method, path.as_str()),
        (&Method::DELETE, "/restapis/abcdef1234/stages/v1/cache/data")
    );
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let date = headers.get("x-amz-date").and_then(|v| v.to_str().ok()).expect("x-amz-date");
    // SigV4 for API Gateway in the function's region, by the function's credentials, covering
    // the host and the date.
    let scope =
        format!("Credential=AKIDFLUSHTEST/{}/eu-west-1/apigateway/aws4_request", &date[..8]);
    assert!(authorization.starts_with("AWS4-HMAC-SHA256 "), "{authorization}");
    assert!(authorization.contains(&scope), "{authorization}");
    let signed = authorization.split("SignedHeaders=").nth(1).and_then(|s| s.split(',').next());
    let signed: Vec<&str> = signed.unwrap_or("").split(';').collect();
    assert!(signed.contains(&"host") && signed.contains(&"x-amz-date"), "{authorization}");
    let signature = authorization.rsplit("Signature=").next().unwrap_or("");
    assert!(signature.len() == 64 && signature.bytes().all(|b| b.is_ascii_hexdigit()));
}

#[tokio::test]
async fn a_refused_flush_is_counted_and_the_write_still_answers_done() {
    let (url, seen) = endpoint(StatusCode::FORBIDDEN).await;
    let cache = Arc::new(ApiGatewayCache::new(&sdk(&url).await));
    let stage = ApiStage { api_id: "abcdef1234".into(), stage: "v1".into() };
    assert!(cache.flush(&stage).await.is_err(), "a 403 is an error");

    let metrics = Arc::new(Recorder::default());
    let state = e2e::lambda_state().with_edge_cache(cache).with_metrics(metrics.clone());
    let admin = e2e::admin_token(&state).await;
    let router = products::router(state);
    let created =
        invoke_event(&router, "products-create_product", &[("admin_token", &admin)]).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    assert_eq!(seen.lock().expect("lock").len(), 2, "the write asked for a flush");
    assert_eq!(metrics.total("flush_stage_cache", "CacheFlushFailed"), 1.0);
    // A read flushes nothing and counts nothing.
    let listed = invoke_event(&router, "products-all_products", &[]).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(metrics.total("flush_stage_cache", "CacheFlushFailed"), 1.0);
}
