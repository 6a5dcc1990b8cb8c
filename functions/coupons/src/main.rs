//! The coupons Lambda: build the state once per cold start, then serve the router.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::serve("coupons", coupons::router).await
}
