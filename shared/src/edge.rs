//! The API Gateway response cache in front of the public catalog reads. After a catalog
//! write the function that made it flushes the cache of the stage that served the write, so
//! no reader is served the old product for the rest of the TTL. The local server and the
//! tests have no edge cache.

use async_trait::async_trait;

/// A REST API stage, as named in the request context API Gateway sends with each request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiStage {
    /// The REST API's id.
    pub api_id: String,
    /// The stage name.
    pub stage: String,
}

/// Something that can drop every cached response of a stage.
#[async_trait]
pub trait EdgeCache: Send + Sync {
    /// Drops every cached response of `stage`.
    async fn flush(&self, stage: &ApiStage) -> anyhow::Result<()>;
}

/// No cache in front (local server, tests): nothing to flush.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEdgeCache;

#[async_trait]
impl EdgeCache for NoEdgeCache {
    async fn flush(&self, _: &ApiStage) -> anyhow::Result<()> {
        Ok(())
    }
}
