//! The e-mail worker on both stores, with a recording mailer: one e-mail per order event
//! however often it is delivered, retries after a failed send, malformed messages, the crash
//! window between sending and marking; and the Lambda path with the sample SQS batches.

use aws_lambda_events::event::sqs::SqsEvent;
use axum::http::StatusCode;
use e2e::{TestApp, both_stores, invoke_sqs_event};
use shared::metrics::Recorder;
use shared::{
    domain::{OrderEvent, Timestamp},
    notify::{
        mail::RecordingMailer,
        worker::{Delivery, DeliveryError, EmailWorker},
    },
    store::{Claim, EmailClaim, EmailMarker},
};

const SENDER: &str = "orders@shop.example";

/// Places an order of 2 × a mug for a new customer; returns (admin token, order id). The SKU
/// comes from the e-mail's first letter (ann → MUG-A), one product per customer.
async fn placed(app: &TestApp, email: &str) -> (String, String) {
    let sku = format!("MUG-{}", email[..1].to_ascii_uppercase());
    let placed = e2e::place_order(app, email, "Mug <Small> & \"Co\" — Café", &sku, "8.00", 2).await;
    (placed.admin, placed.order["id"].as_str().expect("id").to_owned())
}

fn parsed(raw: &[u8]) -> (String, String, String) {
    let message = mail_parser::MessageParser::default().parse(raw).expect("MIME");
    (
        message.subject().unwrap_or_default().to_owned(),
        message.body_text(0).unwrap_or_default().into_owned(),
        message.body_html(0).unwrap_or_default().into_owned(),
    )
}

fn body(event: &OrderEvent) -> String {
    serde_json::to_string(event).expect("json")
}

/// The shop's name and currency as the e-mails show them by default.
static BRANDING: std::sync::LazyLock<shared::domain::Branding> =
    std::sync::LazyLock::new(shared::domain::Branding::default);

fn worker<'a>(app: &'a TestApp, mailer: &'a RecordingMailer) -> EmailWorker<'a> {
    EmailWorker { store: app.store.as_ref(), mailer, sender: SENDER, branding: &BRANDING }
}

/// Claims `event`'s e-mail at `at` as a worker does (a claim goes stale after 120 s).
async fn claim(app: &TestApp, event: &OrderEvent, at: Timestamp) -> EmailClaim {
    let marker = EmailMarker { order: event.order_id, event: &event.name() };
    app.store.claim_email(marker, Claim::new(at, 120)).await.expect("claim")
}

/// The sample batch `events/<name>.json` filled in for `placed` and a shipped event id.
fn sample_batch(name: &str, placed: &OrderEvent, shipped_id: &str) -> SqsEvent {
    let (order, user) = (placed.order_id.to_string(), placed.user_id.to_string());
    let id = placed.id.to_string();
    let values = [
        ("placed_event_id", id.as_str()),
        ("shipped_event_id", shipped_id),
        ("order_id", order.as_str()),
        ("user_id", user.as_str()),
    ];
    invoke_sqs_event(name, &values)
}

async fn each_order_event_sends_exactly_one_e_mail(app: TestApp) {
    let (admin, order) = placed(&app, "ann@shop.test").await;
    let mailer = RecordingMailer::default();
    let worker = worker(&app, &mailer);
    let placed_event = app.events.recorded()[0].clone();
    assert_eq!(worker.deliver(&body(&placed_event)).await.expect("delivered"), Delivery::Sent);
    // Delivered again (SQS is at-least-once), and once more: nothing more is sent.
    for _ in 0..2 {
        assert_eq!(
            worker.deliver(&body(&placed_event)).await.expect("delivered"),
            Delivery::AlreadySent
        );
    }
    let sent = mailer.recorded();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "ann@shop.test");
    let (subject, text, html) = parsed(&sent[0].1);
    assert!(subject.contains(&order), "{subject}");
    assert!(
        text.contains("Mug <Small> & \"Co\" — Café (SKU MUG-A) x 2 at €8.00 = €16.00"),
        "{text}"
    );
    assert!(text.contains("To pay: €16.00"));
    assert!(html.contains("Mug &lt;Small&gt; &amp; &quot;Co&quot; — Café"), "{html}");

    // A status change is a new event: a second e-mail, naming the new status.
    let shipped = app.set_status(&admin, &order, "Shipped").await;
    assert_eq!(shipped.status, StatusCode::OK);
    let shipped_event = app.events.recorded()[1].clone();
    assert_eq!(worker.deliver(&body(&shipped_event)).await.expect("delivered"), Delivery::Sent);
    assert_eq!(
        worker.deliver(&body(&shipped_event)).await.expect("delivered"),
        Delivery::AlreadySent
    );
    let sent = mailer.recorded();
    assert_eq!(sent.len(), 2);
    let (subject, text, _) = parsed(&sent[1].1);
    assert!(subject.contains("is now Shipped"), "{subject}");
    assert!(text.contains("from Pending to Shipped"));
}

