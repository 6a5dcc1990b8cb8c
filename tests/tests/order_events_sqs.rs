//! Order events through the real SQS publisher, against moto: a checkout and a status change
//! each put one message on the queue, carrying the event; with the queue gone, the checkout
//! still succeeds and its event waits in the outbox.

use std::sync::Arc;

use axum::http::StatusCode;
use e2e::{Backend, TestApp};
use shared::{
    domain::{OrderEvent, OrderEventKind, OrderStatus},
    notify::SqsPublisher,
};

async fn sqs() -> aws_sdk_sqs::Client {
    assert!(std::env::var_os("AWS_ENDPOINT_URL").is_some(), "run through scripts/test.sh");
    aws_sdk_sqs::Client::new(&aws_config::load_from_env().await)
}

async fn queue(client: &aws_sdk_sqs::Client) -> String {
    let name = format!("order-events-{}", ulid::Ulid::new());
    let created = client.create_queue().queue_name(name).send().await.expect("queue");
    created.queue_url().expect("url").to_owned()
}

async fn received(client: &aws_sdk_sqs::Client, url: &str) -> Vec<OrderEvent> {
    let output = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    output
        .messages()
        .iter()
        .map(|m| serde_json::from_str(m.body().expect("body")).expect("an order event"))
        .collect()
}

async fn order_placed(app: &TestApp) -> (String, String) {
    let placed = e2e::place_order(app, "buyer@shop.test", "Mug", "MUG", "8.00", 1).await;
    (placed.admin, placed.order["id"].as_str().expect("id").to_owned())
}

#[tokio::test]
async fn each_committed_event_reaches_the_queue_once() {
    let client = sqs().await;
    let url = queue(&client).await;
    let store = e2e::store(Backend::Dynamo).await;
    let app = TestApp::publishing_to(
        store,
        Backend::Dynamo,
        Arc::new(SqsPublisher::new(client.clone(), &url)),
    );
    let (admin, order) = order_placed(&app).await;
    let shipped = app.set_status(&admin, &order, "Shipped").await;
    assert_eq!(shipped.status, StatusCode::OK);

    let mut events = received(&client, &url).await;
    events.extend(received(&client, &url).await);
    events.sort_by_key(|e| e.id);
    let kinds: Vec<_> = events.iter().map(|e| (e.order_id.to_string(), e.kind)).collect();
    assert_eq!(
        kinds,
        [
            (order.clone(), OrderEventKind::OrderPlaced),
            (
                order.clone(),
                OrderEventKind::StatusChanged {
                    from: OrderStatus::Pending,
                    to: OrderStatus::Shipped
                }
            ),
        ]
    );
    assert!(app.store.outbox_events(10).await.expect("outbox").is_empty());
}

#[tokio::test]
async fn with_the_queue_gone_the_order_stands_and_its_event_waits_in_the_outbox() {
    let client = sqs().await;
    let url = queue(&client).await;
    client.delete_queue().queue_url(&url).send().await.expect("deleted");
    let store = e2e::store(Backend::Dynamo).await;
    let app = TestApp::publishing_to(
        store,
        Backend::Dynamo,
        Arc::new(SqsPublisher::new(client.clone(), &url)),
    );
    let (_, order) = order_placed(&app).await;
    let waiting = app.store.outbox_events(10).await.expect("outbox");
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        (waiting[0].order_id.to_string(), waiting[0].kind),
        (order, OrderEventKind::OrderPlaced)
    );
}
