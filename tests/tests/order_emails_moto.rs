//! Order e-mails end to end against moto (DynamoDB, SNS, SQS, SES) through the real SDKs: a
//! checkout publishes an event to the topic, which puts it on the e-mail queue; the worker runs on the received batch, and the e-mail
//! shows up in SES (read back through moto's `/moto-api/data.json`) addressed to the customer.
//! Also: redelivery sends nothing more, a poison message is the only one reported, and with
//! the topic gone during checkout the e-mail still arrives once it is back.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use axum::http::StatusCode;
use e2e::{Backend, TestApp, fanout::FanOut};
use serde_json::Value;
use shared::{
    domain::Timestamp,
    notify::{mail::SesMailer, relay::republish, worker::EmailWorker},
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SENDER: &str = "orders@shop.example";

fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL: run through scripts/test.sh")
}

async fn clients() -> (aws_sdk_sqs::Client, aws_sdk_sesv2::Client) {
    endpoint();
    let sdk = aws_config::load_from_env().await;
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    // Verified once per moto process; "already exists" afterwards is fine.
    let _ = ses.create_email_identity().email_identity(SENDER).send().await;
    (aws_sdk_sqs::Client::new(&sdk), ses)
}

/// What the SQS trigger does with a batch: the function handles it, then every message not
/// reported as failed is deleted from the queue.
async fn run_worker(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    worker: &EmailWorker<'_>,
    batch: SqsEvent,
) -> aws_lambda_events::event::sqs::SqsBatchResponse {
    let response = order_emails::handle(worker, &shared::metrics::Discard, batch.clone()).await;
    let failed: Vec<_> =
        response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    for message in batch.records {
        let id = message.message_id.unwrap_or_default();
        if !failed.contains(&id) {
            let handle = message.receipt_handle.expect("receipt handle");
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(handle)
                .send()
                .await
                .expect("deleted");
        }
    }
    response
}

