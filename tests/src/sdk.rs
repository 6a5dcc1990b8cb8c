//! A DynamoDB store on a fresh table whose SDK client runs interceptors of a test's own: to
//! count or inspect the requests the store sends, or to change the answers it gets.

use std::fmt;

use aws_sdk_dynamodb::config::{
    ConfigBag, Intercept, RuntimeComponents, SharedInterceptor,
    interceptors::BeforeTransmitInterceptorContextRef,
};
use shared::store::{DynamoStore, TableSchema, create_table};

/// A store on a new table (named `<prefix>-<ulid>`, created from `template.yaml`) whose client
/// runs `interceptors`, on the endpoint of `AWS_ENDPOINT_URL`.
pub async fn intercepted_store(prefix: &str, interceptors: &[SharedInterceptor]) -> DynamoStore {
    assert!(std::env::var_os("AWS_ENDPOINT_URL").is_some(), "run through scripts/test.sh");
    let sdk = aws_config::load_from_env().await;
    let mut config = aws_sdk_dynamodb::config::Builder::from(&sdk);
    for interceptor in interceptors {
        config.push_interceptor(interceptor.clone());
    }
    let client = aws_sdk_dynamodb::Client::from_conf(config.build());
    let table = format!("{prefix}-{}", ulid::Ulid::new());
    let schema = TableSchema::from_template(local::TEMPLATE_YAML).expect("schema");
    create_table(&client, &table, &schema).await.expect("table");
    DynamoStore::new(client, table)
}

/// An interceptor that shows each request, as it leaves, to a function of the operation's
/// name (`PutItem`, `TransactWriteItems`, …) and the request's JSON body.
pub struct OnRequest<F>(pub &'static str, pub F);

impl<F> fmt::Debug for OnRequest<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OnRequest").field(&self.0).finish()
    }
}

impl<F: Fn(&str, &[u8]) + Send + Sync + 'static> OnRequest<F> {
    /// The interceptor, ready for [`intercepted_store`].
    pub fn shared(name: &'static str, see: F) -> SharedInterceptor {
        SharedInterceptor::new(Self(name, see))
    }
}

impl<F: Fn(&str, &[u8]) + Send + Sync> Intercept for OnRequest<F> {
    fn name(&self) -> &'static str {
        self.0
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let request = context.request();
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or_default();
        (self.1)(operation, request.body().bytes().unwrap_or_default());
        Ok(())
    }
}
