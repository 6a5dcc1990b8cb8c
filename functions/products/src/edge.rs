//! Flushing the API Gateway stage cache after a catalog write.

use async_trait::async_trait;
use axum::{extract::FromRequestParts, http::request::Parts};
use lambda_http::request::RequestContext;
use shared::{
    AppState,
    edge::{ApiStage, EdgeCache},
    metrics::Metric,
};

/// `FlushStageCache` through the AWS SDK (needs `apigateway:DELETE` on the stage's
/// `cache/data`, granted in template.yaml).
pub struct ApiGatewayCache {
    client: aws_sdk_apigateway::Client,
}

impl ApiGatewayCache {
    /// The flusher, with the SDK configuration of the function.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self { client: aws_sdk_apigateway::Client::new(sdk) }
    }
}

#[async_trait]
impl EdgeCache for ApiGatewayCache {
    async fn flush(&self, stage: &ApiStage) -> anyhow::Result<()> {
        self.client
            .flush_stage_cache()
            .rest_api_id(&stage.api_id)
            .stage_name(&stage.stage)
            .send()
            .await?;
        Ok(())
    }
}

/// The API stage that delivered this request (none when not served by API Gateway REST:
/// the local server, tests).
pub struct ServedBy(pub Option<ApiStage>);

impl<S: Send + Sync> FromRequestParts<S> for ServedBy {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let stage = match parts.extensions.get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV1(context)) => context
                .apiid
                .clone()
                .zip(context.stage.clone())
                .map(|(api_id, stage)| ApiStage { api_id, stage }),
            _ => None,
        };
        Ok(ServedBy(stage))
    }
}

/// After a committed write: flush the cache of the stage that served it. A failure is logged
/// and counted (`CacheFlushFailed`, alarmed in template.yaml), not returned: the write
/// happened, and a client told otherwise would retry it.
pub(crate) async fn flush_after_write(state: &AppState, served_by: ServedBy) {
    let Some(stage) = served_by.0 else { return };
    if let Err(error) = state.edge_cache().flush(&stage).await {
        state.metrics().publish("flush_stage_cache", &[Metric::count("CacheFlushFailed")]);
        tracing::error!(
            api = %stage.api_id,
            stage = %stage.stage,
            error = format!("{error:#}"),
            "stage cache flush failed; cached catalog reads may be stale until their TTL"
        );
    }
}