/// The raw MIME of every message moto's SES accepted for `to`.
async fn ses_messages(to: &str) -> Vec<String> {
    let address = endpoint().trim_start_matches("http://").trim_end_matches('/').to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.expect("moto");
    let request = format!("GET /moto-api/data.json HTTP/1.0\r\nHost: {address}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("response");
    let text = String::from_utf8_lossy(&response);
    let (_, body) = text.split_once("\r\n\r\n").expect("HTTP response");
    let data: Value = serde_json::from_str(body).expect("data.json");
    data["ses"]["RawMessage"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| {
            m["destinations"]
                .as_array()
                .is_some_and(|d| d.iter().any(|a| a.as_str().is_some_and(|a| a.contains(to))))
        })
        .map(|m| m["raw_data"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn parts(raw: &str) -> (String, String, String) {
    let message = mail_parser::MessageParser::default().parse(raw.as_bytes()).expect("MIME");
    (
        message.subject().unwrap_or_default().to_owned(),
        message.body_text(0).unwrap_or_default().into_owned(),
        message.body_html(0).unwrap_or_default().into_owned(),
    )
}

/// A customer with a unique address places an order; returns (admin, buyer e-mail, order).
async fn checkout(app: &TestApp) -> (String, String, Value) {
    let email = format!("buyer-{}@shop.test", ulid::Ulid::new()).to_lowercase();
    let sku = format!("S-{}", ulid::Ulid::new());
    let placed =
        e2e::place_order(app, &email, "Tasse « Café » <fine> & co", &sku, "12.50", 2).await;
    (placed.admin, placed.email, placed.order)
}

/// A fresh queue, an app publishing to it over a fresh table, and an SES mailer sending
/// through a fresh configuration set (as deployed).
async fn pipeline() -> (aws_sdk_sqs::Client, String, TestApp, SesMailer) {
    let (sqs, ses) = clients().await;
    let fan_out = FanOut::new(&["order-emails"]).await;
    let url = fan_out.queues[0].clone();
    let app = TestApp::publishing_to(
        e2e::store(Backend::Dynamo).await,
        Backend::Dynamo,
        Arc::new(fan_out.publisher()),
    );
    let set = format!("order-emails-{}", ulid::Ulid::new());
    ses.create_configuration_set().configuration_set_name(&set).send().await.expect("set");
    (sqs, url, app, SesMailer::new(ses, SENDER).with_configuration_set(Some(set)))
}

/// The e-mail worker over the app's store, sending through `mailer` with default branding.
fn worker<'a>(app: &'a TestApp, mailer: &'a SesMailer) -> EmailWorker<'a> {
    static BRANDING: std::sync::LazyLock<shared::domain::Branding> =
        std::sync::LazyLock::new(Default::default);
    EmailWorker { store: app.store.as_ref(), mailer, sender: SENDER, branding: &BRANDING }
}

#[tokio::test]
async fn an_order_and_its_status_change_each_reach_the_customer_once() {
    let (sqs, url, app, mailer) = pipeline().await;
    let worker = worker(&app, &mailer);

    let (admin, email, order) = checkout(&app).await;
    let id = order["id"].as_str().expect("id");
    let batch = e2e::fanout::receive(&sqs, &url).await;
    assert_eq!(batch.records.len(), 1);
    let response = run_worker(&sqs, &url, &worker, batch.clone()).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    // The same message delivered twice more: nothing more is sent.
    for _ in 0..2 {
        let response = run_worker(&sqs, &url, &worker, batch.clone()).await;
        assert!(response.batch_item_failures.is_empty());
    }

    // A status change: a second e-mail naming the new status.
    let shipped = app.set_status(&admin, id, "Shipped").await;
    assert_eq!(shipped.status, StatusCode::OK);
    let batch = e2e::fanout::receive(&sqs, &url).await;
    assert_eq!(batch.records.len(), 1);
    assert!(run_worker(&sqs, &url, &worker, batch).await.batch_item_failures.is_empty());

    // SES holds exactly two e-mails for the customer: one per event (moto's data dump is
    // slow on a busy server, so it is read once).
    let sent = ses_messages(&email).await;
    let subjects: Vec<String> = sent.iter().map(|raw| parts(raw).0).collect();
    assert_eq!(sent.len(), 2, "{subjects:?}");
    assert_eq!(
        subjects.iter().filter(|s| s.contains("has been placed")).count(),
        1,
        "{subjects:?}"
    );
    assert_eq!(subjects.iter().filter(|s| s.contains("is now Shipped")).count(), 1, "{subjects:?}");
    assert!(subjects.iter().all(|s| s.contains(id)), "{subjects:?}");
    let placed = sent.iter().find(|raw| parts(raw).0.contains("placed")).expect("placed e-mail");
    let (_, text, html) = parts(placed);
    assert!(text.contains("x 2 at €12.50 = €25.00") && text.contains("To pay: €25.00"), "{text}");
    assert!(html.contains("Tasse « Café » &lt;fine&gt; &amp; co"), "{html}");
}

#[tokio::test]
async fn a_poison_message_is_the_only_one_reported() {
    let (sqs, url, app, mailer) = pipeline().await;
    let worker = worker(&app, &mailer);
    let (_, email, _) = checkout(&app).await;
    let poison = sqs
        .send_message()
        .queue_url(&url)
        .message_body("{\"type\":\"order_exploded\"}")
        .send()
        .await
        .expect("sent");
    let batch = e2e::fanout::receive(&sqs, &url).await;
    assert_eq!(batch.records.len(), 2);
    let response = run_worker(&sqs, &url, &worker, batch).await;
    let failed: Vec<_> =
        response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    assert_eq!(failed, [poison.message_id().expect("id").to_owned()]);
    assert_eq!(ses_messages(&email).await.len(), 1, "the good message was sent");
}

#[tokio::test]
async fn with_the_topic_down_during_checkout_the_e_mail_arrives_once_it_is_back() {
    let (sqs, ses) = clients().await;
    let fan_out = FanOut::new(&["order-emails"]).await;
    let url = fan_out.queues[0].clone();
    let publisher = Arc::new(fan_out.publisher());
    let app = TestApp::publishing_to(
        e2e::store(Backend::Dynamo).await,
        Backend::Dynamo,
        publisher.clone(),
    );
    // The topic goes away: the checkout still succeeds, its event stays in the outbox.
    fan_out.delete_topic().await;
    let (_, email, order) = checkout(&app).await;
    assert_eq!(app.store.outbox_events(10).await.expect("outbox").len(), 1);
    let idle = republish(app.store.as_ref(), publisher.as_ref(), Timestamp::now(), 0, 100)
        .await
        .expect("relay");
    assert_eq!((idle.published, idle.failed), (0, 1), "still down: kept for the next run");

    // The topic is back (same name, same ARN): the next relay run publishes it, the worker
    // sends it, and the outbox is empty.
    fan_out.restore().await;
    let report = republish(app.store.as_ref(), publisher.as_ref(), Timestamp::now(), 0, 100)
        .await
        .expect("relay");
    assert_eq!(report.published, 1);
    assert!(app.store.outbox_events(10).await.expect("outbox").is_empty());
    let mailer = SesMailer::new(ses, SENDER);
    let worker = worker(&app, &mailer);
    let batch = e2e::fanout::receive(&sqs, &url).await;
    assert!(run_worker(&sqs, &url, &worker, batch).await.batch_item_failures.is_empty());
    let sent = ses_messages(&email).await;
    assert_eq!(sent.len(), 1);
    assert!(parts(&sent[0]).0.contains(order["id"].as_str().expect("id")));
}

/// E-mail markers are bookkeeping: DynamoDB's TTL removes them 30 days after their claim.
#[tokio::test]
async fn an_e_mail_marker_expires_thirty_days_after_its_claim() {
    let table = format!("shop-markers-{}", ulid::Ulid::new());
    let store = local::open_dynamo(&table).await.expect("table");
    let (order, at) = (shared::domain::OrderId::new(), Timestamp::now());
    let marker = shared::store::EmailMarker { order, event: "placed" };
    let claim = shared::store::Claim::new(at, 120);
    shared::store::SentEmailStore::claim_email(&store, marker, claim).await.expect("claimed");

    let client = shared::store::DynamoStore::client(&aws_config::load_from_env().await);
    let key = format!("SENT#{order}#placed");
    let item = client
        .get_item()
        .table_name(&table)
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(key))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S("SENT".into()))
        .send()
        .await
        .expect("read")
        .item
        .expect("the marker");
    let ttl = item.get("ttl").and_then(|v| v.as_n().ok()).expect("a ttl attribute");
    assert_eq!(ttl.parse::<i64>().expect("number"), at.unix() + 30 * 86_400);
}
