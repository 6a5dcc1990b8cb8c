//! The products function's Lambda path: each sample REST (v1) event through lambda_http into
//! its router; every committed admin write flushes the stage cache named in the event.

use std::sync::Arc;

use axum::{Router, http::StatusCode};
use e2e::{RecordingEdgeCache, Reply, invoke_event};
use shared::edge::ApiStage;

#[tokio::test]
async fn every_sample_event_is_answered_and_writes_flush_the_stage_cache() {
    let edge = Arc::new(RecordingEdgeCache::default());
    let state = e2e::lambda_state().with_edge_cache(edge.clone());
    let admin = e2e::admin_token(&state).await;
    let router = products::router(state);
    let flushes = || edge.flushed.lock().expect("lock").len();
    let stage = ApiStage { api_id: "abcdef1234".into(), stage: "v1".into() };

    let created =
        invoke_event(&router, "products-create_product", &[("admin_token", &admin)]).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    let id = created.json["product"]["id"].as_str().expect("id").to_owned();
    assert_eq!(created.json["product"]["variants"][1]["price"], "89.90");
    assert_eq!(*edge.flushed.lock().expect("lock"), std::slice::from_ref(&stage));

    let listed = invoke_event(&router, "products-all_products", &[]).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.json);
    assert_eq!(
        (listed.json["total"].as_u64(), listed.json["products"][0]["id"].as_str()),
        (Some(1), Some(id.as_str()))
    );

    let read = invoke_event(&router, "products-get_product", &[("product_id", &id)]).await;
    assert_eq!((read.status, read.json["name"].as_str()), (StatusCode::OK, Some("Trail shoe")));
    assert_eq!(flushes(), 1, "reads flush nothing");

    let updated = on_product(&router, "products-update_product", &admin, &id).await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.json);
    assert_eq!(updated.json["product"]["variants"].as_array().map(Vec::len), Some(1));
    assert_eq!(flushes(), 2);

    // A refused write (bad token) changes nothing and flushes nothing.
    let refused = on_product(&router, "products-delete_product", "forged", &id).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(flushes(), 2);

    let deleted = on_product(&router, "products-delete_product", &admin, &id).await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.json);
    assert_eq!(*edge.flushed.lock().expect("lock"), vec![stage; 3]);

    let gone = invoke_event(&router, "products-get_product", &[("product_id", &id)]).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

/// The sample event `name` on the product `id`, as the holder of `token`.
async fn on_product(router: &Router, name: &str, token: &str, id: &str) -> Reply {
    invoke_event(router, name, &[("admin_token", token), ("product_id", id)]).await
}
