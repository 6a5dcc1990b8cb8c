//! The order-webhooks Lambda's handler against moto (DynamoDB, SNS, SQS) and a receiver on
//! loopback that fails first, then accepts: the checkout's event reaches the webhook queue
//! through the fan-out; the failed attempt's message is reported and hidden until its retry is
//! due (the backoff is the queue's visibility), then delivered. And the local server's
//! in-process pipeline doing the same with timers.

use std::{sync::Arc, time::Duration};

use axum::http::StatusCode;
use e2e::{Backend, TestApp, fanout::FanOut, receiver::Receiver};
use order_webhooks::SqsDelay;
use serde_json::{Value, json};
use shared::{
    domain::UrlPolicy,
    webhooks::{HttpSender, deliver::WebhookWorker},
};

async fn subscribe(app: &TestApp, admin: &str, url: &str) -> String {
    let body = json!({ "url": url, "events": ["order.placed"] });
    let created = app.post("/admin/webhooks", Some(admin), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    created.json["webhook"]["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn a_failed_delivery_waits_in_the_queue_until_its_retry_is_due() {
    let fan_out = FanOut::new(&["order-emails", "order-webhooks"]).await;
    let store = e2e::store(Backend::Dynamo).await;
    let state = shared::AppState::new(Arc::clone(&store), e2e::token_config())
        .with_events(Arc::new(fan_out.publisher()))
        .with_webhook_policy(UrlPolicy::AllowLoopback);
    let app = TestApp { router: local::app(state), ..TestApp::over(store, Backend::Dynamo) };
    let admin = app.admin().await;
    let receiver = Receiver::start(&[502]).await;
    subscribe(&app, &admin, &receiver.url).await;
    e2e::place_order(&app, "queued@example.com", "Mug", "QHOOK-1", "3.00", 1).await;

    let sender = HttpSender::new(UrlPolicy::AllowLoopback).expect("client");
    let worker = WebhookWorker::new(app.store.as_ref(), &sender, 2);
    let delay = SqsDelay { client: fan_out.sqs.clone(), queue_url: fan_out.queues[1].clone() };
    let batch = fan_out.receive(1).await;
    assert_eq!(batch.records.len(), 1);
    let id = batch.records[0].message_id.clone().expect("id");
    let response = order_webhooks::handle(&worker, &delay, &shared::metrics::Discard, batch).await;
    let failed: Vec<_> =
        response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    assert_eq!(failed, std::slice::from_ref(&id), "reported for a retry");
    assert_eq!(receiver.received().len(), 1);

    // Hidden for the backoff (2 s), not the queue's 180 s visibility timeout.
    assert!(fan_out.receive(1).await.records.is_empty(), "invisible until the retry is due");
    // SQS's own timer (moto's) makes it visible again: polled, with no margin to guess.
    let again = visible_again(&fan_out, 1, Duration::from_secs(15)).await;
    assert_eq!(again.records.iter().filter_map(|m| m.message_id.clone()).collect::<Vec<_>>(), [id]);
    let count = again.records[0].attributes.get("ApproximateReceiveCount").map(String::as_str);
    assert_eq!(count, Some("2"), "the second receive, as SQS counts it");
    let response = order_webhooks::handle(&worker, &delay, &shared::metrics::Discard, again).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(receiver.received().len(), 2);

    // The e-mail queue got the same event, untouched by the webhook worker.
    assert_eq!(fan_out.receive(0).await.records.len(), 1);
}

/// The local server's consumers: e-mails into `outbox`, webhooks to loopback receivers
/// retried after 1 s, redelivered as `redelivery` says.
fn consumers(outbox: &std::path::Path, redelivery: local::Redelivery) -> local::Consumers {
    local::Consumers {
        outbox: shared::notify::mail::EmlFolder::new(outbox),
        sender: "orders@shop.localhost".into(),
        branding: shared::domain::Branding::default(),
        webhooks: Arc::new(HttpSender::new(UrlPolicy::AllowLoopback).expect("client")),
        retry_base_seconds: 1,
        redelivery,
    }
}

#[tokio::test]
async fn the_local_pipeline_retries_on_a_timer_until_the_receiver_accepts() {
    let outbox = std::env::temp_dir().join(format!("shop-outbox-{}", ulid::Ulid::new()));
    let store = e2e::store(Backend::Memory).await;
    let consumers = consumers(&outbox, local::Redelivery::default());
    let queue =
        local::in_process_queue(Arc::clone(&store), consumers, Arc::new(shared::metrics::Discard));
    let state = shared::AppState::new(Arc::clone(&store), e2e::token_config())
        .with_events(queue)
        .with_webhook_policy(UrlPolicy::AllowLoopback);
    let app = TestApp { router: local::app(state), ..TestApp::over(store, Backend::Memory) };
    let admin = app.admin().await;
    let receiver = Receiver::start(&[500]).await;
    let webhook = subscribe(&app, &admin, &receiver.url).await;
    let placed = e2e::place_order(&app, "local@example.com", "Mug", "LHOOK-1", "3.00", 1).await;

    let received = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 2, "failed once, retried about a second later");
    let body: Value = serde_json::from_slice(&received[1].body).expect("json");
    assert_eq!(body["data"]["order"]["id"], placed.order["id"]);
    // Recorded as delivered (polled: the worker records the answer just after it), so no
    // later attempt is made: a claim of a delivered record is refused.
    let log = format!("/admin/webhooks/{webhook}/deliveries");
    let mut record = Value::Null;
    for _ in 0..100 {
        record = app.get(&log, Some(&admin)).await.json["deliveries"][0].clone();
        if record["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        (record["state"].as_str(), record["attempts"].as_u64()),
        (Some("delivered"), Some(2))
    );
    assert_eq!(receiver.received().len(), 2);
    let _ = std::fs::remove_dir_all(outbox);
}

/// Waits (up to 10 s) until `done` holds.
async fn eventually(done: impl Fn() -> bool) -> bool {
    for _ in 0..200 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

/// The local pipeline redelivers a failed e-mail after the visibility timeout, as SQS does:
/// an outbox folder that cannot be written fails the first receive, and the e-mail is written
/// once it can be. An event that fails every receive (its order does not exist) is set aside
/// after the last one: counted, and written to `<outbox>/dead-letters/`.
#[tokio::test]
async fn the_local_pipeline_redelivers_then_dead_letters_like_sqs() {
    use shared::{
        domain::{EventId, OrderEvent, OrderEventKind, OrderId, Timestamp, UserId},
        notify::EventPublisher,
    };
    let outbox = std::env::temp_dir().join(format!("shop-outbox-{}", ulid::Ulid::new()));
    // A file where the folder should be: writing an e-mail fails until it is removed.
    std::fs::write(&outbox, b"not a folder").expect("blocking file");
    let store = e2e::store(Backend::Memory).await;
    let metrics = Arc::new(shared::metrics::Recorder::default());
    let redelivery = local::Redelivery {
        visibility_timeout: Duration::from_millis(300),
        email_receives: 3,
        webhook_receives: 3,
    };
    let consumers = consumers(&outbox, redelivery);
    let sink: Arc<dyn shared::metrics::MetricsSink> = metrics.clone();
    let queue = local::in_process_queue(Arc::clone(&store), consumers, sink);
    let state = shared::AppState::new(Arc::clone(&store), e2e::token_config())
        .with_events(queue.clone())
        .with_webhook_policy(UrlPolicy::AllowLoopback);
    let app = TestApp { router: local::app(state), ..TestApp::over(store, Backend::Memory) };
    let placed = e2e::place_order(&app, "redeliver@example.com", "Mug", "RD-1", "3.00", 1).await;
    let failed = || metrics.total("deliver", "EmailsFailed");
    assert!(eventually(|| failed() >= 1.0).await, "the first receive failed");
    std::fs::remove_file(&outbox).expect("unblocked");
    let sent = || metrics.total("deliver", "EmailsSent");
    assert!(eventually(|| sent() == 1.0).await, "sent on a later receive");
    let id = placed.order["id"].as_str().expect("id");
    assert!(outbox.join(format!("{id}-placed.eml")).exists());
    assert_eq!(metrics.total("order-emails", "EventsDeadLettered"), 0.0);

    let ghost = OrderEvent {
        id: EventId::new(),
        order_id: OrderId::new(),
        user_id: UserId::new(),
        kind: OrderEventKind::OrderPlaced,
        at: Timestamp::now(),
    };
    let before = failed();
    queue.publish(&ghost).await.expect("queued");
    let letter = outbox.join("dead-letters").join(format!("order-emails-{}.json", ghost.id));
    assert!(eventually(|| letter.exists()).await, "dead-lettered");
    assert_eq!(failed() - before, 3.0, "received exactly three times");
    assert_eq!(metrics.total("order-emails", "EventsDeadLettered"), 1.0);
    let letter: Value =
        serde_json::from_str(&std::fs::read_to_string(letter).expect("letter")).expect("json");
    assert_eq!(
        (letter["queue"].as_str(), letter["receives"].as_u64()),
        (Some("order-emails"), Some(3))
    );
    let _ = std::fs::remove_dir_all(outbox);
}

/// The next non-empty batch of queue `index`, polled until `within` has passed (a queue's
/// visibility timer is SQS's, not the test's to advance).
async fn visible_again(
    fan_out: &FanOut,
    index: usize,
    within: Duration,
) -> aws_lambda_events::event::sqs::SqsEvent {
    let deadline = std::time::Instant::now() + within;
    loop {
        let batch = fan_out.receive(index).await;
        if !batch.records.is_empty() || std::time::Instant::now() > deadline {
            return batch;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
