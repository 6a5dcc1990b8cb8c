//! Order events through the real SNS publisher and the fan-out, against moto: a checkout and a
//! status change each put one message on every consumer's queue (order e-mails, webhooks),
//! carrying the event; with the topic gone, the checkout still succeeds and its event waits
//! in the outbox until the relay publishes it to both queues.

use std::sync::Arc;

use axum::http::StatusCode;
use e2e::{Backend, TestApp, fanout::FanOut};
use shared::{
    domain::{OrderEvent, OrderEventKind, OrderStatus, Timestamp},
    notify::relay::republish,
};

async fn received(fan_out: &FanOut, queue: usize) -> Vec<OrderEvent> {
    let mut events: Vec<OrderEvent> = Vec::new();
    for _ in 0..2 {
        let batch = fan_out.receive(queue).await;
        events.extend(batch.records.iter().map(|m| {
            serde_json::from_str(m.body.as_deref().expect("body")).expect("an order event")
        }));
    }
    events.sort_by_key(|e| e.id);
    events
}

async fn order_placed(app: &TestApp) -> (String, String) {
    let placed = e2e::place_order(app, "buyer@shop.test", "Mug", "MUG", "8.00", 1).await;
    (placed.admin, placed.order["id"].as_str().expect("id").to_owned())
}

#[tokio::test]
async fn each_committed_event_reaches_every_consumer_queue_once() {
    let fan_out = FanOut::new(&["order-emails", "order-webhooks"]).await;
    let store = e2e::store(Backend::Dynamo).await;
    let app = TestApp::publishing_to(store, Backend::Dynamo, Arc::new(fan_out.publisher()));
    let (admin, order) = order_placed(&app).await;
    let shipped = app.set_status(&admin, &order, "Shipped").await;
    assert_eq!(shipped.status, StatusCode::OK);

    let expected = [
        (order.clone(), OrderEventKind::OrderPlaced),
        (
            order.clone(),
            OrderEventKind::StatusChanged { from: OrderStatus::Pending, to: OrderStatus::Shipped },
        ),
    ];
    let emails = received(&fan_out, 0).await;
    let webhooks = received(&fan_out, 1).await;
    let kinds: Vec<_> = emails.iter().map(|e| (e.order_id.to_string(), e.kind)).collect();
    assert_eq!(kinds, expected);
    assert_eq!(emails, webhooks, "both consumers get the same events, as published");
    assert!(app.store.outbox_events(10).await.expect("outbox").is_empty());
}

#[tokio::test]
async fn with_the_topic_gone_the_order_stands_and_its_event_waits_in_the_outbox() {
    let fan_out = FanOut::new(&["order-emails", "order-webhooks"]).await;
    fan_out.delete_topic().await;
    let store = e2e::store(Backend::Dynamo).await;
    let publisher = Arc::new(fan_out.publisher());
    let app = TestApp::publishing_to(store, Backend::Dynamo, publisher.clone());
    let (_, order) = order_placed(&app).await;
    let waiting = app.store.outbox_events(10).await.expect("outbox");
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        (waiting[0].order_id.to_string(), waiting[0].kind),
        (order, OrderEventKind::OrderPlaced)
    );

    fan_out.restore().await;
    let report = republish(app.store.as_ref(), publisher.as_ref(), Timestamp::now(), 0, 100)
        .await
        .expect("relay");
    assert_eq!(report.published, 1);
    assert_eq!(received(&fan_out, 0).await, waiting);
    assert_eq!(received(&fan_out, 1).await, waiting);
}