async fn a_failed_send_is_retried_and_then_sent_once(app: TestApp) {
    placed(&app, "ann@shop.test").await;
    let mailer = RecordingMailer::default();
    let worker = worker(&app, &mailer);
    let event = app.events.recorded()[0].clone();
    mailer.set_failing(true);
    assert!(matches!(worker.deliver(&body(&event)).await, Err(DeliveryError::Mail(_))));
    mailer.set_failing(false);
    // The failed attempt released its claim: the retry sends at once.
    assert_eq!(worker.deliver(&body(&event)).await.expect("retried"), Delivery::Sent);
    assert_eq!(worker.deliver(&body(&event)).await.expect("again"), Delivery::AlreadySent);
    assert_eq!(mailer.recorded().len(), 1);
}

async fn malformed_messages_and_unknown_orders_fail_without_sending(app: TestApp) {
    placed(&app, "ann@shop.test").await;
    let mailer = RecordingMailer::default();
    let worker = worker(&app, &mailer);
    let mut unknown = app.events.recorded()[0].clone();
    unknown.order_id = shared::domain::OrderId::new();
    for bad in ["not json", "{}", r#"{"type":"order_exploded"}"#, "[1,2]"] {
        assert!(matches!(worker.deliver(bad).await, Err(DeliveryError::Malformed(_))), "{bad}");
    }
    assert!(matches!(worker.deliver(&body(&unknown)).await, Err(DeliveryError::UnknownOrder(_))));
    assert!(mailer.recorded().is_empty());
}

async fn a_crash_between_sending_and_marking_resends_after_the_lease_only(app: TestApp) {
    let (admin, order) = placed(&app, "ann@shop.test").await;
    app.set_status(&admin, &order, "Cancelled").await;
    let events = app.events.recorded();
    let mailer = RecordingMailer::default();
    let worker = worker(&app, &mailer);
    let now = Timestamp::now();
    // A worker claimed "placed" 10 minutes ago and died (sent or not, unknown): the claim
    // is stale, so the redelivered message sends it — the one case of a possible duplicate.
    let old = now.plus_seconds(-600);
    assert_eq!(claim(&app, &events[0], old).await, EmailClaim::Claimed);
    assert_eq!(worker.deliver(&body(&events[0])).await.expect("delivered"), Delivery::Sent);
    // A worker claimed "cancelled" a moment ago and is still sending: this delivery backs
    // off (the message is retried later) and sends nothing.
    assert_eq!(claim(&app, &events[1], now).await, EmailClaim::Claimed);
    assert!(matches!(worker.deliver(&body(&events[1])).await, Err(DeliveryError::InFlight)));
    assert_eq!(mailer.recorded().len(), 1);
}

async fn the_lambda_reports_exactly_the_failed_messages(app: TestApp) {
    placed(&app, "ann@shop.test").await;
    let placed_event = app.events.recorded()[0].clone();
    let mailer = RecordingMailer::default();
    let worker = worker(&app, &mailer);
    let metrics = Recorder::default();
    let counted = |name| metrics.total("deliver", name);
    let shipped_id = shared::domain::EventId::new().to_string();

    let good = sample_batch("order-emails-batch", &placed_event, &shipped_id);
    let response = order_emails::handle(&worker, &metrics, good).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(mailer.recorded().len(), 2, "placed and shipped");
    assert_eq!(counted("EmailsSent"), 2.0);

    // The good message of the poison batch was sent before: nothing new, and only the
    // poison message is reported.
    let poison = sample_batch("order-emails-poison-batch", &placed_event, &shipped_id);
    let response = order_emails::handle(&worker, &metrics, poison).await;
    let failed: Vec<_> =
        response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["f00dbad0-1111-4222-8333-944455556666"]);
    assert_eq!(mailer.recorded().len(), 2);
    assert_eq!((counted("EmailsDuplicateSuppressed"), counted("EmailsFailed")), (1.0, 1.0));

    // While the mail service is down, every message of a batch of new events is reported.
    placed(&app, "bob@shop.test").await;
    let bobs = app.events.recorded().last().cloned().expect("event");
    mailer.set_failing(true);
    let batch = || sample_batch("order-emails-batch", &bobs, &shipped_id);
    let response = order_emails::handle(&worker, &metrics, batch()).await;
    assert_eq!(response.batch_item_failures.len(), 2, "{response:?}");
    assert_eq!(counted("EmailsFailed"), 3.0);
    mailer.set_failing(false);
    let response = order_emails::handle(&worker, &metrics, batch()).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(mailer.recorded().len(), 4);
    assert_eq!(counted("EmailsSent"), 4.0);
}

both_stores!(
    each_order_event_sends_exactly_one_e_mail,
    a_failed_send_is_retried_and_then_sent_once,
    malformed_messages_and_unknown_orders_fail_without_sending,
    a_crash_between_sending_and_marking_resends_after_the_lease_only,
    the_lambda_reports_exactly_the_failed_messages,
);
